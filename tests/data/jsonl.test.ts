// Well-formed preference JSONL in every TRL format, and the stream mechanics: BOM, CRLF, blank lines, a last line
// without newline, multi-byte characters split across chunks, ReadableStream input, progress, and the import choice.
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8, readPreferenceJsonl, readScoreJsonl, textSource } from '../../src/data/jsonl.ts';
import { Rng } from '../../src/util/random.ts';
import { DataImportError, formatIssue } from '../../src/data/records.ts';
import { splitPrompt } from '../../src/data/validate.ts';

const u = (content: string) => ({ role: 'user', content });
const a = (content: string) => ({ role: 'assistant', content });
const s = (content: string) => ({ role: 'system', content });
const lines = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

/** Feed bytes one at a time: every chunk boundary, including inside multi-byte characters and CRLF pairs. */
function byteByByte(text: string): Uint8Array[] {
  return Array.from(new TextEncoder().encode(text), (b) => new Uint8Array([b]));
}

describe('TRL formats from JSONL', () => {
  it('conversational with implicit prompt, extra columns kept', async () => {
    const text = lines({ chosen: [u('2+2?'), a('4')], rejected: [u('2+2?'), a('5')], score_chosen: 9, score_rejected: 2 });
    const r = await readPreferenceJsonl(textSource(text));
    expect(r.summary).toMatchObject({ rows: 1, valid: 1, invalid: 0, shape: { format: 'conversational', explicitPrompt: false, margin: false } });
    const [p] = r.importRecords('all-or-nothing');
    expect(p).toEqual({ format: 'conversational', chosen: [u('2+2?'), a('4')], rejected: [u('2+2?'), a('5')], extra: { score_chosen: 9, score_rejected: 2 } });
    expect(splitPrompt(p)).toEqual({ prompt: [u('2+2?')], chosen: [a('4')], rejected: [a('5')] });
  });

  it('conversational multi-turn with a system prompt (empty system content is allowed)', async () => {
    const chosen = [s(''), u('Hi'), a('Hello'), u('Bye?'), a('Goodbye!')];
    const rejected = [s(''), u('Hi'), a('Hello'), u('Bye?'), a('No.')];
    const r = await readPreferenceJsonl(textSource(lines({ chosen, rejected })));
    const [p] = r.importRecords('all-or-nothing');
    expect(splitPrompt(p).prompt).toEqual(chosen.slice(0, 4));
  });

  it('conversational where the pair differs at an earlier assistant turn', async () => {
    const chosen = [u('Hi'), a('Hello'), u('Bye?'), a('Goodbye!')];
    const rejected = [u('Hi'), a('Go away')];
    const r = await readPreferenceJsonl(textSource(lines({ chosen, rejected })));
    expect(r.summary.valid).toBe(1);
  });

  it('explicit prompt (conversational) and margin', async () => {
    const r = await readPreferenceJsonl(textSource(lines({ prompt: [s('Be brief.'), u('Hi')], chosen: [a('Hello')], rejected: [a('What')], margin: 0.5 })));
    expect(r.summary.shape).toEqual({ format: 'conversational', explicitPrompt: true, margin: true });
    expect(r.importRecords('all-or-nothing')[0]).toEqual({ format: 'conversational', prompt: [s('Be brief.'), u('Hi')], chosen: [a('Hello')], rejected: [a('What')], margin: 0.5, extra: {} });
  });

  it('standard text, implicit and explicit prompt', async () => {
    const r1 = await readPreferenceJsonl(textSource(lines({ chosen: 'Q: sky? A: blue', rejected: 'Q: sky? A: green' })));
    const [p1] = r1.importRecords('all-or-nothing');
    expect(p1).toEqual({ format: 'standard', chosen: 'Q: sky? A: blue', rejected: 'Q: sky? A: green', extra: {} });
    // TRL's extract_prompt backs off one character when the shared prefix ends after a space.
    expect(splitPrompt(p1)).toEqual({ prompt: 'Q: sky? A:', chosen: ' blue', rejected: ' green' });
    const r2 = await readPreferenceJsonl(textSource(lines({ prompt: 'Q: sky?', chosen: ' blue', rejected: ' green' })));
    expect(r2.importRecords('all-or-nothing')[0]).toMatchObject({ format: 'standard', prompt: 'Q: sky?' });
  });

  it('pre-tokenized ids; null prompt/margin count as absent', async () => {
    const r = await readPreferenceJsonl(textSource(lines({ chosen_ids: [1, 2, 3], rejected_ids: [1, 4], margin: null, chosen: 'kept as extra' })));
    expect(r.importRecords('all-or-nothing')[0]).toEqual({ format: 'tokenized', chosen_ids: [1, 2, 3], rejected_ids: [1, 4], extra: { chosen: 'kept as extra' } });
  });

  it('message keys other than role/content are kept', async () => {
    const chosen = [u('Hi'), { role: 'assistant', content: 'Hello', reasoning_content: 'greet' }];
    const r = await readPreferenceJsonl(textSource(lines({ chosen, rejected: [u('Hi'), a('No')] })));
    expect((r.importRecords('all-or-nothing')[0] as { chosen: unknown[] }).chosen[1]).toEqual(chosen[1]);
  });
});

