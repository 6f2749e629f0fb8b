// A dropped file's validation summary: lines, valid pairs, the errors by line and field, and — when some lines were
// bad (or storing failed) — the button that imports the valid lines with the split set above.
import { useActions, useStudio } from '../../context.ts';
import type { ImportSummary } from '../../store/slices/hub.ts';
import { importSplitFor } from '../../store/slices/hub.ts';
import { splitText } from './import_split.ts';

export function ImportSummaryLine({ imp }: { imp: ImportSummary }) {
  return (
    <span className="muted">
      {imp.format} · {imp.valid} valid of {imp.lines} lines
      {imp.blankLines ? ` · ${imp.blankLines} blank skipped` : ''}
      {imp.duplicates ? ` · ${imp.duplicates} duplicates` : ''}
    </span>
  );
}

/** Rows imported although they look like mistakes (TRL trains on them): per kind, the count and the first lines. */
export function ImportWarnings({ imp }: { imp: ImportSummary }) {
  if (!imp.warnings?.length) return null;
  return (
    <ul className="import-warnings muted" data-testid="import-warnings">
      {imp.warnings.map((w, i) => (
        <li key={i}>
          {w.count} row{w.count === 1 ? '' : 's'}: {w.text} — line{w.lines.length === 1 ? '' : 's'} {w.lines.join(', ')}
          {w.count > w.lines.length ? ', …' : ''} (imported: TRL trains on them)
        </li>
      ))}
    </ul>
  );
}

export function ImportErrors({ imp }: { imp: ImportSummary }) {
  if (imp.errorCount === 0) return null;
  return (
    <div className="import-errors" role="alert">
      <p>
        {imp.errorCount} line{imp.errorCount === 1 ? '' : 's'} could not be read
        {imp.errors.length < imp.errorCount ? ` (first ${imp.errors.length} shown)` : ''}:
      </p>
      <ul data-testid="import-errors">
        {imp.errors.map((e, i) => (
          <li key={i}>
            <span className="mono">line {e.line}</span>
            {e.field ? <span className="mono"> {e.field}</span> : null}: {e.message} <span className="muted">— {e.fix}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A file validated in this tab and not stored yet. */
export function PendingImport({ imp }: { imp: ImportSummary }) {
  const { request } = useActions();
  const setting = useStudio((s) => s.importSplit);
  const pending = useStudio((s) => imp.rid in s.pending || Object.values(s.pending).some((p) => p.req.type === 'import-accept' && p.req.id === imp.id));
  const split = importSplitFor(imp.name, setting);
  return (
    <li className="import" data-testid="import-item">
      <div className="import-head">
        <strong className="mono">{imp.name}</strong>
        <ImportSummaryLine imp={imp} />
      </div>
      <ImportErrors imp={imp} />
      <ImportWarnings imp={imp} />
      {pending && <p className="muted">Storing in this browser…</p>}
      {imp.valid > 0 && !pending && (
        <button type="button" className="primary" disabled={pending} onClick={() => request({ type: 'import-accept', id: imp.id, split })} data-testid="import-accept">
          {imp.errorCount > 0 ? `Import the ${imp.valid} valid lines` : `Import ${imp.valid} pairs`} ({splitText(split)})
        </button>
      )}
    </li>
  );
}
