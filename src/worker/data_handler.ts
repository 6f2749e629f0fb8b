// The data worker's logic, separate from the worker globals so Node tests can drive it: JSONL import (validated
// line by line, streamed from the File), browser storage (list, delete, usage), Hub downloads, inspection and
// tokenization. Imports are held here by id until the train worker asks for them.
import { readPreferenceJsonl } from '../data/jsonl.ts';
import { type DataIssue, type PreferenceImport, type PreferencePair } from '../data/records.ts';
import { loadDataModule, missingModule } from './data_modules.ts';
import { errorEvent, type ImportError, type Request, type StoredFile, type WorkerEvent } from './protocol.ts';

/** Errors listed per import (all are counted). */
export const MAX_IMPORT_ERRORS = 100;

export interface DataHandlerDeps {
  post: (ev: WorkerEvent) => void;
  /** Import ids; injectable for tests. */
  newId?: () => string;
}

export interface HeldImport {
  name: string;
  read: PreferenceImport;
  records: PreferencePair[] | null;
}

function toImportError(issue: DataIssue): ImportError {
  const line = issue.place.kind === 'line' ? issue.place.line : issue.place.row + 1;
  return {
    line,
    ...(issue.field !== undefined ? { field: issue.field } : {}),
    message: issue.column !== undefined ? `${issue.message} (column ${issue.column})` : issue.message,
    fix: `Fix line ${line} of the file and drop it again, or import only the valid lines.`,
  };
}

/** Splits a storage key 'models/<org>/<name>/<revision>/<path…>' into the protocol's StoredFile fields. */
export function describeKey(key: string): Pick<StoredFile, 'kind' | 'repo' | 'revision' | 'path'> {
  const parts = key.split('/').map((s, i) => (i === 0 ? s : decodeURIComponent(s)));
  const kind = parts[0] === 'models' ? 'model' : parts[0] === 'datasets' ? 'dataset' : parts[0] === 'checkpoints' ? 'checkpoint' : 'import';
  if ((kind === 'model' || kind === 'dataset') && parts.length >= 5) {
    return { kind, repo: `${parts[1]}/${parts[2]}`, revision: parts[3], path: parts.slice(4).join('/') };
  }
  return { kind, repo: parts[1] ?? '', revision: '', path: parts.slice(2).join('/') || parts.slice(1).join('/') };
}

