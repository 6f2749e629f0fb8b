// Rows per split, format, columns with types, and how many pairs max_length filters out.
import { Section } from '../../components/Section.tsx';
import type { InspectReport } from '../../../worker/protocol.ts';

export function SplitSummary({ report }: { report: InspectReport }) {
  return (
    <Section title="Splits and columns" id="inspect-summary">
      <table className="table" data-testid="inspect-summary">
        <thead>
          <tr>
            <th scope="col">Split</th>
            <th scope="col" className="num">
              Rows
            </th>
            <th scope="col">Format</th>
            <th scope="col">Columns (type)</th>
            <th scope="col" className="num">
              Over max_length ({report.maxLength})
            </th>
          </tr>
        </thead>
        <tbody>
          {report.splits.map((s) => (
            <tr key={s.split} data-testid={`inspect-split-${s.split}`}>
              <th scope="row">{s.split}</th>
              <td className="num" data-testid={`rows-${s.split}`}>
                {s.rows.toLocaleString('en-US')}
              </td>
              <td>{s.format}</td>
              <td className="mono">{s.columns.map((c) => `${c.name} (${c.type})`).join(', ')}</td>
              <td className="num">{s.overMaxLength === undefined ? '–' : `${s.overMaxLength} (${((100 * s.overMaxLength) / Math.max(1, s.rows)).toFixed(1)}%)`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
