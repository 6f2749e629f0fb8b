// The data worker's logic, separate from the worker globals so Node tests can drive it: JSONL import (validated
// line by line, streamed from the File, then stored in the FileStore with its split: imports.ts), browser storage
// (list, delete, usage), Hub downloads with progress and cancel, inspection, and tokenization with its IndexedDB
// cache (data_tokenize.ts) — for the page (requests) and for the train worker (port requests).
// A file with bad lines is held in this tab until the user imports its valid lines (never a silent partial import).
import { BestOfNError, flattenBestOfN, readBestOfNJsonl, tokenizeBestOfN } from '../data/best_of_n.ts';
import { downloadHubRepo } from '../data/hub.ts';
import { importModelFolder, LocalModelError } from '../data/local_model.ts';
import { HubPushError, pushToHub } from '../data/hub_push.ts';
import type { DownloadProgress } from '../data/hub-progress.ts';
import { inspectJsonl, inspectParquet, type DatasetReport } from '../data/inspect.ts';
import { looksLikePairFile, readPreferenceJsonl, readScoreJsonl } from '../data/jsonl.ts';
import type { DataIssue, PreferenceImport } from '../data/records.ts';
import type { FileStore } from '../data/storage.ts';
import { tokenizePair, tokenizeScoreRecord } from '../data/tokenize.ts';
import type { ChatTokenizer, TokenizerFiles } from '../data/tokenizer.ts';
import { datasetSplits, DataSourceError, modelVocabSize } from './data_sources.ts';
import { createTokenizeService, refKey } from './data_tokenize.ts';
import { deleteImport, importIdOfKey, ImportStoreError, listStoredImports, readImportMeta, resplitImport, storeImport } from './imports.ts';
import {
  errorEvent, type Area, type ImportError, type ImportSplit, type PortReply, type PortRequest, type Request, type StoredFile, type WorkerEvent,
} from './protocol.ts';
import { cacheDatasetId, cacheKeysOfDataset } from './tokenized_idb.ts';
import { runDataNames } from './run_data_files.ts';
import type { ByteSource } from '../data/jsonl.ts';

/** All bytes of a stream (a run's split, for export). */
async function collectBytes(src: ByteSource): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  for await (const c of src as AsyncIterable<Uint8Array | string>) parts.push(typeof c === 'string' ? enc.encode(c) : c);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export { refKey };

/** Errors listed per import (all are counted). */
export const MAX_IMPORT_ERRORS = 100;
/** At most one download-progress event per this many ms (plus one per file status change). */
const PROGRESS_INTERVAL_MS = 150;

export interface DataHandlerDeps {
  post: (ev: WorkerEvent) => void;
  /** The file store (IndexedDB in the browser; a folder or memory in tests). */
  openStore: () => Promise<FileStore>;
  /** tokenizer.json + tokenizer_config.json of the demo model (the real Qwen3 files, bundled with the app). */
  demoTokenizerFiles: () => Promise<TokenizerFiles>;
  /** Import ids; injectable for tests. */
  newId?: () => string;
  fetch?: typeof fetch;
}

/** A validated file waiting for the user to import its valid lines (or to fix its split). */
export interface PendingImport {
  file: File;
  split: ImportSplit;
  read: PreferenceImport;
}

export interface DataHandler {
  handle(req: Request): Promise<void>;
  /** Answers the train worker's port requests; `transfer` lists the buffers to move with the reply. */
  handlePort(req: PortRequest): Promise<{ reply: PortReply; transfer: Transferable[] }>;
  pending: Map<string, PendingImport>;
}

function toImportError(issue: DataIssue): ImportError {
  const line = issue.place.kind === 'line' ? issue.place.line : issue.place.row + 1;
  return {
    line,
    ...(issue.field !== undefined ? { field: issue.field } : {}),
    message: issue.column !== undefined ? `${issue.message} (column ${issue.column})` : issue.message,
    fix: 'Fix the lines named and drop the file again, or import only the valid lines.',
  };
}

