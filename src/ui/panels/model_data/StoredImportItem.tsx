// An import stored in this browser: its pairs and split (train/test counts with test_size and seed), the stored
// files with their sizes, a form to change the split, and delete. This tab's validation summary shows above it
// when the file was dropped in this tab.
import { useState } from 'react';
import { NumberField } from '../../components/fields.tsx';
import { useActions, useStudio } from '../../context.ts';
import { formatBytes } from '../../format.ts';
import type { StoredImport } from '../../../worker/protocol.ts';
import { ImportErrors, ImportSummaryLine, ImportWarnings } from './PendingImport.tsx';
import { splitCountsText } from './import_split.ts';

function SplitForm({ imp, onDone }: { imp: StoredImport; onDone: () => void }) {
  const { request } = useActions();
  const [testSize, setTestSize] = useState<number | null>(imp.split.kind === 'seeded' ? imp.split.test_size : 0.1);
  const [seed, setSeed] = useState<number | null>(imp.split.kind === 'seeded' ? imp.split.seed : 42);
  const apply = () => {
    if (testSize === null || seed === null) return;
    request({ type: 'import-resplit', id: imp.id, split: testSize === 0 ? { kind: 'whole', split: 'train' } : { kind: 'seeded', test_size: testSize, seed } });
    onDone();
  };
  return (
    <div className="row split-form" data-testid="import-split-form">
      <NumberField label="test_size" value={testSize} onChange={setTestSize} hint="Fraction (0.1) or number of test pairs; 0 = no test split." />
      <NumberField label="seed" value={seed} onChange={setSeed} />
      <div className="actions">
        <button type="button" className="primary" onClick={apply} data-testid="import-split-apply">
          Apply
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </div>
  );
}

export function StoredImportItem({ imp }: { imp: StoredImport }) {
  const summary = useStudio((s) => s.imports.find((i) => i.id === imp.id));
  const { request } = useActions();
  const [editing, setEditing] = useState(false);
  const bytes = imp.files.reduce((n, f) => n + f.bytes, 0);
  const del = () => {
    if (confirm(`Delete the import ${imp.name} from this browser's storage?`)) request({ type: 'import-delete', id: imp.id });
  };
  return (
    <li className="import" data-testid="stored-import" data-import-id={imp.id}>
      <div className="import-head">
        <strong className="mono">{imp.name}</strong>
        {summary ? <ImportSummaryLine imp={summary} /> : <span className="muted">{imp.format} · stored {new Date(imp.createdAt).toLocaleString()}</span>}
      </div>
      {summary && <ImportErrors imp={summary} />}
      {summary && <ImportWarnings imp={summary} />}
      <p className="ok" data-testid="import-accepted">
        {imp.pairs} pairs stored: <span data-testid="import-split">{splitCountsText(imp)}</span>
      </p>
      <p className="small muted" data-testid="import-files">
        {imp.files.map((f) => `${f.path} ${formatBytes(f.bytes)}`).join(' · ')} — {formatBytes(bytes)} in this browser
      </p>
      {editing ? (
        <SplitForm imp={imp} onDone={() => setEditing(false)} />
      ) : (
        <div className="actions">
          <button type="button" className="link" onClick={() => setEditing(true)} data-testid="import-split-edit">
            Change split
          </button>
          <button type="button" className="link danger" onClick={del} aria-label={`Delete ${imp.name}`} data-testid="import-delete">
            Delete
          </button>
        </div>
      )}
    </li>
  );
}
