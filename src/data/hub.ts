// Downloads from the Hugging Face Hub (or the local mirror, or any server with the Hub's URL layout) into a
// FileStore, on @huggingface/hub: listFiles (tree API: sizes, git oids, LFS sha256), fileDownloadInfo (size,
// ETag, URL) and downloadFile (a Blob whose slices are HTTP Range requests).
//
// Per file: a complete stored file whose recorded hash matches the tree is never fetched again. Otherwise the
// download resumes at the last stored chunk (Range: bytes=<stored>-), chunks are appended to the store as they
// fill, and the content is hashed incrementally (sha256 for LFS files, the git blob sha1 for regular ones). Only a
// file whose size and hash match is marked complete; a mismatch deletes it and fetches it again. Dropped
// connections are retried with backoff; each retry resumes from the store. An access token, when given, lives in
// memory only and travels in the Authorization header, never in a URL, a log line or an error message.
import { downloadFile, fileDownloadInfo, listFiles, HubApiError } from '@huggingface/hub';
import { parseSafetensorsIndex, SAFETENSORS_INDEX_FILE } from '../formats/safetensors.ts';
import { readText, type ByteSource } from '../formats/bytes.ts';
import { gitBlobHasher, Sha256, type Hasher } from './hub-hash.ts';
import { ProgressTracker, type ProgressCallback } from './hub-progress.ts';
import { HubSelectionError, selectDatasetFiles, selectModelFiles, type RemoteFile } from './hub-select.ts';
import {
  formatBytes, hubFileKey, openStoredFile, storageFullError, StorageFullError, type FileStore, type HubRepoType, type StoredFile,
} from './storage.ts';

export const DEFAULT_HUB_URL = 'https://huggingface.co';

export interface HubRepo {
  type: HubRepoType;
  /** "org/name" (or a legacy one-part id). */
  name: string;
  /** Branch, tag or commit; default "main". */
  revision?: string;
}

export interface HubOptions {
  /** Base URL of the Hub or a mirror (default https://huggingface.co). */
  hubUrl?: string;
  /** hf_… token for gated or private repos. Kept in memory by the caller; never logged or put in URLs. */
  accessToken?: string;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface DownloadOptions extends HubOptions {
  onProgress?: ProgressCallback;
  /** Retries per file after a dropped connection, a server error or a hash mismatch (default 4). */
  retries?: number;
  /** First retry delay in ms, doubled each retry (default 1000). */
  retryDelayMs?: number;
  /** Re-hash complete stored files before trusting them (slow for big files; detects on-disk corruption). */
  verifyExisting?: boolean;
  /** Dataset splits to fetch (default: all). */
  splits?: string[];
}

export interface DownloadedFile {
  path: string;
  key: string;
  size: number;
  /** Dataset split, for dataset files. */
  split?: string;
  /** Bytes transferred by this call (0 when the stored copy was complete). */
  fetchedBytes: number;
}

export interface HubDownloadResult {
  repo: Required<HubRepo>;
  files: DownloadedFile[];
  /** Whether the platform agreed to persist the storage (browser: navigator.storage.persist()). */
  persisted: boolean;
}

/** A download failure a user can act on; `retryable` is false when retrying cannot help. */
export class HubDownloadError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubDownloadError';
  }
}