/** Splits a storage key 'models/<org>/<name>/<revision>/<path…>' into the protocol's StoredFile fields. */
export function describeKey(key: string): Pick<StoredFile, 'kind' | 'repo' | 'revision' | 'path'> {
  const parts = key.split('/').map((s, i) => (i === 0 ? s : decodeURIComponent(s)));
  const kinds: Record<string, StoredFile['kind']> = { models: 'model', datasets: 'dataset', checkpoints: 'checkpoint', imports: 'import', tokenized: 'cache' };
  const kind = kinds[parts[0]] ?? 'import';
  if ((kind === 'model' || kind === 'dataset') && parts.length >= 5) {
    return { kind, repo: `${parts[1]}/${parts[2]}`, revision: parts[3], path: parts.slice(4).join('/') };
  }
  // tokenized/v1/<dataset id…>@<revision>/<split>/tok-…/tpl-…/max-…: the dataset as repo, the rest as path
  if (kind === 'cache') {
    const at = parts.findIndex((p, i) => i >= 2 && p.includes('@'));
    if (at > 0) {
      const [last, revision] = parts[at].split('@');
      return { kind, repo: [...parts.slice(2, at), last].join('/'), revision, path: parts.slice(at + 1).join('/') };
    }
  }
  return { kind, repo: parts[1] ?? '', revision: '', path: parts.slice(2).join('/') || parts.slice(1).join('/') };
}

/** The fix for an error raised while reading data, by its kind. */
function dataFix(e: unknown, fallback: string): string | undefined {
  if (e instanceof DataSourceError || e instanceof ImportStoreError || e instanceof BestOfNError || e instanceof HubPushError || e instanceof LocalModelError) return e.fix;
  const name = (e as Error)?.name;
  if (name === 'StorageFullError') return 'Delete stored files you no longer need (Stored in this browser), then try again.';
  if (name === 'HubDownloadError') return 'Check the repo id, revision, Hub base URL and token above, then press Download again: it resumes.';
  if (name === 'HubSelectionError') return 'Pick a repo with what the studio needs: a Qwen3 model (config.json, safetensors, tokenizer files) or a dataset with parquet/JSONL splits.';
  return fallback;
}

