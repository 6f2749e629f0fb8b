// Histograms as bar charts (recharts). Series sharing bin edges are drawn side by side on one axis; an optional
// vertical marker shows a cut such as max_length.
import { Bar, BarChart, CartesianGrid, Legend, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { Histogram } from '../../worker/protocol.ts';
import { formatMetric } from '../format.ts';

export interface HistSeries {
  name: string;
  hist: Histogram;
  color: string;
}

/** Bins shared by every series: equal-width over the min..max of all values. */
export function sharedHistograms(values: number[][], bins = 20): Histogram[] {
  const all = values.flat().filter(Number.isFinite);
  if (all.length === 0) return values.map(() => ({ edges: [0, 1], counts: [0] }));
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const w = (hi - lo) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * w);
  return values.map((vs) => {
    const counts = new Array(bins).fill(0);
    for (const v of vs) if (Number.isFinite(v)) counts[Math.min(bins - 1, Math.floor((v - lo) / w))]++;
    return { edges, counts };
  });
}

export function HistogramChart({ series, marker, height = 200, xLabel, title }: { series: HistSeries[]; marker?: { x: number; label: string }; height?: number; xLabel?: string; title: string }) {
  if (series.length === 0) return null;
  const edges = series[0].hist.edges;
  const data = edges.slice(0, -1).map((lo, i) => {
    const row: Record<string, number | string> = { x: (lo + edges[i + 1]) / 2, range: `${formatMetric(lo)} – ${formatMetric(edges[i + 1])}` };
    for (const s of series) row[s.name] = s.hist.counts[i] ?? 0;
    return row;
  });
  const w = edges.length > 1 ? edges[1] - edges[0] : 1;
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 16, left: 0 }} barGap={0} barCategoryGap={1}>
          <CartesianGrid strokeDasharray="3 3" vertical={false} />
          <XAxis dataKey="x" type="number" domain={[edges[0], edges[edges.length - 1] + (marker && marker.x > edges[edges.length - 1] ? w : 0)]} tickFormatter={(v: number) => formatMetric(v)} label={xLabel ? { value: xLabel, position: 'insideBottom', offset: -8 } : undefined} />
          <YAxis allowDecimals={false} width={40} />
          <Tooltip labelFormatter={(_, p) => String((p?.[0]?.payload as { range?: string })?.range ?? '')} />
          {series.length > 1 && <Legend verticalAlign="top" height={24} />}
          {series.map((s) => (
            <Bar key={s.name} dataKey={s.name} fill={s.color} isAnimationActive={false} />
          ))}
          {marker && <ReferenceLine x={marker.x} stroke="#c0392b" strokeDasharray="4 2" label={{ value: marker.label, position: 'top', fill: '#c0392b', fontSize: 12 }} />}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
