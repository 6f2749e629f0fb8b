// What this browser stores (IndexedDB): files by repo (downloads, imports, the tokenized-dataset cache) with sizes,
// delete, and the origin's usage and quota.
import { useMemo } from 'react';
import { ProgressBar } from '../../components/ProgressBar.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { formatBytes, percent } from '../../format.ts';
import type { StoredFile } from '../../../worker/protocol.ts';

export function StoredFiles() {
  const storage = useStudio((s) => s.storage);
  const imports = useStudio((s) => s.storedImports);
  const { request } = useActions();
  const groups = useMemo(() => {
    const names = new Map(imports.map((i) => [i.id, i.name]));
    const groupOf = (f: StoredFile) => {
      if (f.kind === 'import') return `imported ${names.get(f.repo) ?? f.repo}`;
      if (f.kind === 'cache') {
        const id = f.repo.startsWith('imports/') ? names.get(f.repo.slice(8)) ?? f.repo.slice(8) : f.repo.replace(/^hub\//, '');
        return `token ids of ${id} (cache)`;
      }
      return f.kind === 'model' && f.repo.startsWith('_local/') ? `model folder ${f.repo.slice(7)}` : `${f.kind} ${f.repo}@${f.revision}`;
    };
    const m = new Map<string, StoredFile[]>();
    for (const f of storage.files) {
      const k = groupOf(f);
      m.set(k, [...(m.get(k) ?? []), f]);
    }
    return [...m.entries()];
  }, [storage.files, imports]);
  const del = (keys: string[], what: string) => {
    if (confirm(`Delete ${what} from this browser's storage?`)) request({ type: 'storage-delete', keys });
  };
  return (
    <Section
      title="Stored in this browser"
      id="stored"
      aside={
        <button type="button" onClick={() => request({ type: 'storage-list' })}>
          Refresh
        </button>
      }
    >
      {storage.usage !== null && (
        <ProgressBar label="Storage used" value={percent(storage.usage, storage.quota)} detail={`${formatBytes(storage.usage)} of ${formatBytes(storage.quota)}`} />
      )}
      {!storage.loaded ? (
        <p className="muted">Reading storage…</p>
      ) : groups.length === 0 ? (
        <p className="muted">Nothing stored yet.</p>
      ) : (
        <table className="table" data-testid="stored-files">
          <thead>
            <tr>
              <th scope="col">File</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          {groups.map(([group, files]) => (
            <tbody key={group}>
              <tr className="group">
                <th scope="rowgroup" colSpan={2}>
                  {group}
                </th>
                <td>
                  <button type="button" className="link danger" onClick={() => del(files.map((f) => f.key), group)}>
                    Delete all
                  </button>
                </td>
              </tr>
              {files.map((f) => (
                <tr key={f.key}>
                  <td className="mono">
                    {f.path}
                    {!f.complete && <span className="badge off">partial</span>}
                  </td>
                  <td className="num">{formatBytes(f.bytes)}</td>
                  <td>
                    <button type="button" className="link danger" onClick={() => del([f.key], f.path)} aria-label={`Delete ${f.path}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      )}
    </Section>
  );
}