export function createDataHandler({ post, newId }: DataHandlerDeps): { handle: (req: Request) => Promise<void>; imports: Map<string, HeldImport> } {
  const imports = new Map<string, HeldImport>();
  let counter = 0;
  const makeId = newId ?? (() => `import-${Date.now().toString(36)}-${++counter}`);

  type Store = { list(): Promise<{ key: string; size: number; storedBytes: number; complete: boolean }[]>; delete(k: string): Promise<void>; estimate(): Promise<{ usage: number; quota: number }> };
  let storePromise: Promise<Store | null> | null = null;
  const getStore = () =>
    (storePromise ??= loadDataModule('storage-idb').then((m) => (m ? (m.openIdbFileStore as () => Promise<Store>)() : null)));

  const storageReport = async (rid: number) => {
    const store = await getStore();
    if (!store) {
      // Without the storage module there is nothing stored; still report the origin's usage.
      const est = typeof navigator !== 'undefined' && navigator.storage?.estimate ? await navigator.storage.estimate() : null;
      post({ type: 'storage-report', rid, files: [], usage: est?.usage ?? null, quota: est?.quota ?? null });
      return;
    }
    const [files, est] = await Promise.all([store.list(), store.estimate()]);
    post({
      type: 'storage-report',
      rid,
      files: files.map((f) => ({ key: f.key, ...describeKey(f.key), bytes: f.complete ? f.size : f.storedBytes, complete: f.complete })),
      usage: est.usage,
      quota: Number.isFinite(est.quota) ? est.quota : null,
    });
  };

  const handle = async (req: Request): Promise<void> => {
    switch (req.type) {
      case 'import-jsonl': {
        let read: PreferenceImport;
        try {
          read = await readPreferenceJsonl(req.file.stream(), { maxErrors: MAX_IMPORT_ERRORS });
        } catch (e) {
          post(errorEvent('model-data', e, req.rid, `Check that ${req.file.name} is a UTF-8 JSONL file, then drop it again.`));
          return;
        }
        const s = read.summary;
        const id = makeId();
        const accepted = s.invalid === 0 && s.valid > 0;
        imports.set(id, { name: req.file.name, read, records: accepted ? read.importRecords('all-or-nothing') : null });
        post({
          type: 'import-summary',
          rid: req.rid,
          id,
          name: req.file.name,
          split: req.split,
          lines: s.rows,
          valid: s.valid,
          format: s.shape ? (s.shape.format === 'tokenized' ? 'unknown' : s.shape.format) : 'unknown',
          errors: s.errors.map(toImportError),
          errorCount: s.invalid,
          blankLines: s.blankLines,
          duplicates: s.duplicates,
          accepted,
        });
        if (s.valid === 0) {
          post({ type: 'error', rid: req.rid, where: 'model-data', message: `${req.file.name}: no valid preference pair in ${s.rows} lines.`, fix: 'Each line must be a JSON object with "chosen" and "rejected" (message lists or strings); see the errors listed.' });
        }
        // TODO(storage): persist accepted records (FileStore key imports/<id>.jsonl) so a reload keeps them.
        return;
      }
      case 'import-accept': {
        const held = imports.get(req.id);
        if (!held) {
          post({ type: 'error', rid: req.rid, where: 'model-data', message: 'That import is no longer held by this tab.', fix: 'Drop the file again.' });
          return;
        }
        held.records = held.read.importRecords('valid-only');
        post({ type: 'import-accepted', rid: req.rid, id: req.id, pairs: held.records.length });
        return;
      }
      case 'storage-list':
        try {
          await storageReport(req.rid);
        } catch (e) {
          post(errorEvent('model-data', e, req.rid, 'The browser storage could not be read: allow site storage for localhost, then press Refresh.'));
        }
        return;
      case 'storage-delete': {
        const store = await getStore();
        try {
          if (store) for (const k of req.keys) await store.delete(k);
          await storageReport(req.rid);
        } catch (e) {
          post(errorEvent('model-data', e, req.rid));
        }
        return;
      }
      case 'download': {
        const hub = await loadDataModule('hub');
        // TODO(hub.ts): call its download API with per-file progress once it lands.
        post({ type: 'error', rid: req.rid, where: 'model-data', ...(hub ? { message: 'Hub downloads are not wired to src/data/hub.ts in this build yet.', fix: 'Update to a build that wires them; import a JSONL file meanwhile.' } : missingModule('hub', 'Downloading from the Hub')) });
        return;
      }
      case 'cancel':
        return;
      case 'inspect': {
        const mod = await loadDataModule('inspect');
        // TODO(inspect.ts): call its report function and map it to the protocol's InspectReport.
        post({ type: 'error', rid: req.rid, where: 'inspect', ...(mod ? { message: 'Inspection is not wired to src/data/inspect.ts in this build yet.', fix: 'Update to a build that wires it.' } : missingModule('inspect', 'Dataset inspection')) });
        return;
      }
      case 'tokenize': {
        const mod = await loadDataModule('tokenize');
        // TODO(tokenize.ts): tokenize with the model's chat template, post tokenize-progress / tokenize-done.
        post({ type: 'error', rid: req.rid, where: 'train', ...(mod ? { message: 'Tokenization is not wired to src/data/tokenize.ts in this build yet.', fix: 'Update to a build that wires it.' } : missingModule('tokenize', 'Tokenization')) });
        return;
      }
      default:
        post({ type: 'error', rid: req.rid, where: 'worker', message: `The data worker does not handle "${req.type}".`, fix: 'This is a bug in the studio: reload the page and report it.' });
    }
  };
  return { handle, imports };
}