describe('stream mechanics', () => {
  const rowA = { chosen: [u('Ça va? 😀'), a('Très bien 👍')], rejected: [u('Ça va? 😀'), a('Non')] };
  const rowB = { chosen: 'x', rejected: 'y' };

  it('BOM, CRLF, blank lines in the middle and at the end, multi-byte characters split across chunks', async () => {
    const jsonA = JSON.stringify(rowA);
    const text = `\uFEFF${jsonA}\r\n\r\n   \r\n${jsonA}\r\n\r\n\n`;
    const r = await readPreferenceJsonl(byteByByte(text));
    expect(r.summary).toMatchObject({ rows: 2, valid: 2, invalid: 0, blankLines: 4, duplicates: 1, bom: true, crlf: true });
    expect(r.importRecords('all-or-nothing')[0]).toMatchObject({ chosen: rowA.chosen });
  });

  it('a last line without a newline', async () => {
    const r = await readPreferenceJsonl(textSource(`${JSON.stringify(rowB)}\n${JSON.stringify({ chosen: 'p', rejected: 'q' })}`, 4));
    expect(r.summary).toMatchObject({ rows: 2, valid: 2, blankLines: 0, bom: false, crlf: false });
  });

  it('a ReadableStream source with string-free Uint8Array chunks, and progress reports', async () => {
    const one = JSON.stringify({ chosen: 'a'.repeat(1000), rejected: 'b' }) + '\n';
    const n = 1500; // ~1.5 MB: at least one intermediate progress report
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        const enc = new TextEncoder();
        for (let i = 0; i < n; i++) c.enqueue(enc.encode(one));
        c.close();
      },
    });
    const reports: number[] = [];
    const r = await readPreferenceJsonl(stream, { onProgress: (p) => reports.push(p.bytesRead), keepRecords: false });
    expect(r.summary).toMatchObject({ rows: n, valid: n, duplicates: n - 1 });
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports[reports.length - 1]).toBe(n * one.length);
    expect(() => r.importRecords('valid-only')).toThrow(/validation pass/);
  });

  it('an async iterable of string chunks', async () => {
    async function* gen() {
      yield '{"chosen": "a", "rej';
      yield 'ected": "b"}\n';
    }
    const r = await readPreferenceJsonl(gen());
    expect(r.summary.valid).toBe(1);
  });

  it('abort stops the read', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(readPreferenceJsonl(textSource('{}\n'), { signal: ac.signal })).rejects.toThrow();
  });
});

describe('import choice: never a silent partial import', () => {
  const text = lines({ chosen: 'a', rejected: 'b' }, { chosen: 'c' }, { chosen: 'e', rejected: 'f' });

  it('all-or-nothing refuses a file with invalid rows and says what to do', async () => {
    const r = await readPreferenceJsonl(textSource(text));
    expect(r.summary).toMatchObject({ rows: 3, valid: 2, invalid: 1 });
    let err: unknown;
    try {
      r.importRecords('all-or-nothing');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DataImportError);
    expect((err as Error).message).toBe(
      '1 of 3 rows are invalid; nothing was imported. First: line 2, field rejected: missing; expected a list of messages [{"role": ..., "content": ...}] or a string. Fix the file, or import only the 2 valid rows.',
    );
  });

  it('valid-only returns exactly the valid rows, in order', async () => {
    const r = await readPreferenceJsonl(textSource(text));
    expect(r.importRecords('valid-only').map((p) => (p as { chosen: string }).chosen)).toEqual(['a', 'e']);
  });

  it('duplicates count repeats of prompt + chosen + rejected, explicit or implicit prompt alike', async () => {
    const r = await readPreferenceJsonl(
      textSource(lines({ chosen: [u('Q'), a('x')], rejected: [u('Q'), a('y')] }, { chosen: [u('Q'), a('x')], rejected: [u('Q'), a('y')] }, { chosen: [u('Q'), a('x')], rejected: [u('Q'), a('z')] })),
    );
    expect(r.summary.duplicates).toBe(1);
  });

  it('identical pairs are valid (TRL trains on them), counted apart from errors', async () => {
    const r = await readPreferenceJsonl(textSource(lines({ chosen: 'a', rejected: 'a' }, { chosen: 'b', rejected: 'b' }, { chosen: 1, rejected: 'c' })));
    expect(r.summary).toMatchObject({ valid: 2, invalid: 1, identicalPairs: 2 });
  });
});

describe('score records (messages | text | input_ids)', () => {
  it('reads the three formats and reports bad lines', async () => {
    const text = lines({ messages: [u('Hi'), a('Hello')], id: 7 }, { text: 'Some text' }, { input_ids: [1, 2] }, { messages: [u('Hi')] }, { foo: 1 });
    const r = await readScoreJsonl(textSource(text));
    expect(r.records).toEqual([
      { format: 'conversational', messages: [u('Hi'), a('Hello')], extra: { id: 7 } },
      { format: 'standard', text: 'Some text', extra: {} },
      { format: 'tokenized', input_ids: [1, 2], extra: {} },
    ]);
    expect(r.errors.map(formatIssue)).toEqual([
      'line 4, field messages[0].role: the last message of messages must come from the assistant, got "user"',
      'line 5: missing "messages", "text" or "input_ids"; expected one of them (a list of messages [{"role": ..., "content": ...}], a string, or a list of token ids)',
    ]);
  });
});

describe('firstInvalidUtf8 agrees with a fatal TextDecoder', () => {
  it('on seeded random byte strings biased towards UTF-8 lead and continuation bytes', () => {
    const rng = new Rng(9);
    const pool = [0x41, 0x0a, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xa0, 0xed, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xf5, 0xff];
    const dec = new TextDecoder('utf-8', { fatal: true });
    let invalid = 0;
    for (let t = 0; t < 3000; t++) {
      const b = Uint8Array.from({ length: 1 + rng.int(6) }, () => pool[rng.int(pool.length)]);
      let ok = true;
      try {
        dec.decode(b);
      } catch {
        ok = false;
      }
      const at = firstInvalidUtf8(b);
      expect(at === -1).toBe(ok);
      if (!ok) {
        invalid++;
        expect(() => dec.decode(b.subarray(0, at))).not.toThrow(); // everything before it is valid
      }
    }
    expect(invalid).toBeGreaterThan(1000);
  });
});
