// Where downloaded and imported files live: a FileStore holds files written in fixed-size chunks, each append
// durable on its own, so a download interrupted anywhere resumes from the last stored chunk. Two implementations:
// IndexedDB in the browser (storage-idb.ts) and the filesystem in Node (storage-fs.ts). Both keep a file's
// metadata (expected size, ETag, hashes, bytes stored, complete flag) beside its bytes, updated with each chunk.
//
// Invariant: `complete` is set only by markComplete, after the caller verified the bytes (hub.ts checks size and
// sha256 / git oid first); a failed or interrupted write never leaves a file marked complete.
import { checkRange, type ByteSource } from '../formats/bytes.ts';

export interface StoredFile {
  key: string;
  /** Expected final size in bytes. */
  size: number;
  /** Bytes stored so far (a multiple of chunkSize until the last chunk). */
  storedBytes: number;
  chunkSize: number;
  /** Identity of the remote content: the Hub's ETag (quotes kept) or a label for imported files. */
  etag: string;
  /** Expected sha256 (hex) of the content, when known (Hub LFS files). */
  sha256?: string;
  /** Expected git blob id (hex sha1 of "blob <size>\0" + content), when known (Hub regular files). */
  gitOid?: string;
  complete: boolean;
  createdAt: number;
  completedAt?: number;
}

export interface BeginFileOptions {
  size: number;
  etag: string;
  sha256?: string;
  gitOid?: string;
}

export interface StorageEstimate {
  /** Bytes used (by this store, or by the origin in a browser). */
  usage: number;
  /** Bytes that may be used in total; Infinity when unknown. */
  quota: number;
}

export interface FileStore {
  /** Default chunk size for new files, in bytes. */
  readonly chunkSize: number;
  list(): Promise<StoredFile[]>;
  stat(key: string): Promise<StoredFile | null>;
  /**
   * Starts or resumes a file. If `key` exists with the same size, etag and hashes, it is returned as is (partial
   * or complete); otherwise its old bytes are deleted and an empty record is created.
   */
  beginFile(key: string, opts: BeginFileOptions): Promise<StoredFile>;
  /**
   * Appends the next chunk at `storedBytes`. Every chunk but the last is exactly `chunkSize` bytes. The chunk and
   * the new `storedBytes` are stored together (a crash stores both or neither). Throws StorageFullError when the
   * device or browser quota is full; what was stored before stays.
   */
  appendChunk(key: string, data: Uint8Array): Promise<StoredFile>;
  /** Marks a fully stored file complete. Call only after verifying its content. */
  markComplete(key: string): Promise<StoredFile>;
  /** Reads bytes [offset, offset + length) of a stored (complete or partial) file. */
  readRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  delete(key: string): Promise<void>;
  estimate(): Promise<StorageEstimate>;
  /** Asks the platform to keep this storage under storage pressure (navigator.storage.persist()). */
  persist(): Promise<boolean>;
}

