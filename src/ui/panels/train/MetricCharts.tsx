// The five training charts. Only this subtree re-renders per logged step (it subscribes to the metrics buffer).
import { MetricChart } from './MetricChart.tsx';
import { useMetricsRows } from './useMetrics.ts';

export const CHARTS = [
  { metric: 'loss', title: 'loss' },
  { metric: 'accuracy', title: 'accuracy' },
  { metric: 'margin', title: 'margin (r_chosen − r_rejected)' },
  { metric: 'learning_rate', title: 'learning_rate' },
  { metric: 'grad_norm', title: 'grad_norm' },
] as const;

export function MetricCharts() {
  const rows = useMetricsRows();
  return (
    <div className="chart-grid charts-5">
      {CHARTS.map((c) => (
        <MetricChart key={c.metric} rows={rows} metric={c.metric} title={c.title} />
      ))}
    </div>
  );
}