function normalizeRepo(repo: HubRepo): Required<HubRepo> {
  const name = repo.name.trim().replace(/^https?:\/\/[^/]+\//, '').replace(/^(datasets|models)\//, '');
  if (!/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(name)) {
    throw new HubDownloadError(`"${repo.name}" is not a Hub repo id: expected "org/name" (e.g. Qwen/Qwen3-0.6B or trl-lib/ultrafeedback_binarized)`, false);
  }
  return { type: repo.type, name, revision: repo.revision?.trim() || 'main' };
}

function checkToken(token: string | undefined): void {
  if (token !== undefined && token !== '' && !token.startsWith('hf_')) {
    throw new HubDownloadError('The access token must start with "hf_": create one with read access in your Hub settings (Access Tokens)', false);
  }
}

function hubParams(repo: Required<HubRepo>, opts: HubOptions) {
  const base = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const signal = opts.signal;
  const fetchFn: typeof fetch = signal ? (input, init) => base(input, { ...init, signal }) : base;
  return {
    repo: { type: repo.type, name: repo.name },
    hubUrl: (opts.hubUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, ''),
    fetch: fetchFn,
    ...(opts.accessToken ? { accessToken: opts.accessToken } : {}),
  };
}

function repoLabel(repo: Required<HubRepo>): string {
  return `${repo.type === 'dataset' ? 'dataset ' : ''}${repo.name}@${repo.revision}`;
}

/** Turns library/network errors into messages that say what to do; never includes the token. */
function explain(e: unknown, repo: Required<HubRepo>, hubUrl: string, what: string): Error {
  if (e instanceof HubDownloadError || e instanceof StorageFullError || e instanceof HubSelectionError) return e;
  if ((e as Error)?.name === 'AbortError') return e as Error;
  if (e instanceof HubApiError) {
    const s = e.statusCode;
    if (s === 401 || s === 403) {
      return new HubDownloadError(
        `${hubUrl} refused access to ${repoLabel(repo)} (HTTP ${s}): the repo is private or gated. ` +
          `Provide an access token with read access; for a gated repo, first accept its terms on ${hubUrl}/${repo.type === 'dataset' ? 'datasets/' : ''}${repo.name}.`,
        false,
        s,
      );
    }
    if (s === 404) {
      return new HubDownloadError(
        `${repoLabel(repo)} not found on ${hubUrl} (${what}): check the repo id and revision; a private repo also answers 404 without a token.`,
        false,
        s,
      );
    }
    return new HubDownloadError(`${hubUrl} answered HTTP ${s} for ${what} of ${repoLabel(repo)}: ${e.message}`, s === 408 || s === 429 || s >= 500, s);
  }
  const msg = typeof e === 'string' ? e : (e as Error)?.message ?? String(e);
  const cause = (e as { cause?: { message?: string } })?.cause?.message;
  return new HubDownloadError(`${what} of ${repoLabel(repo)} from ${hubUrl} failed: ${msg}${cause ? ` (${cause})` : ''}`, true);
}

/** The repo's files at the revision (recursive tree listing). */
export async function listHubFiles(repoIn: HubRepo, opts: HubOptions = {}): Promise<RemoteFile[]> {
  const repo = normalizeRepo(repoIn);
  checkToken(opts.accessToken);
  const p = hubParams(repo, opts);
  const out: RemoteFile[] = [];
  try {
    for await (const e of listFiles({ ...p, revision: encodeURIComponent(repo.revision), recursive: true })) {
      if (e.type !== 'file') continue;
      const f: RemoteFile = { path: e.path, size: e.lfs?.size ?? e.size };
      if (e.lfs) f.sha256 = e.lfs.oid;
      else if (e.oid) f.gitOid = e.oid;
      out.push(f);
    }
  } catch (e) {
    throw explain(e, repo, p.hubUrl, 'listing the files');
  }
  return out;
}

function newHasher(file: RemoteFile): Hasher {
  if (file.sha256) return new Sha256();
  if (file.gitOid) return gitBlobHasher(file.size);
  let n = 0;
  const h: Hasher = {
    update(d) {
      n += d.length;
      return h;
    },
    hex: () => '',
    get length() {
      return n;
    },
  };
  return h;
}

function expectedHash(file: RemoteFile): { kind: string; hex: string } | null {
  if (file.sha256) return { kind: 'sha256', hex: file.sha256 };
  if (file.gitOid) return { kind: 'git blob id', hex: file.gitOid };
  return null;
}

/** Hashes the first `upTo` stored bytes of a file, chunk by chunk. */
async function hashStored(store: FileStore, f: StoredFile, file: RemoteFile, upTo: number, signal?: AbortSignal): Promise<Hasher> {
  const h = newHasher(file);
  if (!expectedHash(file)) return h;
  for (let o = 0; o < upTo; o += f.chunkSize) {
    signal?.throwIfAborted();
    h.update(await store.readRange(f.key, o, Math.min(f.chunkSize, upTo - o)));
  }
  return h;
}

function sameContent(f: StoredFile, file: RemoteFile): boolean {
  return f.size === file.size && (f.sha256 ?? '') === (file.sha256 ?? '') && (f.gitOid ?? '') === (file.gitOid ?? '');
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });
}

interface FileContext {
  store: FileStore;
  repo: Required<HubRepo>;
  opts: DownloadOptions;
  tracker: ProgressTracker;
}

/**
 * Ensures one file is stored complete and verified; returns the bytes transferred. Resumes partial files and
 * retries per `opts.retries`.
 */
