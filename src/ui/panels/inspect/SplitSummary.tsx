// Rows per split, format, validation counts, columns with types, and how many pairs max_length filters out.
import { Section } from '../../components/Section.tsx';
import type { DatasetReport } from '../../../worker/protocol.ts';

export function SplitSummary({ report }: { report: DatasetReport }) {
  return (
    <Section title={`Splits of ${report.source}`} id="inspect-summary">
      <table className="table" data-testid="inspect-summary">
        <thead>
          <tr>
            <th scope="col">Split</th>
            <th scope="col" className="num">
              Rows
            </th>
            <th scope="col" className="num">
              Valid
            </th>
            <th scope="col" className="num">
              Invalid
            </th>
            <th scope="col" className="num">
              Duplicates
            </th>
            <th scope="col">Format</th>
            <th scope="col" className="num">
              Over max_length {report.maxLength}
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
              <td className="num">{s.valid.toLocaleString('en-US')}</td>
              <td className={s.invalid ? 'num invalid' : 'num'}>{s.invalid}</td>
              <td className="num">{s.duplicates}</td>
              <td>{s.shape ? `${s.shape.format}${s.shape.explicitPrompt ? ' + prompt' : ''}${s.shape.margin ? ' + margin' : ''}` : '–'}</td>
              <td className="num">{s.tokens ? `${s.tokens.overMaxLength.pairs} of ${s.tokens.measured}` : '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
