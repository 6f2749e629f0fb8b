// Seeded train/test split of an imported dataset.
import { describe, expect, it } from 'vitest';
import { trainTestSplit } from '../../src/data/split.ts';

const rows = Array.from({ length: 101 }, (_, i) => i);

describe('trainTestSplit', () => {
  it('fractional test_size takes ceil(size·n) rows; the two parts partition the data', () => {
    const { train, test } = trainTestSplit(rows, { test_size: 0.1, seed: 1 });
    expect(test.length).toBe(11); // ceil(10.1)
    expect(train.length).toBe(90);
    expect([...train, ...test].sort((a, b) => a - b)).toEqual(rows);
  });

  it('is deterministic per seed and shuffles', () => {
    const a = trainTestSplit(rows, { seed: 5 });
    expect(trainTestSplit(rows, { seed: 5 })).toEqual(a);
    expect(trainTestSplit(rows, { seed: 6 }).test).not.toEqual(a.test);
    expect(a.train).not.toEqual(rows.slice(0, a.train.length));
  });

  it('integer test_size and shuffle: false', () => {
    expect(trainTestSplit(rows, { test_size: 3, shuffle: false })).toEqual({ train: rows.slice(0, 98), test: [98, 99, 100] });
  });

  it('refuses sizes that leave nothing to train on or make no sense', () => {
    expect(() => trainTestSplit([1, 2], { test_size: 2 })).toThrow('test_size 2 leaves no training rows out of 2; use a smaller test_size or more data');
    expect(() => trainTestSplit(rows, { test_size: 1.5 })).toThrow('test_size must be a fraction in (0, 1) or a whole number of rows ≥ 1, got 1.5');
    expect(() => trainTestSplit(rows, { test_size: 0 })).toThrow(/got 0/);
  });
});