async function ensureFile(ctx: FileContext, file: RemoteFile): Promise<number> {
  const { store, repo, opts, tracker } = ctx;
  const key = hubFileKey(repo.type, repo.name, repo.revision, file.path);
  const have = await store.stat(key);
  if (have?.complete && sameContent(have, file) && expectedHash(file)) {
    if (!opts.verifyExisting) {
      tracker.setStored(key, have.size, 'skipped');
      return 0;
    }
    tracker.status(key, 'checking');
    const h = await hashStored(store, have, file, have.size, opts.signal);
    if (h.hex() === expectedHash(file)!.hex) {
      tracker.setStored(key, have.size, 'skipped');
      return 0;
    }
    await store.delete(key); // corrupt on disk: fetch again
  }
  if (file.size === 0) {
    // Nothing to transfer (and a Range probe of an empty file is unsatisfiable): store it empty.
    await store.beginFile(key, { size: 0, etag: '', sha256: file.sha256, gitOid: file.gitOid });
    await store.markComplete(key);
    tracker.setStored(key, 0, 'complete');
    return 0;
  }
  const retries = opts.retries ?? 4;
  const carried: Carried = { hasher: null, bytes: -1 };
  let fetched = 0;
  for (let attempt = 0; ; attempt++) {
    try {
      fetched += await fetchOnce(ctx, file, key, carried);
      return fetched;
    } catch (e) {
      if (typeof e === 'object' && e && 'fetched' in e) fetched += (e as { fetched: number }).fetched;
      if (opts.signal?.aborted) {
        tracker.status(key, 'failed', 'cancelled');
        throw opts.signal.reason;
      }
      const err = explain((e as { inner?: unknown })?.inner ?? e, repo, hubParams(repo, opts).hubUrl, `downloading ${file.path}`);
      const retryable = err instanceof HubDownloadError && err.retryable && !opts.signal?.aborted;
      if (!retryable || attempt >= retries) {
        tracker.status(key, 'failed', err.message);
        throw err;
      }
      tracker.retry(key, err.message);
      await sleep((opts.retryDelayMs ?? 1000) * 2 ** attempt, opts.signal);
    }
  }
}

interface Carried {
  hasher: Hasher | null;
  bytes: number;
}

/** Wraps an error with the bytes transferred before it, so ensureFile can total them. */
function withFetched(inner: unknown, fetched: number): { inner: unknown; fetched: number } {
  return { inner, fetched };
}

async function fetchOnce(ctx: FileContext, file: RemoteFile, key: string, carried: Carried): Promise<number> {
  const { store, repo, opts, tracker } = ctx;
  const p = hubParams(repo, opts);
  tracker.status(key, 'checking');
  const info = await fileDownloadInfo({ ...p, path: file.path, revision: repo.revision });
  if (!info) throw new HubDownloadError(`${file.path} is listed in ${repoLabel(repo)} but the server has no such file; the repo changed: start the download again`, false, 404);
  if (info.size !== file.size) {
    throw new HubDownloadError(`${file.path}: the tree lists ${file.size} bytes but the server sends ${info.size}; the repo changed during the download: start it again`, false);
  }
  let f = await store.beginFile(key, { size: file.size, etag: info.etag, sha256: file.sha256, gitOid: file.gitOid });
  if (f.complete) {
    tracker.setStored(key, f.size, 'skipped');
    return 0;
  }
  let hasher: Hasher;
  if (carried.hasher && carried.bytes === f.storedBytes) hasher = carried.hasher;
  else {
    tracker.setStored(key, f.storedBytes, 'checking');
    hasher = await hashStored(store, f, file, f.storedBytes, opts.signal);
  }
  carried.hasher = hasher;
  carried.bytes = f.storedBytes;
  tracker.setStored(key, f.storedBytes, 'downloading');

  let fetched = 0;
  if (f.storedBytes < f.size) {
    const blob = await downloadFile({ ...p, path: file.path, revision: repo.revision, downloadInfo: info, xet: false });
    if (!blob) throw new HubDownloadError(`${file.path} disappeared from ${repoLabel(repo)}`, false, 404);
    const part = f.storedBytes > 0 ? blob.slice(f.storedBytes, f.size) : blob;
    const reader = part.stream().getReader();
    let buf = new Uint8Array(Math.min(f.chunkSize, f.size - f.storedBytes));
    let fill = 0;
    let finished = false;
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) {
          finished = true;
          break;
        }
        let v: Uint8Array = value;
        while (v.length > 0) {
          if (buf.length === 0) throw new HubDownloadError(`${file.path}: the server sent more than the file's ${file.size} bytes (a Range request was ignored?)`, true);
          const take = Math.min(buf.length - fill, v.length);
          buf.set(v.subarray(0, take), fill);
          fill += take;
          fetched += take;
          v = v.subarray(take);
          tracker.transferred(key, take);
          if (fill === buf.length) {
            f = await store.appendChunk(key, buf);
            hasher.update(buf);
            carried.bytes = f.storedBytes;
            tracker.status(key, 'downloading'); // a progress event per stored chunk
            buf = new Uint8Array(Math.min(f.chunkSize, f.size - f.storedBytes));
            fill = 0;
          }
        }
      }
    } catch (e) {
      throw withFetched(e, fetched);
    } finally {
      if (!finished) await reader.cancel().catch(() => undefined);
    }
    if (f.storedBytes !== f.size) {
      throw withFetched(new HubDownloadError(`${file.path}: the connection closed after ${formatBytes(f.storedBytes + fill)} of ${formatBytes(f.size)}`, true), fetched);
    }
  }

  tracker.status(key, 'verifying');
  const want = expectedHash(file);
  if (want) {
    const got = hasher.hex();
    carried.hasher = null;
    if (got !== want.hex) {
      await store.delete(key);
      throw withFetched(new HubDownloadError(`${file.path}: ${want.kind} ${got} does not match the Hub's ${want.hex}; the corrupt copy was deleted and is fetched again`, true), fetched);
    }
  }
  await store.markComplete(key);
  tracker.status(key, 'complete');
  return fetched;
}

