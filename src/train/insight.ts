// Per-pair insight into a reward model's eval results (float64 on the CPU):
//   - which pairs flipped between two evals (correct = r_chosen > r_rejected, TRL's accuracy per pair);
//   - the length-bias probe: Pearson correlation of reward with response length (tokens), for chosen and rejected
//     sequences separately and together, since reward models notoriously learn "longer is better".

/** Per-pair correctness (1 = r_chosen > r_rejected), as TRL's accuracy counts it. */
export function pairCorrect(chosen: ArrayLike<number>, rejected: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(chosen.length);
  for (let i = 0; i < chosen.length; i++) out[i] = chosen[i] > rejected[i] ? 1 : 0;
  return out;
}

/** Pairs that became correct / incorrect from `prev` to `next` (same eval set, same order). */
export function countFlips(prev: Uint8Array, next: Uint8Array): { toCorrect: number; toIncorrect: number } {
  if (prev.length !== next.length) throw new Error(`countFlips: ${prev.length} vs ${next.length} pairs (not the same eval set)`);
  let toCorrect = 0;
  let toIncorrect = 0;
  for (let i = 0; i < next.length; i++) {
    if (!prev[i] && next[i]) toCorrect++;
    else if (prev[i] && !next[i]) toIncorrect++;
  }
  return { toCorrect, toIncorrect };
}

/** Pearson's r of x and y (NaN when fewer than 2 points or either is constant). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length) throw new Error(`pearson: ${n} vs ${y.length} values`);
  if (n < 2) return NaN;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

export interface LengthBias {
  /** r(reward, length) over chosen sequences, rejected sequences, and all of them. */
  chosen: number;
  rejected: number;
  all: number;
  /** Share of pairs where the longer response got the higher reward (ties in length left out; NaN if none). */
  longerWins: number;
}

export function lengthBias(r: { chosenRewards: ArrayLike<number>; rejectedRewards: ArrayLike<number>; chosenLengths: ArrayLike<number>; rejectedLengths: ArrayLike<number> }): LengthBias {
  const all = (a: ArrayLike<number>, b: ArrayLike<number>) => [...Array.from(a), ...Array.from(b)];
  let wins = 0, decided = 0;
  for (let i = 0; i < r.chosenRewards.length; i++) {
    const dl = r.chosenLengths[i] - r.rejectedLengths[i];
    if (dl === 0) continue;
    decided++;
    if ((dl > 0) === (r.chosenRewards[i] > r.rejectedRewards[i])) wins++;
  }
  return {
    chosen: pearson(r.chosenRewards, r.chosenLengths),
    rejected: pearson(r.rejectedRewards, r.rejectedLengths),
    all: pearson(all(r.chosenRewards, r.rejectedRewards), all(r.chosenLengths, r.rejectedLengths)),
    longerWins: decided ? wins / decided : NaN,
  };
}

/** One row of the per-pair table. */
export interface PairRow {
  index: number;
  chosen: number;
  rejected: number;
  margin: number;
  correct: boolean;
  chosenTokens: number;
  rejectedTokens: number;
}

export type PairSortKey = 'index' | 'chosen' | 'rejected' | 'margin' | 'correct' | 'chosenTokens' | 'rejectedTokens';

export function pairRows(r: { chosenRewards: ArrayLike<number>; rejectedRewards: ArrayLike<number>; chosenLengths: ArrayLike<number>; rejectedLengths: ArrayLike<number> }): PairRow[] {
  return Array.from({ length: r.chosenRewards.length }, (_, i) => ({
    index: i,
    chosen: r.chosenRewards[i],
    rejected: r.rejectedRewards[i],
    margin: r.chosenRewards[i] - r.rejectedRewards[i],
    correct: r.chosenRewards[i] > r.rejectedRewards[i],
    chosenTokens: r.chosenLengths[i],
    rejectedTokens: r.rejectedLengths[i],
  }));
}

/** Rows sorted by one column (stable: ties keep pair order). */
export function sortPairRows(rows: PairRow[], key: PairSortKey, descending: boolean): PairRow[] {
  const val = (row: PairRow) => (key === 'correct' ? Number(row.correct) : row[key]);
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => (val(a.row) - val(b.row)) * (descending ? -1 : 1) || a.i - b.i)
    .map((x) => x.row);
}
