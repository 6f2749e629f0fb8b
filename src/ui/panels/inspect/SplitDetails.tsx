// One split: its columns and types, the first invalid rows, token-length histograms (prompt, chosen, rejected; the
// max_length cut marked) and score histograms, then example rows rendered as conversations.
import { HistogramChart } from '../../components/HistogramChart.tsx';
import { Section } from '../../components/Section.tsx';
import { formatMetric } from '../../format.ts';
import type { DatasetReport } from '../../../worker/protocol.ts';

type SplitReport = DatasetReport['splits'][number];

export function SplitDetails({ split }: { split: SplitReport }) {
  const t = split.tokens;
  const sc = split.scores;
  return (
    <Section title={`Split “${split.split}”`} id={`split-${split.split}`} aside={<span className="muted mono">{split.files.join(', ')}</span>}>
      <p className="mono small" data-testid={`columns-${split.split}`}>
        {split.columns.map((c) => `${c.name}: ${c.type}`).join(' · ')}
      </p>
      {split.errors.length > 0 && (
        <div className="import-errors" role="status">
          <p>
            {split.invalid} invalid row{split.invalid === 1 ? '' : 's'} (left out of training){split.errors.length < split.invalid ? `; the first ${split.errors.length}` : ''}:
          </p>
          <ul>
            {split.errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      )}
      <div className="chart-grid">
        {t && (
          <HistogramChart
            title={`Token lengths of ${t.measured} pairs (p95 chosen ${t.chosen.p95 ?? '–'}, rejected ${t.rejected.p95 ?? '–'}); ${t.overMaxLength.pairs} pairs over max_length ${t.maxLength}`}
            xLabel="tokens"
            series={[
              { name: 'prompt', hist: t.prompt, color: '#95a5a6' },
              { name: 'chosen', hist: t.chosen, color: '#27ae60' },
              { name: 'rejected', hist: t.rejected, color: '#c0392b' },
            ]}
            marker={{ x: t.maxLength, label: `max_length ${t.maxLength}` }}
          />
        )}
        {sc && (
          <HistogramChart
            title={`Scores of ${sc.pairs} pairs (chosen not higher in ${sc.chosenNotHigher}; mean difference ${formatMetric(sc.difference.mean ?? undefined)})`}
            series={[
              { name: 'score_chosen', hist: sc.score_chosen, color: '#27ae60' },
              { name: 'score_rejected', hist: sc.score_rejected, color: '#c0392b' },
            ]}
          />
        )}
      </div>
      {split.examples.length > 0 && (
        <details className="examples" open>
          <summary>Examples ({split.examples.length})</summary>
          {split.examples.map((ex, i) => (
            <pre key={i} className="example-text" data-testid="inspect-example">
              {ex}
            </pre>
          ))}
        </details>
      )}
    </Section>
  );
}
