// Panel 4, Train: controls, progress (step/epoch, ETA, tokens/s), live charts with train and eval on the same axes,
// the metrics table and its CSV/JSONL export, and "Benchmark this GPU".
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { ContinueFrom } from './ContinueFrom.tsx';
import { MetricCharts } from './MetricCharts.tsx';
import { MetricsTable } from './MetricsTable.tsx';
import { ProgressLine } from './ProgressLine.tsx';
import { RunsCompare } from './RunsCompare.tsx';
import { StoredRuns } from './StoredRuns.tsx';
import { TrainControls } from './TrainControls.tsx';
import { BenchmarkGpu } from './BenchmarkGpu.tsx';

export function TrainPanel() {
  return (
    <div className="stack">
      <ErrorNote area="train" />
      <div className="train-top">
        <TrainControls />
        <ProgressLine />
      </div>
      <ContinueFrom />
      <StoredRuns />
      <MetricCharts />
      <MetricsTable />
      <RunsCompare />
      <BenchmarkGpu />
    </div>
  );
}
