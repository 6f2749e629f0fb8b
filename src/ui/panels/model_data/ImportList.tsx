// Imported JSONL files: the split new imports get (test_size, seed), files validated in this tab and waiting for
// "Import the valid lines", and the imports stored in this browser (pairs, split, files and sizes, delete). A file
// picker serves keyboard users (dropping works anywhere on the page).
import { useId } from 'react';
import { NumberField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { isJsonl } from '../../shell/DropZone.tsx';
import { importSplitFor } from '../../store/slices/hub.ts';
import { PendingImport } from './PendingImport.tsx';
import { StoredImportItem } from './StoredImportItem.tsx';

export function ImportList() {
  const imports = useStudio((s) => s.imports);
  const stored = useStudio((s) => s.storedImports);
  const setting = useStudio((s) => s.importSplit);
  const { request, showError, setImportSplit } = useActions();
  const api = useStudioApi();
  const inputId = useId();
  const pick = (files: FileList | null) => {
    for (const file of files ?? []) {
      if (!isJsonl(file)) {
        showError('model-data', `${file.name}: not a JSONL file.`, 'Choose a .jsonl file with one preference pair per line.');
        continue;
      }
      request({ type: 'import-jsonl', file, split: importSplitFor(file.name, api.getState().importSplit), model: api.getState().selection.model });
    }
  };
  const pendingOnes = imports.filter((i) => !stored.some((s) => s.id === i.id) && i.pairs === null);
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
      <div className="row" data-testid="import-split-setting">
        <NumberField
          label="Test split (test_size)"
          name="import_test_size"
          value={setting.test_size}
          onChange={(v) => v !== null && setImportSplit({ test_size: v })}
          hint="For new imports: a fraction (0.1 = 10%) or a number of pairs, as datasets' train_test_split; 0 = no test split."
        />
        <NumberField label="Split seed" name="import_seed" value={setting.seed} onChange={(v) => v !== null && setImportSplit({ seed: v })} hint="Same seed, same split." />
      </div>
      {pendingOnes.length === 0 && stored.length === 0 ? (
        <p className="muted">
          Drop a <code>.jsonl</code> file anywhere on this page: one pair per line with <code>chosen</code> and <code>rejected</code> (message lists or strings), optional <code>prompt</code> and <code>margin</code>. It is stored in this browser with a seeded train/test split; a name containing “test” or “eval” imports as a test split.
        </p>
      ) : (
        <ul className="plain">
          {pendingOnes.map((imp) => (
            <PendingImport key={imp.id} imp={imp} />
          ))}
          {stored.map((imp) => (
            <StoredImportItem key={imp.id} imp={imp} />
          ))}
        </ul>
      )}
    </Section>
  );
}
