// One live line chart of a metric: train and eval series on the same axes, fed from the metrics buffer.
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatMetric } from '../../format.ts';
import { seriesOf, type MetricsRow } from '../../store/metrics.ts';

/** Axis ticks: short (7.5e-4, 0.68, 1200). */
function formatTick(v: number): string {
  if (v !== 0 && Math.abs(v) < 1e-2) return v.toExponential(1);
  return Number(v.toPrecision(3)).toString();
}

export function MetricChart({ rows, metric, title }: { rows: readonly MetricsRow[]; metric: string; title: string }) {
  const data = seriesOf(rows, metric);
  const hasEval = data.some((d) => d.eval !== undefined);
  return (
    <figure className="chart" aria-label={`${title} chart`} data-testid={`chart-${metric}`} data-points={data.length}>
      <figcaption>{title}</figcaption>
      {data.length === 0 ? (
        <div className="chart-empty muted">no data yet</div>
      ) : (
        <ResponsiveContainer width="100%" height={180}>
          <LineChart data={data} margin={{ top: 4, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="step" type="number" domain={['dataMin', 'dataMax']} allowDecimals={false} />
            <YAxis width={60} tickFormatter={formatTick} domain={['auto', 'auto']} />
            <Tooltip formatter={(v) => formatMetric(Number(v))} labelFormatter={(s) => `step ${String(s)}`} />
            <Legend verticalAlign="top" height={20} />
            <Line type="linear" dataKey="train" name="train" stroke="#2e86de" dot={data.length < 30} isAnimationActive={false} connectNulls />
            {hasEval && <Line type="linear" dataKey="eval" name="eval" stroke="#e67e22" dot isAnimationActive={false} connectNulls />}
          </LineChart>
        </ResponsiveContainer>
      )}
    </figure>
  );
}
