// Per-pair insight for the last eval report: a sortable table of the scored pairs (both rewards, the margin,
// correct/incorrect, token lengths); clicking a row asks the worker for that pair's text (decoded from the token ids
// that were scored, special tokens included).
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

export function PairTable() {
  const report = useStudio((s) => s.evaluation.report);
  const text = useStudio((s) => s.evaluation.pairText);
  const { request } = useActions();
  const [sort, setSort] = useState<{ key: PairSortKey; desc: boolean }>({ key: 'margin', desc: false });
  const [page, setPage] = useState(0);
  const rows = useMemo(() => (report ? sortPairRows(pairRows(report), sort.key, sort.desc) : []), [report, sort]);
  if (!report) return null;
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  const shown = rows.slice(page * PAGE, (page + 1) * PAGE);
  const by = (key: PairSortKey) => setSort((s) => ({ key, desc: s.key === key ? !s.desc : key !== 'margin' }));
  return (
    <Section title={`Per pair (${rows.length})`} id="pairs">
      <div className="table-scroll">
        <table className="metrics-table" data-testid="pair-table">
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th key={c.key} aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}>
                  <button type="button" className="link" onClick={() => by(c.key)} data-testid={`sort-${c.key}`}>
                    {c.label}
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
                  <button type="button" className="link" onClick={() => request({ type: 'eval-pair-text', index: r.index })} data-testid="pair-row">
                    {r.index + 1}
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
          <h3>Pair {text.index + 1}: chosen</h3>
          <pre>{text.chosen}</pre>
          <h3>rejected</h3>
          <pre>{text.rejected}</pre>
        </div>
      )}
    </Section>
  );
}
