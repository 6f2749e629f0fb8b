// An independent byte-level BPE encoder for the golden tokenization tests, written from the tokenizer.json spec and
// the GPT-2/Qwen2 algorithm, sharing no code with transformers.js (@huggingface/tokenizers) or @lenml/tokenizers:
//   1. split the text on added tokens (<|im_start|>, <think>, ...; matched verbatim, longest first);
//   2. NFC-normalize the remaining pieces (tokenizer.json "normalizer": NFC);
//   3. pre-tokenize with the Split regex from tokenizer.json (JS has no (?i:...), so the contraction group is spelled
//      out with character classes);
//   4. map each piece's UTF-8 bytes to GPT-2's printable byte alphabet (ByteLevel);
//   5. apply merges by rank (lowest first, all occurrences of the best pair per round), then look up the vocab.
// Slow and simple on purpose; only for tests.
import { readFileSync } from 'node:fs';

const SPLIT = /'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

/** GPT-2's bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards in byte order. */
function bytesToUnicode(): string[] {
  const printable: number[] = [];
  for (let b = 33; b <= 126; b++) printable.push(b);
  for (let b = 161; b <= 172; b++) printable.push(b);
  for (let b = 174; b <= 255; b++) printable.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) map[b] = printable.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + n++);
  return map;
}

export class RefBpe {
  private vocab = new Map<string, number>();
  private ranks = new Map<string, number>();
  private added: { content: string; id: number }[];
  private byteChar = bytesToUnicode();

  constructor(tokenizerJsonPath: string) {
    const t = JSON.parse(readFileSync(tokenizerJsonPath, 'utf8'));
    if (t.model.type !== 'BPE' || t.normalizer?.type !== 'NFC') throw new Error('RefBpe expects a byte-level BPE with NFC (Qwen2/3)');
    for (const [tok, id] of Object.entries(t.model.vocab as Record<string, number>)) this.vocab.set(tok, id);
    (t.model.merges as (string | [string, string])[]).forEach((m, rank) => {
      const [a, b] = typeof m === 'string' ? m.split(' ') : m;
      this.ranks.set(a + '\u0000' + b, rank);
    });
    this.added = (t.added_tokens as { content: string; id: number }[]).map(({ content, id }) => ({ content, id }));
    this.added.sort((x, y) => y.content.length - x.content.length);
  }

  private bpe(piece: string): number[] {
    let syms = Array.from(new TextEncoder().encode(piece), (b) => this.byteChar[b]);
    for (;;) {
      let best = Infinity;
      for (let i = 0; i + 1 < syms.length; i++) {
        const r = this.ranks.get(syms[i] + '\u0000' + syms[i + 1]);
        if (r !== undefined && r < best) best = r;
      }
      if (best === Infinity) break;
      const next: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && this.ranks.get(syms[i] + '\u0000' + syms[i + 1]) === best) {
          next.push(syms[i] + syms[i + 1]);
          i++;
        } else next.push(syms[i]);
      }
      syms = next;
    }
    return syms.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw new Error(`RefBpe: no vocab entry for ${JSON.stringify(s)}`);
      return id;
    });
  }

  private encodePlain(text: string): number[] {
    const out: number[] = [];
    for (const m of text.normalize('NFC').matchAll(SPLIT)) out.push(...this.bpe(m[0]));
    return out;
  }

  encode(text: string): number[] {
    const out: number[] = [];
    let plain = '';
    let i = 0;
    while (i < text.length) {
      const hit = this.added.find((a) => text.startsWith(a.content, i));
      if (hit) {
        out.push(...this.encodePlain(plain), hit.id);
        plain = '';
        i += hit.content.length;
      } else {
        plain += text[i++];
      }
    }
    out.push(...this.encodePlain(plain));
    return out;
  }
}