export function createDataHandler(deps: DataHandlerDeps): DataHandler {
  const { post } = deps;
  const pending = new Map<string, PendingImport>();
  const downloads = new Map<number, AbortController>();
  let counter = 0;
  const makeId = deps.newId ?? (() => `import-${Date.now().toString(36)}-${++counter}`);
  let storePromise: Promise<FileStore> | null = null;
  const getStore = () => (storePromise ??= deps.openStore());
  const tokenize = createTokenizeService({ getStore, demoTokenizerFiles: deps.demoTokenizerFiles, post });

  const fail = (rid: number | undefined, where: Area, e: unknown, fallbackFix: string) => post(errorEvent(where, e, rid, dataFix(e, fallbackFix)));

  /** Stored files with usage and quota, preceded by the stored imports (both describe the same storage). */
  const storageReport = async (rid: number) => {
    const store = await getStore();
    const [files, est, imports] = await Promise.all([store.list(), store.estimate(), listStoredImports(store)]);
    post({ type: 'imports-stored', rid: 0, imports });
    post({
      type: 'storage-report',
      rid,
      files: files.map((f) => ({ key: f.key, ...describeKey(f.key), bytes: f.complete ? f.size : f.storedBytes, complete: f.complete })),
      usage: est.usage,
      quota: Number.isFinite(est.quota) ? est.quota : null,
    });
  };

  /** Forgets what this tab holds for an import and deletes its files and cached token ids. */
  const removeImport = async (store: FileStore, id: string) => {
    await deleteImport(store, id);
    for (const k of cacheKeysOfDataset((await store.list()).map((f) => f.key), cacheDatasetId({ kind: 'import', id }))) await store.delete(k);
    tokenize.forget((k) => k.startsWith(`import:${id}|`));
    pending.delete(id);
  };

  /** Stores a validated file's pairs with its split; on failure (split too large, storage full) it stays pending. */
  const storePending = async (rid: number, id: string, held: PendingImport) => {
    try {
      const store = await getStore();
      const records = held.read.importRecords(held.read.summary.invalid === 0 ? 'all-or-nothing' : 'valid-only');
      const lines = held.read.recordPlaces.map((p) => (p.kind === 'line' ? p.line : p.row + 1));
      const stored = await storeImport(store, { id, name: held.file.name, records, split: held.split, lines });
      pending.delete(id);
      post({ type: 'import-accepted', rid, id, pairs: stored.pairs, stored });
      await storageReport(0);
    } catch (e) {
      pending.set(id, held);
      fail(rid, 'model-data', e, 'Delete stored files you no longer need, then press Import again.');
    }
  };

  const download = async (req: Extract<Request, { type: 'download' }>) => {
    const ac = new AbortController();
    downloads.set(req.rid, ac);
    let last = 0;
    let lastStatuses = '';
    const onProgress = (p: DownloadProgress) => {
      const statuses = p.files.map((f) => f.status).join();
      const now = Date.now();
      if (now - last < PROGRESS_INTERVAL_MS && statuses === lastStatuses) return;
      last = now;
      lastStatuses = statuses;
      post({
        type: 'download-progress',
        rid: req.rid,
        repo: req.repo,
        files: p.files.map((f) => ({ path: f.path, bytes: f.bytes, size: f.size, status: f.status, ...(f.error ? { error: f.error } : {}) })),
        overall: {
          loaded: p.doneBytes,
          total: p.totalBytes,
          filesDone: p.files.filter((f) => f.status === 'complete' || f.status === 'skipped').length,
          filesTotal: p.files.length,
          rate: p.rate,
          etaSeconds: p.etaSeconds,
        },
      });
    };
    try {
      const store = await getStore();
      const result = await downloadHubRepo(store, { type: req.what, name: req.repo, revision: req.revision }, {
        hubUrl: req.hubUrl,
        ...(req.token ? { accessToken: req.token } : {}),
        onProgress,
        signal: ac.signal,
        ...(deps.fetch ? { fetch: deps.fetch } : {}),
      });
      // a new download replaces what this tab held for the repo (the IndexedDB cache is keyed by content)
      tokenize.forget((k) => k.includes(`hub:${result.repo.name}@`));
      post({ type: 'download-done', rid: req.rid, what: req.what, repo: result.repo.name, revision: result.repo.revision, files: result.files.map((f) => f.path) });
    } catch (e) {
      if (ac.signal.aborted) post({ type: 'download-cancelled', rid: req.rid });
      else fail(req.rid, 'model-data', e, 'Check the repo id, revision and Hub base URL, then press Download again: it resumes.');
    } finally {
      downloads.delete(req.rid);
      await storageReport(0).catch(() => undefined);
    }
  };

  const inspect = async (req: Extract<Request, { type: 'inspect' }>) => {
    const store = await getStore();
    let tokenizer: ChatTokenizer | undefined;
    try {
      tokenizer = await tokenize.tokenizerOf(req.model);
    } catch (e) {
      // inspection still works without token lengths; say why they are missing
      post({ type: 'warning', where: 'inspect', message: `Token lengths are not shown: ${(e as Error).message}` });
    }
    const opts = { tokenizer, maxLength: req.maxLength, examples: 3, bins: 20, maxErrors: 10 };
    const splits = await datasetSplits(req.dataset, store);
    const d = req.dataset;
    const report: DatasetReport = {
      source: d.kind === 'hub' ? `${d.repo}@${d.revision}` : d.kind === 'demo' ? 'demo preferences' : ((await readImportMeta(store, d.id))?.name ?? d.id),
      maxLength: req.maxLength,
      splits: [],
    };
    for (const s of splits) {
      report.splits.push(s.kind === 'jsonl' ? await inspectJsonl(s.split, s.name, s.open(), { ...opts, ...(s.lineOf ? { lineOf: s.lineOf } : {}) }) : await inspectParquet(s.split, s.shards, opts));
    }
    post({ type: 'inspect-report', rid: req.rid, report });
  };

  const importJsonl = async (req: Extract<Request, { type: 'import-jsonl' }>) => {
    let read: PreferenceImport;
    try {
      const vocabSize = await modelVocabSize(req.model, await getStore());
      read = await readPreferenceJsonl(req.file.stream(), { maxErrors: MAX_IMPORT_ERRORS, ...(vocabSize !== undefined ? { vocabSize } : {}) });
    } catch (e) {
      fail(req.rid, 'model-data', e, `Check that ${req.file.name} is a UTF-8 JSONL file, then drop it again.`);
      return;
    }
    const s = read.summary;
    const id = makeId();
    const accepted = s.invalid === 0 && s.valid > 0;
    post({
      type: 'import-summary',
      rid: req.rid,
      id,
      name: req.file.name,
      split: req.split,
      lines: s.rows,
      valid: s.valid,
      format: s.shape ? (s.shape.format === 'tokenized' ? 'unknown' : s.shape.format) : 'unknown',
      explicitPrompt: !!s.shape?.explicitPrompt,
      errors: s.errors.map(toImportError),
      errorCount: s.invalid,
      blankLines: s.blankLines,
      duplicates: s.duplicates,
      warnings: s.warnings.map((w) => ({ text: w.text, count: w.count, lines: w.first.map((i) => (i.place.kind === 'line' ? i.place.line : i.place.row + 1)) })),
      accepted,
    });
    if (s.valid === 0) {
      post({ type: 'error', rid: req.rid, where: 'model-data', message: `${req.file.name}: no valid preference pair in ${s.rows} lines.`, fix: 'Each line must be a JSON object with "chosen" and "rejected" (message lists or strings); see the errors listed.' });
      return;
    }
    const held: PendingImport = { file: req.file, split: req.split, read };
    if (accepted) await storePending(req.rid, id, held);
    else pending.set(id, held);
  };

  const handle = async (req: Request): Promise<void> => {
    switch (req.type) {
      case 'import-jsonl':
        return importJsonl(req);
      case 'import-accept': {
        const held = pending.get(req.id);
        if (!held) {
          post({ type: 'error', rid: req.rid, where: 'model-data', message: 'That file is no longer held by this tab (a file with bad lines waits in its tab until imported).', fix: 'Drop the file again.' });
          return;
        }
        if (req.split) held.split = req.split;
        return storePending(req.rid, req.id, held);
      }
      case 'import-resplit':
        try {
          const store = await getStore();
          await resplitImport(store, req.id, req.split);
          tokenize.forget((k) => k.startsWith(`import:${req.id}|`));
          await storageReport(req.rid);
        } catch (e) {
          fail(req.rid, 'model-data', e, 'Change test_size or the seed, then apply again.');
        }
        return;
      case 'import-delete':
        try {
          const store = await getStore();
          await removeImport(store, req.id);
          await storageReport(req.rid);
        } catch (e) {
          fail(req.rid, 'model-data', e, 'Reload the page and try again.');
        }
        return;
      case 'export-data':
        try {
          const store = await getStore();
          const meta = req.dataset.kind === 'import' ? await readImportMeta(store, req.dataset.id) : null;
          const names = runDataNames(req.dataset, meta?.name, meta?.split ?? null);
          if (!names) throw new DataSourceError('A Hub dataset is loaded by its id in the TRL script: there is no file to write.', 'Use the script as it is.');
          const files = [];
          for (const src of await datasetSplits(req.dataset, store)) {
            if (src.kind !== 'jsonl') continue;
            const name = src.split === 'train' ? names.train : names.eval;
            if (name) files.push({ name, data: await collectBytes(src.open()) });
          }
          post({ type: 'export-files', rid: req.rid, what: 'data', files });
        } catch (e) {
          fail(req.rid, 'export', e, 'Check that the run\'s data is still stored (Model & data), then export again.');
        }
        return;
      case 'push-to-hub':
        try {
          const r = await pushToHub({ hubUrl: req.hubUrl, token: req.token, repo: req.repo, files: req.files.map((f) => ({ path: f.name, data: f.data })) });
          post({ type: 'push-done', rid: req.rid, repo: req.repo, commitUrl: r.commitUrl, created: r.created });
        } catch (e) {
          fail(req.rid, 'export', e, 'Check the repo id, the Hub base URL (Model & data) and that the token can write there, then push again.');
        }
        return;
      case 'storage-list':
        try {
          await storageReport(req.rid);
        } catch (e) {
          fail(req.rid, 'model-data', e, 'The browser storage could not be read: allow site storage for localhost, then press Refresh.');
        }
        return;
      case 'storage-delete':
        try {
          const store = await getStore();
          // a key of an import deletes the whole import (its pairs, its split and its cached token ids)
          const importIds = new Set(req.keys.map(importIdOfKey).filter((id): id is string => id !== null));
          for (const id of importIds) await removeImport(store, id);
          for (const k of req.keys) if (importIdOfKey(k) === null) await store.delete(k);
          tokenize.forget();
          await storageReport(req.rid);
        } catch (e) {
          fail(req.rid, 'model-data', e, 'Reload the page and try again.');
        }
        return;
      case 'download':
        return download(req);
      case 'import-model-folder':
        try {
          const store = await getStore();
          const r = await importModelFolder(store, req.name, req.files.map((f) => ({ path: f.path, blob: f.file })));
          tokenize.forget((k) => k.includes(`hub:${r.repo}@`));
          for (const w of r.manifest.warnings) post({ type: 'warning', where: 'model-data', message: w });
          post({ type: 'download-done', rid: req.rid, what: 'model', repo: r.repo, revision: r.revision, files: r.manifest.files.map((f) => f.path) });
        } catch (e) {
          fail(req.rid, 'model-data', e, 'Choose a Hugging Face model folder (config.json, safetensors weights, tokenizer files), then try again.');
        } finally {
          await storageReport(0).catch(() => undefined);
        }
        return;
      case 'cancel':
        downloads.get(req.target)?.abort();
        return;
      case 'inspect':
        try {
          await inspect(req);
        } catch (e) {
          fail(req.rid, 'inspect', e, 'Check the dataset chosen in Model & data, then inspect again.');
        }
        return;
      case 'tokenize':
        try {
          const store = await getStore();
          const splits = await datasetSplits(req.dataset, store);
          const out: { split: string; pairs: number; filtered: number; cached: boolean }[] = [];
          for (const s of splits) {
            const t = await tokenize.tokenizeSplit(req.dataset, req.model, req.maxLength, s.split, req.rid);
            out.push({ split: s.split, pairs: t.ds.pairs.length, filtered: t.ds.filteredIndices.length, cached: t.cached });
          }
          post({ type: 'tokenize-done', rid: req.rid, splits: out });
        } catch (e) {
          fail(req.rid, 'train', e, 'Check the dataset and model chosen in Model & data.');
        }
        return;
      default:
        post({ type: 'error', rid: req.rid, where: 'worker', message: `The data worker does not handle "${req.type}".`, fix: 'This is a bug in the studio: reload the page and report it.' });
    }
  };

  const handlePort = async (req: PortRequest): Promise<{ reply: PortReply; transfer: Transferable[] }> => {
    try {
      switch (req.type) {
        case 'get-tokenized': {
          const [t, tok] = await Promise.all([tokenize.tokenizeSplit(req.dataset, req.model, req.maxLength, req.split, 0), tokenize.tokenizerOf(req.model)]);
          const ds = t.ds;
          // copies: the cached dataset keeps its arrays for the next run
          const pairs = ds.pairs.map((p) => ({ chosen_ids: p.chosen_ids.slice(), rejected_ids: p.rejected_ids.slice(), ...(p.margin !== undefined ? { margin: p.margin } : {}) }));
          post({ type: 'tokenize-done', rid: 0, splits: [{ split: req.split, pairs: pairs.length, filtered: ds.filteredIndices.length, cached: t.cached }] });
          return {
            reply: { type: 'tokenized', id: req.id, pairs, total: ds.total, filtered: ds.filteredIndices.length, padTokenId: tok.padTokenId, cached: t.cached },
            transfer: pairs.flatMap((p) => [p.chosen_ids.buffer, p.rejected_ids.buffer]),
          };
        }
        case 'get-splits': {
          const splits = await datasetSplits(req.dataset, await getStore());
          return { reply: { type: 'splits', id: req.id, splits: splits.map((s) => s.split) }, transfer: [] };
        }
        case 'tokenize-chats': {
          const tok = await tokenize.tokenizerOf(req.model);
          const ids = req.chats.map((m) => Int32Array.from(tok.encodeChat(m as Parameters<ChatTokenizer['encodeChat']>[0])));
          return { reply: { type: 'token-ids', id: req.id, ids, padTokenId: tok.padTokenId }, transfer: ids.map((a) => a.buffer) };
        }
        case 'tokenize-score-file': {
          const tok = await tokenize.tokenizerOf(req.model);
          const vocabSize = await modelVocabSize(req.model, await getStore());
          if (looksLikePairFile(await req.file.slice(0, 1 << 16).text())) {
            // the import's parser: every TRL pair format, one format per file, errors with line and field
            const read = await readPreferenceJsonl(req.file.stream(), { maxErrors: MAX_IMPORT_ERRORS, ...(vocabSize !== undefined ? { vocabSize } : {}) });
            const pairs = read.importRecords('valid-only').map((p) => tokenizePair(tok, p));
            const lines = read.recordPlaces.map((p) => (p.kind === 'line' ? p.line : p.row + 1));
            return {
              reply: { type: 'token-ids', id: req.id, ids: [], pairs, lines, padTokenId: tok.padTokenId, errors: read.summary.errors.map(toImportError), errorCount: read.summary.invalid },
              transfer: pairs.flatMap((p) => [p.chosen_ids.buffer, p.rejected_ids.buffer]),
            };
          }
          const read = await readScoreJsonl(req.file.stream(), { maxErrors: MAX_IMPORT_ERRORS, ...(vocabSize !== undefined ? { vocabSize } : {}) });
          const ids = read.records.map((r) => tokenizeScoreRecord(tok, r));
          return {
            reply: { type: 'token-ids', id: req.id, ids, padTokenId: tok.padTokenId, errors: read.errors.map(toImportError), errorCount: read.invalid },
            transfer: ids.map((a) => a.buffer),
          };
        }
        case 'tokenize-best-of-n': {
          const tok = await tokenize.tokenizerOf(req.model);
          const recs = tokenizeBestOfN(tok, await readBestOfNJsonl(req.file.stream(), req.file.name));
          const ids = flattenBestOfN(recs);
          const records = recs.map((r) => ({ place: r.place, subset: r.subset, chosen: r.chosen.length, rejected: r.rejected.length }));
          return { reply: { type: 'best-of-n-ids', id: req.id, records, ids }, transfer: ids.map((a) => a.buffer) };
        }
        case 'decode': {
          const tok = await tokenize.tokenizerOf(req.model);
          const texts = req.ids.map((ids) => tok.tokenizer.decode(Array.from(ids), { skip_special_tokens: false }));
          return { reply: { type: 'texts', id: req.id, texts }, transfer: [] };
        }
      }
    } catch (e) {
      const ev = errorEvent('train', e, undefined, dataFix(e, 'Check the model and dataset chosen in Model & data.'));
      return { reply: { type: 'port-error', id: req.id, where: 'train', message: ev.type === 'error' ? ev.message : String(e), fix: ev.type === 'error' ? ev.fix : '' }, transfer: [] };
    }
  };

  return { handle, handlePort, pending };
}
