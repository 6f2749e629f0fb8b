// Drop a JSONL file anywhere on the page to import it as a preference dataset (stored in the browser with the split
// set in Model & data; a file named like "test"/"eval" becomes a test split as a whole). An element marked
// data-drop-target handles its own drops (batch scoring), so this one ignores those.
import { useEffect, useState } from 'react';
import { useActions, useStudioApi } from '../context.ts';
import { importSplitFor } from '../store/slices/hub.ts';

export function isJsonl(file: File): boolean {
  return /\.jsonl?$/i.test(file.name) || file.type === 'application/jsonl' || file.type === 'application/x-ndjson';
}

export function GlobalDropZone() {
  const [over, setOver] = useState(false);
  const { request, setTab, showError } = useActions();
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
      for (const file of e.dataTransfer!.files) {
        if (!isJsonl(file)) {
          showError('model-data', `${file.name}: not a JSONL file.`, 'Drop a .jsonl file with one preference pair per line (chosen/rejected, optionally prompt and margin).');
          continue;
        }
        setTab('model-data');
        request({ type: 'import-jsonl', file, split: importSplitFor(file.name, api.getState().importSplit), model: api.getState().selection.model });
      }
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
  }, [request, setTab, showError, api]);
  return over ? (
    <div className="drop-overlay" aria-hidden>
      <div>Drop a JSONL preference file to import it</div>
    </div>
  ) : null;
}
