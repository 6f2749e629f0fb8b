// Which model and dataset the next inspection, run and evaluation use: the built-in demo, a downloaded repo, or a
// JSONL import stored in this browser.
import { useMemo } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { SelectField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { localModelName, type DatasetRef, type ModelRef } from '../../../worker/protocol.ts';

export function refKey(r: ModelRef | DatasetRef): string {
  return r.kind === 'hub' ? `hub:${r.repo}@${r.revision}` : r.kind === 'import' ? `import:${r.id}` : 'demo';
}

export function SelectionPicker() {
  const selection = useStudio((s) => s.selection);
  const files = useStudio((s) => s.storage.files);
  const downloads = useStudio(useShallow((s) => Object.values(s.downloads).filter((d) => d.status === 'done')));
  const imports = useStudio((s) => s.storedImports);
  const { setSelection } = useActions();

  const { models, datasets } = useMemo(() => {
    const models = new Map<string, ModelRef>([['demo', { kind: 'demo' }]]);
    const datasets = new Map<string, DatasetRef>([['demo', { kind: 'demo' }]]);
    for (const f of files) {
      if (f.kind === 'model') models.set(`hub:${f.repo}@${f.revision}`, { kind: 'hub', repo: f.repo, revision: f.revision });
      if (f.kind === 'dataset') datasets.set(`hub:${f.repo}@${f.revision}`, { kind: 'hub', repo: f.repo, revision: f.revision });
    }
    for (const d of downloads) (d.what === 'model' ? models : datasets).set(`hub:${d.repo}@${d.revision}`, { kind: 'hub', repo: d.repo, revision: d.revision });
    for (const i of imports) datasets.set(`import:${i.id}`, { kind: 'import', id: i.id });
    models.set(refKey(selection.model), selection.model);
    datasets.set(refKey(selection.dataset), selection.dataset);
    return { models, datasets };
  }, [files, downloads, imports, selection]);

  const label = (r: ModelRef | DatasetRef, what: string) =>
    r.kind === 'demo' ? `Demo ${what} (built in, offline)` : r.kind === 'hub' ? (localModelName(r) !== null ? `Folder ${localModelName(r)} (from disk)` : `${r.repo} @ ${r.revision}`) : `${imports.find((i) => i.id === r.id)?.name ?? r.id} (imported)`;

  return (
    <Section title="This run uses" id="selection">
      <div className="row">
        <SelectField
          label="Model to train"
          name="selectedModel"
          value={refKey(selection.model)}
          options={[...models.entries()].map(([k, r]) => ({ value: k, label: label(r, 'model: tiny Qwen3, random init') }))}
          onChange={(k) => setSelection({ model: models.get(k)! })}
        />
        <SelectField
          label="Preference data"
          name="selectedDataset"
          value={refKey(selection.dataset)}
          options={[...datasets.entries()].map(([k, r]) => ({ value: k, label: label(r, 'preferences') }))}
          onChange={(k) => setSelection({ dataset: datasets.get(k)! })}
        />
      </div>
    </Section>
  );
}
