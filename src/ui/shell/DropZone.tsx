// Drop a JSONL file anywhere on the page to import it as a preference dataset, or a model folder to copy it into the
// browser's storage and select it as the model (stored in the browser with the split
// set in Model & data; a file named like "test"/"eval" becomes a test split as a whole). An element marked
// data-drop-target handles its own drops (batch scoring), so this one ignores those.
import { useEffect, useState } from 'react';
import { useActions, useStudioApi } from '../context.ts';
import { folderFromEntry, folderFromHandle, importFiles, importModelFolder } from '../import_files.ts';

export function isJsonl(file: File): boolean {
  return /\.jsonl?$/i.test(file.name) || file.type === 'application/jsonl' || file.type === 'application/x-ndjson';
}

export function GlobalDropZone() {
  const [over, setOver] = useState(false);
  const { setTab } = useActions();
  const api = useStudioApi();
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
    const inTarget = (e: Event) => (e.target as Element | null)?.closest?.('[data-drop-target]') != null;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setOver(!inTarget(e));
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const overFn = (e: DragEvent) => {
      if (!hasFiles(e) || inTarget(e)) return;
      e.preventDefault();
      setOver(true);
    };
    const drop = (e: DragEvent) => {
      depth = 0;
      setOver(false);
      if (!hasFiles(e) || inTarget(e)) return;
      e.preventDefault();
      setTab('model-data');
      // a dropped folder is a model folder: entries must be taken now, while the drop event lasts
      const items = [...e.dataTransfer!.items].filter((i) => i.kind === 'file');
      const dirs = items.map((i) => i.webkitGetAsEntry?.()).filter((en): en is FileSystemDirectoryEntry => !!en?.isDirectory);
      if (dirs.length) {
        const handle = (items[0] as DataTransferItem & { getAsFileSystemHandle?: () => Promise<FileSystemHandle | null> }).getAsFileSystemHandle?.();
        void (async () => {
          const h = await handle?.catch(() => null);
          const folder = h?.kind === 'directory' ? await folderFromHandle(h as FileSystemDirectoryHandle) : await folderFromEntry(dirs[0]);
          importModelFolder(api, folder);
        })().catch((err: Error) => api.getState().showError('model-data', `The dropped folder could not be read: ${err.message}`, 'Choose it with "Choose a model folder…" in Model & data instead.'));
        return;
      }
      void importFiles(api, [...e.dataTransfer!.files]);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', overFn);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', overFn);
      window.removeEventListener('drop', drop);
    };
  }, [setTab, api]);
  return over ? (
    <div className="drop-overlay" aria-hidden>
      <div>Drop a JSONL preference file to import it, or a model folder to use it</div>
    </div>
  ) : null;
}
