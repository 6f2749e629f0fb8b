// Per-pair insight: a sortable table of scored pairs (both rewards, the margin, correct/incorrect, token lengths);
// clicking a row asks the worker for that pair's text (decoded from the token ids that were scored, special tokens
// included). Shown for the last eval report (EvalPairTable) and for a batch-scored pair file (BatchScore), whose
// rows are numbered by their line in the file.
import { useMemo, useState } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { formatMetric } from '../../format.ts';
import { pairRows, sortPairRows, type PairSortKey } from '../../../train/insight.ts';

const COLUMNS: { key: PairSortKey; label: string }[] = [
  { key: 'index', label: '#' },
  { key: 'chosen', label: 'r chosen' },
  { key: 'rejected', label: 'r rejected' },
  { key: 'margin', label: 'margin' },
  { key: 'correct', label: 'correct' },
  { key: 'chosenTokens', label: 'chosen tokens' },
  { key: 'rejectedTokens', label: 'rejected tokens' },
];

/** Rows shown at once (the rest by paging), so a 10k-pair eval set stays responsive. */
const PAGE = 50;

export interface PairData {
  chosenRewards: ArrayLike<number>;
  rejectedRewards: ArrayLike<number>;
  chosenLengths: ArrayLike<number>;
  rejectedLengths: ArrayLike<number>;
  /** File lines of the pairs (batch scoring): shown instead of the pair's position. */
  lines?: number[];
}

export function PairTableView({ data, from, testId = 'pair-table' }: { data: PairData; from: 'eval' | 'batch'; testId?: string }) {
  const text = useStudio((s) => (s.evaluation.pairText?.from === from ? s.evaluation.pairText : null));
  const { request } = useActions();
  const [sort, setSort] = useState<{ key: PairSortKey; desc: boolean }>({ key: 'margin', desc: false });
  const [page, setPage] = useState(0);
  const rows = useMemo(() => sortPairRows(pairRows(data), sort.key, sort.desc), [data, sort]);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const shown = rows.slice(page * PAGE, (page + 1) * PAGE);
  const by = (key: PairSortKey) => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== 'margin' }));
  const label = (i: number) => (data.lines ? `line ${data.lines[i]}` : String(i + 1));
  return (
    <>
      <div className="table-scroll">
        <table className="metrics-table" data-testid={testId}>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="link" onClick={() => by(c.key)} data-testid={`sort-${c.key}`}>
                    {c.key === 'index' && data.lines ? 'line' : c.label}
                    {sort.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                  </button>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.index} className={text?.index === r.index ? 'selected' : undefined}>
                <td>
                  <button type="button" className="link" onClick={() => request({ type: 'eval-pair-text', index: r.index, from })} data-testid="pair-row">
                    {label(r.index)}
                  </button>
                </td>
                <td>{formatMetric(r.chosen)}</td>
                <td>{formatMetric(r.rejected)}</td>
                <td>{formatMetric(r.margin)}</td>
                <td>{r.correct ? '✓' : '✗'}</td>
                <td>{r.chosenTokens}</td>
                <td>{r.rejectedTokens}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && (
        <p className="small">
          <button type="button" className="link" disabled={page === 0} onClick={() => setPage(page - 1)}>
            previous
          </button>{' '}
          page {page + 1} of {pages}{' '}
          <button type="button" className="link" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
            next
          </button>
        </p>
      )}
      {text && (
        <div className="pair-text" data-testid="pair-text">
          <h3>Pair {label(text.index)}: chosen</h3>
          <pre>{text.chosen}</pre>
          <h3>rejected</h3>
          <pre>{text.rejected}</pre>
        </div>
      )}
    </>
  );
}

/** The last eval report's pairs. */
export function PairTable() {
  const report = useStudio((s) => s.evaluation.report);
  if (!report) return null;
  return (
    <Section title={`Per pair (${report.chosenRewards.length})`} id="pairs">
      <PairTableView data={report} from="eval" />
    </Section>
  );
}
