// Per-pair insight: flips between evals, Pearson's r (against closed-form cases and a float64 two-pass reference),
// the length-bias summary and the per-pair table's sort.
import { describe, expect, it } from 'vitest';
import { countFlips, lengthBias, pairCorrect, pairRows, pearson, sortPairRows } from '../../src/train/insight.ts';
import { Rng } from '../../src/util/random.ts';

describe('insight', () => {
  it('counts pairs that became correct and incorrect', () => {
    const a = pairCorrect([1, 2, 0, 5], [0, 3, 0, 1]); // ✓ ✗ ✗(tie) ✓
    expect(Array.from(a)).toEqual([1, 0, 0, 1]);
    const b = pairCorrect([1, 4, 1, 0], [2, 3, 0, 1]); // ✗ ✓ ✓ ✗
    expect(countFlips(a, b)).toEqual({ toCorrect: 2, toIncorrect: 2 });
    expect(countFlips(a, a)).toEqual({ toCorrect: 0, toIncorrect: 0 });
    expect(() => countFlips(a, b.subarray(1))).toThrow(/not the same eval set/);
  });

  it("Pearson's r: exact lines, a constant, and random data against a direct formula", () => {
    expect(pearson([1, 2, 3, 4], [3, 5, 7, 9])).toBeCloseTo(1, 15);
    expect(pearson([1, 2, 3, 4], [8, 6, 4, 2])).toBeCloseTo(-1, 15);
    expect(pearson([1, 2, 3], [1, 1, 1])).toBeNaN();
    expect(pearson([1], [2])).toBeNaN();
    // x = 1..5, y = [2, 1, 4, 3, 5]: Σdxdy = 8, Σdx² = 10, Σdy² = 10 → r = 0.8
    expect(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 15);
    const rng = new Rng(7);
    const rnd = () => rng.uniform();
    const x = Array.from({ length: 200 }, () => rnd() * 500);
    const y = x.map((v) => 0.01 * v + rnd());
    const n = x.length;
    const sx = x.reduce((a, v) => a + v, 0), sy = y.reduce((a, v) => a + v, 0);
    const sxy = x.reduce((a, v, i) => a + v * y[i], 0), sxx = x.reduce((a, v) => a + v * v, 0), syy = y.reduce((a, v) => a + v * v, 0);
    const ref = (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    expect(pearson(x, y)).toBeCloseTo(ref, 10);
  });

  it('length bias: r per side, over all, and how often the longer response wins', () => {
    const r = { chosenRewards: [1, 2, 3], rejectedRewards: [0, 2.5, 1], chosenLengths: [10, 20, 30], rejectedLengths: [5, 40, 30] };
    const b = lengthBias(r);
    expect(b.chosen).toBeCloseTo(1, 15);
    expect(b.rejected).toBeCloseTo(pearson([0, 2.5, 1], [5, 40, 30]), 15);
    expect(b.all).toBeCloseTo(pearson([1, 2, 3, 0, 2.5, 1], [10, 20, 30, 5, 40, 30]), 15);
    // pair 0: chosen longer and wins ✓; pair 1: rejected longer and wins ✓; pair 2: same length, left out
    expect(b.longerWins).toBe(1);
  });

  it('sorts the per-pair table by any column, stable on ties', () => {
    const rows = pairRows({ chosenRewards: [1, 0, 2], rejectedRewards: [0, 1, 1], chosenLengths: [5, 7, 5], rejectedLengths: [3, 2, 9] });
    expect(rows.map((r) => r.margin)).toEqual([1, -1, 1]);
    expect(sortPairRows(rows, 'margin', false).map((r) => r.index)).toEqual([1, 0, 2]);
    expect(sortPairRows(rows, 'margin', true).map((r) => r.index)).toEqual([0, 2, 1]);
    expect(sortPairRows(rows, 'correct', false).map((r) => r.index)).toEqual([1, 0, 2]);
    expect(sortPairRows(rows, 'rejectedTokens', true).map((r) => r.index)).toEqual([2, 0, 1]);
  });
});
