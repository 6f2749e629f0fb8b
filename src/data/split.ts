// Seeded train/test split for an imported dataset (a dropped JSONL file has no splits of its own). Sizes follow
// `datasets`' Dataset.train_test_split: a fractional test_size gives ceil(test_size · n) test rows, an integer gives
// that many; the rest is train. The permutation is a seeded Fisher–Yates (src/util/random.ts), so the same seed gives
// the same split in the browser and in Node (not the same rows as numpy's generator would pick).

import { Rng } from '../util/random.ts';

export interface SplitOptions {
  /** Fraction in (0, 1) or a row count ≥ 1. Default 0.1. */
  test_size?: number;
  seed?: number;
  /** Shuffle before splitting (default true); false keeps the order and takes the last rows as test. */
  shuffle?: boolean;
}

export function trainTestSplit<T>(rows: readonly T[], opts: SplitOptions = {}): { train: T[]; test: T[] } {
  const n = rows.length;
  const size = opts.test_size ?? 0.1;
  let nTest: number;
  if (size > 0 && size < 1) nTest = Math.ceil(size * n);
  else if (Number.isInteger(size) && size >= 1) nTest = size;
  else throw new Error(`test_size must be a fraction in (0, 1) or a whole number of rows ≥ 1, got ${size}`);
  if (nTest >= n) {
    throw new Error(`test_size ${size} leaves no training rows out of ${n}; use a smaller test_size or more data`);
  }
  const order = Array.from({ length: n }, (_, i) => i);
  if (opts.shuffle ?? true) new Rng(opts.seed ?? 42).shuffle(order);
  const trainIdx = order.slice(0, n - nTest);
  const testIdx = order.slice(n - nTest);
  return { train: trainIdx.map((i) => rows[i]), test: testIdx.map((i) => rows[i]) };
}
