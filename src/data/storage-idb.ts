// FileStore in IndexedDB (the browser). Two object stores:
//   files   StoredFile records, keyPath 'key'
//   chunks  Uint8Array chunks (8 MiB by default), key [fileKey, chunkIndex]
// Each appendChunk puts the chunk and the updated record in one readwrite transaction, so the record's
// storedBytes always counts exactly the chunks present. A QuotaExceededError aborts that transaction (nothing of
// the chunk is kept, the record is unchanged) and becomes a StorageFullError with needed/available numbers.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { checkRange } from '../formats/bytes.ts';
import {
  assertValidKey, checkAppend, isQuotaError, sameIdentity, storageFullError,
  type BeginFileOptions, type FileStore, type StorageEstimate, type StoredFile,
} from './storage.ts';

interface FileDb extends DBSchema {
  files: { key: string; value: StoredFile };
  chunks: { key: [string, number]; value: Uint8Array };
}

export interface IdbFileStoreOptions {
  /** Database name (default 'reward-studio-files'). */
  dbName?: string;
  /** Chunk size for new files (default 8 MiB). */
  chunkSize?: number;
  /** Usage/quota source; default navigator.storage.estimate(), else the bytes stored here with no known quota. */
  estimate?: () => Promise<StorageEstimate>;
}

export const DEFAULT_DB_NAME = 'reward-studio-files';

export async function openIdbFileStore(opts: IdbFileStoreOptions = {}): Promise<IdbFileStore> {
  const db = await openDB<FileDb>(opts.dbName ?? DEFAULT_DB_NAME, 1, {
    upgrade(db) {
      db.createObjectStore('files', { keyPath: 'key' });
      db.createObjectStore('chunks');
    },
  });
  return new IdbFileStore(db, opts);
}

function chunkRange(key: string): IDBKeyRange {
  return IDBKeyRange.bound([key, 0], [key, Infinity]);
}

export class IdbFileStore implements FileStore {
  readonly chunkSize: number;
  private readonly estimateFn?: () => Promise<StorageEstimate>;

  constructor(
    readonly db: IDBPDatabase<FileDb>,
    opts: IdbFileStoreOptions = {},
  ) {
    this.chunkSize = opts.chunkSize ?? 8 << 20;
    this.estimateFn = opts.estimate;
  }

  close(): void {
    this.db.close();
  }

  async list(): Promise<StoredFile[]> {
    return this.db.getAll('files');
  }

  async stat(key: string): Promise<StoredFile | null> {
    return (await this.db.get('files', key)) ?? null;
  }

  async beginFile(key: string, opts: BeginFileOptions): Promise<StoredFile> {
    assertValidKey(key);
    const tx = this.db.transaction(['files', 'chunks'], 'readwrite');
    const old = await tx.objectStore('files').get(key);
    if (old && sameIdentity(old, opts)) {
      await tx.done;
      return old;
    }
    const f: StoredFile = { key, size: opts.size, storedBytes: 0, chunkSize: this.chunkSize, etag: opts.etag, complete: false, createdAt: Date.now() };
    if (opts.sha256) f.sha256 = opts.sha256;
    if (opts.gitOid) f.gitOid = opts.gitOid;
    await tx.objectStore('chunks').delete(chunkRange(key));
    await tx.objectStore('files').put(f);
    await tx.done;
    return f;
  }

  async appendChunk(key: string, data: Uint8Array): Promise<StoredFile> {
    // A view into a larger buffer would be cloned with its whole buffer: store an exact copy instead.
    const value = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : data.slice();
    const tx = this.db.transaction(['files', 'chunks'], 'readwrite');
    let f: StoredFile | undefined;
    try {
      f = await tx.objectStore('files').get(key);
      if (!f) throw new Error(`${key}: not in the store (call beginFile first)`);
      const index = checkAppend(f, data);
      const next = { ...f, storedBytes: f.storedBytes + data.byteLength };
      await tx.objectStore('chunks').put(value, [key, index]);
      await tx.objectStore('files').put(next);
      await tx.done;
      return next;
    } catch (e) {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      await tx.done.catch(() => undefined);
      if (isQuotaError(e) || isQuotaError(tx.error)) {
        throw await storageFullError(this, key, f ? f.size - f.storedBytes : data.byteLength, new Set([key]));
      }
      throw e;
    }
  }

  async markComplete(key: string): Promise<StoredFile> {
    const tx = this.db.transaction('files', 'readwrite');
    const f = await tx.store.get(key);
    if (!f) throw new Error(`${key}: not in the store`);
    if (f.storedBytes !== f.size) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new Error(`${key}: ${f.storedBytes} of ${f.size} bytes stored; cannot mark it complete`);
    }
    const done = { ...f, complete: true, completedAt: Date.now() };
    await tx.store.put(done);
    await tx.done;
    return done;
  }

  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const tx = this.db.transaction(['files', 'chunks'], 'readonly');
    const f = await tx.objectStore('files').get(key);
    if (!f) throw new Error(`${key}: not in the store`);
    checkRange({ name: key, size: f.storedBytes }, offset, length);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const cs = f.chunkSize;
    const first = Math.floor(offset / cs);
    const last = Math.floor((offset + length - 1) / cs);
    const chunks = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) => tx.objectStore('chunks').get([key, first + i])));
    await tx.done;
    for (let i = first; i <= last; i++) {
      const c = chunks[i - first];
      const expectLen = Math.min(cs, f.size - i * cs);
      if (!c || c.byteLength !== expectLen) {
        throw new Error(`${key}: chunk ${i} is missing or damaged in IndexedDB; delete the file and download it again`);
      }
      const s = Math.max(offset, i * cs);
      const e = Math.min(offset + length, i * cs + c.byteLength);
      out.set(c.subarray(s - i * cs, e - i * cs), s - offset);
    }
    return out;
  }

  async delete(key: string): Promise<void> {
    const tx = this.db.transaction(['files', 'chunks'], 'readwrite');
    await tx.objectStore('chunks').delete(chunkRange(key));
    await tx.objectStore('files').delete(key);
    await tx.done;
  }

  async estimate(): Promise<StorageEstimate> {
    if (this.estimateFn) return this.estimateFn();
    const nav = (globalThis as { navigator?: { storage?: StorageManager } }).navigator;
    if (nav?.storage?.estimate) {
      const e = await nav.storage.estimate();
      return { usage: e.usage ?? 0, quota: e.quota ?? Infinity };
    }
    const usage = (await this.list()).reduce((s, f) => s + f.storedBytes, 0);
    return { usage, quota: Infinity };
  }

  async persist(): Promise<boolean> {
    const nav = (globalThis as { navigator?: { storage?: StorageManager } }).navigator;
    if (!nav?.storage?.persist) return false;
    try {
      return (await nav.storage.persisted()) || (await nav.storage.persist());
    } catch {
      return false;
    }
  }
}
