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

/** A model folder's files with paths relative to the folder. */
export type FolderFiles = { path: string; file: File }[];

/** Files chosen with <input webkitdirectory> (webkitRelativePath 'folder/…') or several files of one folder. */
export function folderFromFileList(list: Iterable<File>): { name: string; files: FolderFiles } | null {
  const all = [...list];
  if (!all.length) return null;
  const rel = (f: File) => (f as File & { webkitRelativePath?: string }).webkitRelativePath || f.name;
  const first = rel(all[0]);
  const name = first.includes('/') ? first.split('/')[0] : 'model-folder';
  return { name, files: all.map((f) => ({ path: rel(f).includes('/') ? rel(f).split('/').slice(1).join('/') : f.name, file: f })) };
}

/** The top-level files of a folder handle (File System Access API: showDirectoryPicker, getAsFileSystemHandle). */
export async function folderFromHandle(dir: FileSystemDirectoryHandle): Promise<{ name: string; files: FolderFiles }> {
  const files: FolderFiles = [];
  for await (const h of (dir as unknown as { values(): AsyncIterable<FileSystemHandle> }).values()) {
    if (h.kind === 'file') files.push({ path: h.name, file: await (h as FileSystemFileHandle).getFile() });
  }
  return { name: dir.name, files };
}

/** The top-level files of a dropped folder (DataTransferItem.webkitGetAsEntry). */
export async function folderFromEntry(dir: FileSystemDirectoryEntry): Promise<{ name: string; files: FolderFiles }> {
  const reader = dir.createReader();
  const entries: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((res, rej) => reader.readEntries(res, rej));
    if (!batch.length) break;
    entries.push(...batch);
  }
  const files: FolderFiles = [];
  for (const e of entries) {
    if (e.isFile) files.push({ path: e.name, file: await new Promise<File>((res, rej) => (e as FileSystemFileEntry).file(res, rej)) });
  }
  return { name: dir.name, files };
}

/** Sends a model folder to the data worker: checked, copied once into this browser's storage, then selected. */
export function importModelFolder(store: StoreApi<StudioState>, folder: { name: string; files: FolderFiles } | null): void {
  if (!folder || !folder.files.length) return;
  store.getState().request({ type: 'import-model-folder', name: folder.name, files: folder.files });
}

/** showDirectoryPicker where the browser offers it (Chrome, Edge); null elsewhere (use <input webkitdirectory>). */
export function directoryPicker(): (() => Promise<FileSystemDirectoryHandle>) | null {
  const w = globalThis as unknown as { showDirectoryPicker?: (o?: { mode?: string }) => Promise<FileSystemDirectoryHandle> };
  return w.showDirectoryPicker ? () => w.showDirectoryPicker!({ mode: 'read' }) : null;
}
