// Equal-width histograms for the inspection report (token lengths, scores), JSON-able. The binning rules are fixed
// and documented so a test (or a user) can recompute them:
//   integer values (token lengths): width = max(1, ceil((max − min + 1) / bins)); bin k = [min + k·width,
//     min + (k+1)·width); as many bins as needed to reach max (≤ bins);
//   real values (scores): width = (max − min) / bins, bin k = [min + k·width, min + (k+1)·width), the last bin closed
//     at max; when all values are equal, one bin [min, max] holds them all.
// p50/p95 are nearest-rank percentiles: sorted[ceil(p·n) − 1].

export interface Histogram {
  /** Integer binning: every bin is half-open [lo, hi). Real binning: the last bin is closed [lo, max]. */
  integer: boolean;
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  p50: number | null;
  p95: number | null;
  /** Bin edges, length counts.length + 1. */
  edges: number[];
  counts: number[];
}

export function histogram(values: ArrayLike<number>, opts: { bins?: number; integer?: boolean } = {}): Histogram {
  const bins = opts.bins ?? 10;
  const n = values.length;
  const integer = opts.integer ?? false;
  if (n === 0) return { integer, count: 0, min: null, max: null, mean: null, p50: null, p95: null, edges: [], counts: [] };
  const sorted = Float64Array.from(values).sort();
  const min = sorted[0];
  const max = sorted[n - 1];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i];
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * n) - 1)];
  let edges: number[];
  let counts: number[];
  if (integer) {
    const width = Math.max(1, Math.ceil((max - min + 1) / bins));
    const nb = Math.ceil((max - min + 1) / width);
    edges = Array.from({ length: nb + 1 }, (_, k) => min + k * width);
    counts = new Array(nb).fill(0);
    for (let i = 0; i < n; i++) counts[Math.floor((sorted[i] - min) / width)]++;
  } else if (min === max) {
    edges = [min, max];
    counts = [n];
  } else {
    const width = (max - min) / bins;
    edges = Array.from({ length: bins + 1 }, (_, k) => (k === bins ? max : min + k * width));
    counts = new Array(bins).fill(0);
    for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor((sorted[i] - min) / width))]++;
  }
  return { integer, count: n, min, max, mean: sum / n, p50: rank(0.5), p95: rank(0.95), edges, counts };
}
