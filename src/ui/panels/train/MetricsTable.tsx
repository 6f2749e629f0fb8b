// The logged rows as a table (newest first, the last 200), with CSV / JSONL export of all of them.
import { Section } from '../../components/Section.tsx';
import { useMetricsBuffer } from '../../context.ts';
import { formatMetric } from '../../format.ts';
import { metricColumns, metricsToCsv, metricsToJsonl } from '../../store/metrics.ts';
import { saveFile } from '../../save_file.ts';
import { useMetricsRows } from './useMetrics.ts';

const SHOWN = 200;

export function MetricsTable() {
  const rows = useMetricsRows();
  const buffer = useMetricsBuffer();
  const cols = metricColumns(rows);
  const shown = rows.slice(-SHOWN).reverse();
  return (
    <Section
      title="Metrics"
      id="metrics"
      aside={
        <div className="actions">
          <button type="button" disabled={!rows.length} onClick={() => saveFile('metrics.csv', metricsToCsv(buffer.all()), 'text/csv')} data-testid="metrics-csv">
            Export CSV
          </button>
          <button type="button" disabled={!rows.length} onClick={() => saveFile('metrics.jsonl', metricsToJsonl(buffer.all()), 'application/jsonl')} data-testid="metrics-jsonl">
            Export JSONL
          </button>
        </div>
      }
    >
      {rows.length === 0 ? (
        <p className="muted">Metrics are logged every logging_steps steps (TRL names: loss, accuracy, margin, …; eval rows with eval_).</p>
      ) : (
        <div className="table-scroll">
          <table className="table compact" data-testid="metrics-table">
            <thead>
              <tr>
                <th scope="col">kind</th>
                <th scope="col" className="num">
                  step
                </th>
                {cols.map((c) => (
                  <th key={c} scope="col" className="num">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((r, i) => (
                <tr key={`${r.kind}-${r.step}-${i}`}>
                  <td>{r.kind}</td>
                  <td className="num">{r.step}</td>
                  {cols.map((c) => (
                    <td key={c} className="num">
                      {formatMetric(r.metrics[c])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
