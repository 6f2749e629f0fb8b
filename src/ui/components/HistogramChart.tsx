// Histograms drawn as step lines on one numeric x axis (recharts), so series with different bins (chosen vs rejected
// token lengths) share the axes; an optional vertical marker shows a cut such as max_length.
import { CartesianGrid, Legend, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatMetric } from '../format.ts';

/** Bin edges (length counts + 1) and counts. */
export interface Hist {
  edges: number[];
  counts: number[];
}

export interface HistSeries {
  name: string;
  hist: Hist;
  color: string;
}

/** Equal-width bins shared by every series, over the min..max of all values. */
export function sharedHistograms(values: number[][], bins = 20): Hist[] {
  const all = values.flat().filter(Number.isFinite);
  if (all.length === 0) return values.map(() => ({ edges: [], counts: [] }));
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const w = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * w);
  return values.map((vs) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of vs) if (Number.isFinite(v)) counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
    return { edges, counts };
  });
}

/** Step points: (lo_k, count_k) for each bin, then (hi_last, count_last) to close the last step. */
export function stepPoints(h: Hist): { x: number; y: number }[] {
  if (h.counts.length === 0) return [];
  const pts = h.counts.map((c, i) => ({ x: h.edges[i], y: c }));
  pts.push({ x: h.edges[h.edges.length - 1], y: h.counts[h.counts.length - 1] });
  return pts;
}

export function HistogramChart({ series, marker, height = 200, xLabel, title }: { series: HistSeries[]; marker?: { x: number; label: string }; height?: number; xLabel?: string; title: string }) {
  const drawn = series.filter((s) => s.hist.counts.length > 0);
  if (drawn.length === 0) return null;
  const xs = drawn.flatMap((s) => s.hist.edges);
  let lo = Math.min(...xs);
  let hi = Math.max(...xs);
  if (marker && marker.x > hi && marker.x < hi + (hi - lo)) hi = marker.x;
  if (marker && marker.x < lo) lo = marker.x;
  return (
    <figure className="chart" aria-label={title} data-testid="histogram">
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart margin={{ top: 16, right: 16, bottom: xLabel ? 16 : 0, left: 0 }}>
          <CartesianGrid strokeDasharray="3 3" />
          <XAxis dataKey="x" type="number" domain={[lo, hi]} allowDuplicatedCategory={false} tickFormatter={(v: number) => formatMetric(v)} label={xLabel ? { value: xLabel, position: 'insideBottom', offset: -8 } : undefined} />
          <YAxis dataKey="y" allowDecimals={false} width={44} />
          <Tooltip formatter={(v) => String(v)} labelFormatter={(x) => `from ${formatMetric(Number(x))}`} />
          {drawn.length > 1 && <Legend verticalAlign="top" height={22} />}
          {drawn.map((s) => (
            <Line key={s.name} data={stepPoints(s.hist)} dataKey="y" name={s.name} type="stepAfter" stroke={s.color} strokeWidth={2} dot={false} isAnimationActive={false} />
          ))}
          {marker && <ReferenceLine x={marker.x} stroke="#c0392b" strokeDasharray="4 2" label={{ value: marker.label, position: 'insideTopRight', fill: '#c0392b', fontSize: 12 }} />}
        </LineChart>
      </ResponsiveContainer>
    </figure>
  );
}
