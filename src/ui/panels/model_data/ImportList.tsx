// Imported JSONL files: the summary of each (lines, valid, the errors with line and field), an "Import the valid
// lines" button when some lines were bad, and a file picker for keyboard users (dropping works anywhere).
import { useId } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { isJsonl } from '../../shell/DropZone.tsx';
import type { ImportSummary } from '../../store/slices/hub.ts';

function ImportItem({ imp }: { imp: ImportSummary }) {
  const { request } = useActions();
  return (
    <li className="import" data-testid="import-item">
      <div className="import-head">
        <strong className="mono">{imp.name}</strong>
        <span className="muted">
          {imp.split} · {imp.format} · {imp.valid} valid of {imp.lines} lines
          {imp.blankLines ? ` · ${imp.blankLines} blank skipped` : ''}
          {imp.duplicates ? ` · ${imp.duplicates} duplicates` : ''}
        </span>
      </div>
      {imp.errorCount > 0 && (
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
      )}
      {imp.accepted ? (
        <p className="ok" data-testid="import-accepted">
          {imp.pairs ?? imp.valid} pairs ready to use.
        </p>
      ) : (
        imp.valid > 0 && (
          <button type="button" className="primary" onClick={() => request({ type: 'import-accept', id: imp.id })} data-testid="import-accept">
            Import the {imp.valid} valid lines
          </button>
        )
      )}
    </li>
  );
}

export function ImportList() {
  const imports = useStudio((s) => s.imports);
  const { request, showError } = useActions();
  const inputId = useId();
  const pick = (files: FileList | null) => {
    for (const file of files ?? []) {
      if (!isJsonl(file)) {
        showError('model-data', `${file.name}: not a JSONL file.`, 'Choose a .jsonl file with one preference pair per line.');
        continue;
      }
      request({ type: 'import-jsonl', file, split: /test|eval/i.test(file.name) ? 'test' : 'train' });
    }
  };
  return (
    <Section
      title="Your JSONL files"
      id="imports"
      aside={
        <>
          <label htmlFor={inputId} className="button">
            Choose JSONL…
          </label>
          <input id={inputId} className="visually-hidden" type="file" accept=".jsonl,.json,application/jsonl" multiple onChange={(e) => pick(e.target.files)} data-testid="jsonl-input" />
        </>
      }
    >
      {imports.length === 0 ? (
        <p className="muted">
          Drop a <code>.jsonl</code> file anywhere on this page: one pair per line with <code>chosen</code> and <code>rejected</code> (message lists or strings), optional <code>prompt</code> and <code>margin</code>. A name containing “test” imports as the test split.
        </p>
      ) : (
        <ul className="plain">
          {imports.map((imp) => (
            <ImportItem key={imp.id} imp={imp} />
          ))}
        </ul>
      )}
    </Section>
  );
}