/** The device or browser storage is full. Carries the numbers the message states. */
export class StorageFullError extends Error {
  constructor(
    message: string,
    readonly needed: number,
    readonly available: number,
  ) {
    super(message);
    this.name = 'StorageFullError';
  }
}

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return 'unlimited';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  let v = n;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`;
}

/**
 * The message for a full store: what was being written, needed vs available, and which stored files to delete
 * (largest first, excluding `keep`).
 */
export async function storageFullError(store: FileStore, what: string, needed: number, keep: Set<string> = new Set()): Promise<StorageFullError> {
  let available = NaN;
  let usage = NaN;
  let quota = NaN;
  try {
    ({ usage, quota } = await store.estimate());
    available = Math.max(0, quota - usage);
  } catch {
    // estimate() unavailable: say so below.
  }
  let candidates: StoredFile[] = [];
  try {
    candidates = (await store.list()).filter((f) => !keep.has(f.key)).sort((a, b) => b.storedBytes - a.storedBytes).slice(0, 5);
  } catch {
    // listing failed too: no suggestions.
  }
  const room = Number.isFinite(available)
    ? `${formatBytes(available)} available (${formatBytes(usage)} used of ${formatBytes(quota)})`
    : 'the available space is unknown';
  const suggest = candidates.length
    ? ` Delete stored files you no longer need, largest first: ${candidates.map((f) => `${f.key} (${formatBytes(f.storedBytes)})`).join(', ')}; or free disk space.`
    : ' Free disk space (the browser grants storage in proportion to free disk), then retry.';
  return new StorageFullError(
    `Not enough storage for ${what}: needs ${formatBytes(needed)} more, ${room}.${suggest} Bytes already stored are kept; the download resumes where it stopped.`,
    needed,
    Number.isFinite(available) ? available : 0,
  );
}

/** True for the errors browsers and Node raise when storage is full. */
export function isQuotaError(e: unknown): boolean {
  const err = e as { name?: string; code?: string | number } | null;
  return !!err && (err.name === 'QuotaExceededError' || err.code === 'ENOSPC' || err.code === 'EDQUOT' || err.code === 22);
}

/** Checks the append contract shared by both stores; returns the chunk index. */
export function checkAppend(f: StoredFile, data: Uint8Array): number {
  if (f.complete) throw new Error(`${f.key}: already complete; delete it before writing again`);
  const remaining = f.size - f.storedBytes;
  if (data.byteLength > remaining || (data.byteLength !== f.chunkSize && data.byteLength !== remaining) || data.byteLength === 0) {
    throw new Error(`${f.key}: chunk of ${data.byteLength} bytes at ${f.storedBytes}; expected ${Math.min(f.chunkSize, remaining)} (chunk size ${f.chunkSize}, size ${f.size})`);
  }
  return f.storedBytes / f.chunkSize;
}

export function sameIdentity(f: StoredFile, o: BeginFileOptions): boolean {
  return f.size === o.size && f.etag === o.etag && (f.sha256 ?? '') === (o.sha256 ?? '') && (f.gitOid ?? '') === (o.gitOid ?? '');
}

/**
 * Keys are '/'-separated paths. Each segment must be usable as a file name on Windows, macOS and Linux (the fs
 * store maps keys to paths): non-empty, not '.'/'..', none of <>:"\|?* or control characters, no trailing dot or
 * space, not a reserved device name. Build keys from Hub paths with hubFileKey/encodeKeySegment.
 */
export function assertValidKey(key: string): void {
  const segs = key.split('/');
  for (const s of segs) {
    if (!isSafeSegment(s)) {
      throw new Error(`invalid storage key ${JSON.stringify(key)}: segment ${JSON.stringify(s)} is not a portable file name; build keys with encodeKeySegment`);
    }
  }
  if (segs[0] === '.meta' || segs[0] === '.partial') throw new Error(`invalid storage key ${JSON.stringify(key)}: "${segs[0]}" is reserved`);
}

const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

function isSafeSegment(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return s !== '' && s !== '.' && s !== '..' && !/[<>:"\\|?*\u0000-\u001f]/.test(s) && !/[. ]$/.test(s) && !RESERVED.test(s);
}

/** Escapes one path segment to a portable file name (reversible: '%XX' for each unsafe UTF-8 byte). */
export function encodeKeySegment(s: string): string {
  const esc = (ch: string) => [...new TextEncoder().encode(ch)].map((b) => '%' + b.toString(16).toUpperCase().padStart(2, '0')).join('');
  // eslint-disable-next-line no-control-regex
  let out = s.replace(/[%<>:"\\|?*/\u0000-\u001f]/g, esc);
  if (out === '' || out === '.' || out === '..') out = [...out].map(esc).join('') || '%00';
  if (/[. ]$/.test(out)) out = out.slice(0, -1) + esc(out.slice(-1));
  if (RESERVED.test(out)) out = esc(out[0]) + out.slice(1);
  return out;
}

/** Inverse of encodeKeySegment. */
export function decodeKeySegment(s: string): string {
  return decodeURIComponent(s);
}

export type HubRepoType = 'model' | 'dataset';

/** Storage key of a Hub file: `models/<org>/<name>/<revision>/<path>` (or `datasets/...`), segments escaped. */
export function hubFileKey(type: HubRepoType, repo: string, revision: string, path: string): string {
  return [`${type}s`, ...repo.split('/'), revision, ...path.split('/')].map((s, i) => (i === 0 ? s : encodeKeySegment(s))).join('/');
}

/** Key prefix of everything stored for a repo at a revision (ends with '/'). */
export function hubRepoPrefix(type: HubRepoType, repo: string, revision: string): string {
  return hubFileKey(type, repo, revision, 'x').slice(0, -1);
}

/** Opens a complete stored file for random reads (safetensors by tensor, parquet by row group). */
export async function openStoredFile(store: FileStore, key: string): Promise<ByteSource> {
  const f = await store.stat(key);
  if (!f) throw new Error(`${key} is not stored; download or import it first`);
  if (!f.complete) {
    throw new Error(`${key} is not fully downloaded (${formatBytes(f.storedBytes)} of ${formatBytes(f.size)}); run the download again to resume it`);
  }
  const name = decodeKeySegment(key.slice(key.lastIndexOf('/') + 1));
  const src: ByteSource = {
    name,
    size: f.size,
    read(offset, length) {
      checkRange(src, offset, length);
      return store.readRange(key, offset, length);
    },
  };
  return src;
}