/** Bytes still to transfer for `files` given what the store holds. */
async function bytesNeeded(store: FileStore, repo: Required<HubRepo>, files: RemoteFile[]): Promise<number> {
  let n = 0;
  for (const file of files) {
    const f = await store.stat(hubFileKey(repo.type, repo.name, repo.revision, file.path));
    if (f && sameContent(f, file)) n += f.size - f.storedBytes;
    else n += file.size;
  }
  return n;
}

/**
 * Downloads what the studio needs from a model or dataset repo into `store` (see hub-select.ts): lists the repo,
 * for a sharded model fetches the index first, checks free space, then fetches each file (resuming, verifying).
 */
export async function downloadHubRepo(store: FileStore, repoIn: HubRepo, opts: DownloadOptions = {}): Promise<HubDownloadResult> {
  const repo = normalizeRepo(repoIn);
  checkToken(opts.accessToken);
  const listing = await listHubFiles(repo, opts);
  const tracker = new ProgressTracker(opts.onProgress);
  const ctx: FileContext = { store, repo, opts, tracker };
  const track = (f: RemoteFile) => {
    const key = hubFileKey(repo.type, repo.name, repo.revision, f.path);
    if (!tracker.files.has(key)) tracker.addFile(f.path, key, f.size);
  };

  let selected: { file: RemoteFile; split?: string }[];
  const fetchedBy = new Map<string, number>();
  if (repo.type === 'model') {
    let sel = selectModelFiles(repo.name, listing);
    if (sel.needsIndex) {
      const indexFile = listing.find((f) => f.path === SAFETENSORS_INDEX_FILE)!;
      track(indexFile);
      fetchedBy.set(indexFile.path, await ensureFile(ctx, indexFile));
      const text = await readText(await openStoredFile(store, hubFileKey(repo.type, repo.name, repo.revision, SAFETENSORS_INDEX_FILE)));
      sel = selectModelFiles(repo.name, listing, parseSafetensorsIndex(text));
    }
    selected = sel.files.map((file) => ({ file }));
  } else {
    selected = [...selectDatasetFiles(repo.name, listing, opts.splits)].flatMap(([split, files]) => files.map((file) => ({ file, split })));
  }
  for (const { file } of selected) track(file);

  const needed = await bytesNeeded(store, repo, selected.map((s) => s.file));
  const { usage, quota } = await store.estimate();
  if (needed > quota - usage) {
    const keep = new Set(selected.map((s) => hubFileKey(repo.type, repo.name, repo.revision, s.file.path)));
    throw await storageFullError(store, `${repoLabel(repo)} (${selected.length} files, ${formatBytes(selected.reduce((s, x) => s + x.file.size, 0))})`, needed, keep);
  }
  const persisted = await store.persist().catch(() => false);

  const files: DownloadedFile[] = [];
  for (const { file, split } of selected) {
    opts.signal?.throwIfAborted();
    const fetched = fetchedBy.has(file.path) ? fetchedBy.get(file.path)! : await ensureFile(ctx, file);
    files.push({ path: file.path, key: hubFileKey(repo.type, repo.name, repo.revision, file.path), size: file.size, fetchedBytes: fetched, ...(split ? { split } : {}) });
  }
  return { repo, files, persisted };
}

/** Downloads one file of a repo (e.g. a README or an extra shard) with the same resume and verification. */
export async function downloadHubFile(store: FileStore, repoIn: HubRepo, path: string, opts: DownloadOptions = {}): Promise<DownloadedFile> {
  const repo = normalizeRepo(repoIn);
  checkToken(opts.accessToken);
  const file = (await listHubFiles(repo, opts)).find((f) => f.path === path);
  if (!file) throw new HubDownloadError(`${path} is not in ${repoLabel(repo)}`, false, 404);
  const tracker = new ProgressTracker(opts.onProgress);
  const key = hubFileKey(repo.type, repo.name, repo.revision, path);
  tracker.addFile(path, key, file.size);
  const fetchedBytes = await ensureFile({ store, repo, opts, tracker }, file);
  return { path, key, size: file.size, fetchedBytes };
}

/** A stored Hub file as a ByteSource (throws if it is not completely downloaded). */
export function openHubFile(store: FileStore, repoIn: HubRepo, path: string): Promise<ByteSource> {
  const repo = normalizeRepo(repoIn);
  return openStoredFile(store, hubFileKey(repo.type, repo.name, repo.revision, path));
}
