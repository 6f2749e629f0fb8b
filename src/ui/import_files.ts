// Files chosen or dropped for import: JSONL goes to the data worker; a .json file holding one JSON array is held
// on the page with one message and a one-click conversion (JsonArrayNote), instead of an error on every line.
import { jsonArrayToJsonl, jsonlName, looksLikeJsonArray } from '../data/json_array.ts';
import { isJsonl } from './shell/DropZone.tsx';
import { importSplitFor } from './store/slices/hub.ts';
import type { StoreApi } from 'zustand/vanilla';
import type { StudioState } from './store/store.ts';

export async function importFiles(store: StoreApi<StudioState>, files: Iterable<File>): Promise<void> {
  for (const file of files) {
    const s = store.getState();
    if (!isJsonl(file)) {
      s.showError('model-data', `${file.name}: not a JSONL file.`, 'Choose a .jsonl file with one preference pair per line (chosen/rejected, optionally prompt and margin).');
      continue;
    }
    if (/\.json$/i.test(file.name) && looksLikeJsonArray(await file.slice(0, 256).text())) {
      store.setState({ jsonArrays: [...s.jsonArrays.filter((f) => f.name !== file.name), file] });
      continue;
    }
    s.request({ type: 'import-jsonl', file, split: importSplitFor(file.name, s.importSplit), model: s.selection.model });
  }
}

/** Converts a held JSON array file to JSONL (one record per line) and imports that. */
export async function convertJsonArray(store: StoreApi<StudioState>, file: File): Promise<void> {
  const s = store.getState();
  store.setState({ jsonArrays: s.jsonArrays.filter((f) => f !== file) });
  try {
    const { jsonl } = jsonArrayToJsonl(await file.text(), file.name);
    const converted = new File([jsonl], jsonlName(file.name), { type: 'application/jsonl' });
    s.request({ type: 'import-jsonl', file: converted, split: importSplitFor(converted.name, s.importSplit), model: s.selection.model });
  } catch (e) {
    s.showError('model-data', (e as Error).message, 'Fix the file (one JSON array of {"chosen": …, "rejected": …} objects), then choose it again.');
  }
}
