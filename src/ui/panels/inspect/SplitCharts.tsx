// Token-length histograms (chosen vs rejected, the max_length cut marked) and score-column histograms of one split.
import { HistogramChart } from '../../components/HistogramChart.tsx';
import type { InspectSplit } from '../../../worker/protocol.ts';

const COLORS = ['#2e86de', '#e67e22', '#27ae60', '#8e44ad'];

export function SplitCharts({ split, maxLength }: { split: InspectSplit; maxLength: number }) {
  const len = [
    split.chosenLengths && { name: 'chosen', hist: split.chosenLengths, color: COLORS[0] },
    split.rejectedLengths && { name: 'rejected', hist: split.rejectedLengths, color: COLORS[1] },
  ].filter((x): x is NonNullable<typeof x> => !!x);
  const sameEdges = len.length === 2 && JSON.stringify(len[0].hist.edges) === JSON.stringify(len[1].hist.edges);
  const scores = Object.entries(split.scores ?? {});
  return (
    <div className="chart-grid">
      {sameEdges ? (
        <HistogramChart title="Token lengths (chat template applied)" series={len} marker={{ x: maxLength, label: `max_length ${maxLength}` }} xLabel="tokens" />
      ) : (
        len.map((s) => <HistogramChart key={s.name} title={`Token lengths: ${s.name}`} series={[s]} marker={{ x: maxLength, label: `max_length ${maxLength}` }} xLabel="tokens" />)
      )}
      {scores.map(([name, hist], i) => (
        <HistogramChart key={name} title={`Distribution of ${name}`} series={[{ name, hist, color: COLORS[(i + 2) % COLORS.length] }]} />
      ))}
    </div>
  );
}
