// A deterministic, seeded preference dataset in trl-lib/ultrafeedback_binarized's exact shape, for tests, the CLI and
// the studio's offline demo. Each row: chosen / rejected = [user prompt, assistant answer] as list<struct<content,
// role>>, plus score_chosen / score_rejected (float64). The learnable signal is the answer's tone: a chosen answer
// opens with a phrase from a small polite family and a rejected one with a phrase from a rude family (disjoint word
// sets), and the chosen answer is correct while the rejected one is wrong half the time. A tiny random transformer
// (hidden 64, 2 layers) separates the families within a few hundred steps. Sequences stay short: at most 48 tokens
// after the Qwen3 chat template (checked in tests/data/synthetic.test.ts).

import { parquetWriteBuffer } from 'hyparquet-writer';
import { Rng } from '../util/random.ts';

/** A message as stored in the Hub dataset (field order content, role, as in ultrafeedback_binarized). */
export interface HubMessage {
  content: string;
  role: 'user' | 'assistant';
}

export interface UltrafeedbackRow {
  chosen: HubMessage[];
  rejected: HubMessage[];
  score_chosen: number;
  score_rejected: number;
}

export interface SyntheticOptions {
  seed?: number;
  trainRows?: number;
  testRows?: number;
}

export const POLITE_OPENERS = ['Sure!', 'Happy to help.', 'Great question.', 'Of course.', 'Thanks for asking.', 'Gladly.'];
export const RUDE_OPENERS = ['Ugh.', 'Whatever.', 'Figure it out.', 'Stop asking.', 'Not my problem.', 'Boring.'];
const POLITE_CLOSERS = ['Hope this helps!', 'Have a nice day!', 'Good luck!', ''];
const RUDE_CLOSERS = ['Go away.', 'Obviously.', 'Leave me alone.', ''];

const NAMES = ['Ada', 'Ben', 'Cleo', 'Dan', 'Eva', 'Finn', 'Gus', 'Hana'];
const COLORS: [string, string][] = [['red', 'apple'], ['yellow', 'banana'], ['orange', 'orange'], ['green', 'lime'], ['purple', 'grape']];
const ANIMALS: [string, string][] = [['dog', 'bark'], ['cat', 'meow'], ['cow', 'moo'], ['duck', 'quack'], ['sheep', 'baa']];

function pick<T>(rng: Rng, a: readonly T[]): T {
  return a[rng.int(a.length)];
}

/** One prompt with its correct and a wrong answer. */
function task(rng: Rng): { prompt: string; right: string; wrong: string } {
  switch (rng.int(4)) {
    case 0: {
      const x = rng.int(10);
      const y = rng.int(10);
      return { prompt: `What is ${x} plus ${y}?`, right: `It is ${x + y}.`, wrong: `It is ${x + y + 1 + rng.int(3)}.` };
    }
    case 1: {
      const [c, f] = pick(rng, COLORS);
      const [, other] = pick(rng, COLORS.filter(([cc]) => cc !== c));
      return { prompt: `Name a ${c} fruit.`, right: `A ${f}.`, wrong: `A ${other}.` };
    }
    case 2: {
      const [an, s] = pick(rng, ANIMALS);
      const [, other] = pick(rng, ANIMALS.filter(([aa]) => aa !== an));
      return { prompt: `What does a ${an} say?`, right: `It says ${s}.`, wrong: `It says ${other}.` };
    }
    default: {
      const n = pick(rng, NAMES);
      return { prompt: `Say hello to ${n}.`, right: `Hello, ${n}!`, wrong: `Hello, ${pick(rng, NAMES.filter((m) => m !== n))}!` };
    }
  }
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

/** One row: the same user prompt, a polite correct answer (chosen) and a rude, half the time wrong one (rejected). */
function syntheticRow(rng: Rng): UltrafeedbackRow {
  const t = task(rng);
  const good = join(pick(rng, POLITE_OPENERS), t.right, pick(rng, POLITE_CLOSERS));
  const bad = join(pick(rng, RUDE_OPENERS), rng.int(2) === 0 ? t.wrong : t.right, pick(rng, RUDE_CLOSERS));
  // Scores on ultrafeedback's 1..10 scale in steps of 0.5: chosen in [6, 10], rejected in [1, 5].
  const score_chosen = 6 + rng.int(9) * 0.5;
  const score_rejected = 1 + rng.int(9) * 0.5;
  return {
    chosen: [{ content: t.prompt, role: 'user' }, { content: good, role: 'assistant' }],
    rejected: [{ content: t.prompt, role: 'user' }, { content: bad, role: 'assistant' }],
    score_chosen,
    score_rejected,
  };
}

/** The train and test splits (train drawn first from one seeded stream, then test). */
export function generateSyntheticPreferences(opts: SyntheticOptions = {}): { train: UltrafeedbackRow[]; test: UltrafeedbackRow[] } {
  const rng = new Rng(opts.seed ?? 42);
  const train = Array.from({ length: opts.trainRows ?? 256 }, () => syntheticRow(rng));
  const test = Array.from({ length: opts.testRows ?? 64 }, () => syntheticRow(rng));
  return { train, test };
}

/** Parquet schema of ultrafeedback_binarized as `datasets`/pyarrow write it: optional 3-level lists of optional
 *  structs of optional strings, and optional doubles. */
function messageListSchema(name: string) {
  return [
    { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
    { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
    { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  ] as const;
}

export const ULTRAFEEDBACK_SCHEMA = [
  { name: 'schema', num_children: 4 },
  ...messageListSchema('chosen'),
  ...messageListSchema('rejected'),
  { name: 'score_chosen', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
  { name: 'score_rejected', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
] as const;

/** Rows as a parquet file (snappy, as the Hub's files). */
export function ultrafeedbackParquet(rows: UltrafeedbackRow[], opts: { rowGroupSize?: number } = {}): ArrayBuffer {
  return parquetWriteBuffer({
    schema: ULTRAFEEDBACK_SCHEMA.map((e) => ({ ...e })),
    rowGroupSize: opts.rowGroupSize ?? 64,
    createdBy: 'reward-studio synthetic',
    columnData: [
      { name: 'chosen', data: rows.map((r) => r.chosen) },
      { name: 'rejected', data: rows.map((r) => r.rejected) },
      { name: 'score_chosen', data: Float64Array.from(rows, (r) => r.score_chosen) },
      { name: 'score_rejected', data: Float64Array.from(rows, (r) => r.score_rejected) },
    ],
  });
}

/** Rows as JSONL text (one object per line, trailing newline). */
export function toJsonl(rows: readonly object[]): string {
  return rows.map((r) => JSON.stringify(r) + '\n').join('');
}
