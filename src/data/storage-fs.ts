// FileStore on the filesystem (Node: the CLI and tests). Layout under `root`:
//   <key>                  complete files, at their key path (a Hub download reads as a normal folder)
//   .partial/<key>         bytes of a file still downloading
//   .meta/<key>.json       its StoredFile record, rewritten atomically (temp file + rename) after each chunk
// A chunk's bytes are written before the record that counts them, so after a crash the record never claims bytes
// that are not on disk; beginFile truncates anything written past the recorded size.
import { mkdir, open, readdir, readFile, rename, rm, stat, statfs, truncate, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { checkRange } from '../formats/bytes.ts';
import { enospcError, faultAt } from '../gpu/flags.ts';
import {
  assertValidKey, checkAppend, isQuotaError, sameIdentity, storageFullError,
  type BeginFileOptions, type FileStore, type StorageEstimate, type StoredFile,
} from './storage.ts';

export interface FsFileStoreOptions {
  /** Chunk size for new files (default 8 MiB). */
  chunkSize?: number;
}

export class FsFileStore implements FileStore {
  readonly chunkSize: number;

  constructor(
    readonly root: string,
    opts: FsFileStoreOptions = {},
  ) {
    this.chunkSize = opts.chunkSize ?? 8 << 20;
  }

  /** Absolute path of a complete file (for tools that want a plain folder, e.g. the tokenizer loader). */
  pathOf(key: string): string {
    assertValidKey(key);
    return join(this.root, ...key.split('/'));
  }

  private partialPath(key: string): string {
    return join(this.root, '.partial', ...key.split('/'));
  }

  private metaPath(key: string): string {
    return join(this.root, '.meta', ...key.split('/')) + '.json';
  }

  private async writeMeta(f: StoredFile): Promise<void> {
    const p = this.metaPath(f.key);
    await mkdir(dirname(p), { recursive: true });
    const tmp = `${p}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(f));
    await rename(tmp, p);
  }

  async stat(key: string): Promise<StoredFile | null> {
    assertValidKey(key);
    try {
      return JSON.parse(await readFile(this.metaPath(key), 'utf8')) as StoredFile;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  private async mustStat(key: string): Promise<StoredFile> {
    const f = await this.stat(key);
    if (!f) throw new Error(`${key}: not in the store (call beginFile first)`);
    return f;
  }

  async list(): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw e;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name.endsWith('.json')) out.push(JSON.parse(await readFile(p, 'utf8')) as StoredFile);
      }
    };
    await walk(join(this.root, '.meta'));
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  async beginFile(key: string, opts: BeginFileOptions): Promise<StoredFile> {
    const old = await this.stat(key);
    if (old && sameIdentity(old, opts)) {
      if (old.complete) return old;
      // Keep whole chunks that are on disk and counted; drop anything beyond.
      const onDisk = (await stat(this.partialPath(key)).catch(() => null))?.size ?? 0;
      if (onDisk < old.storedBytes) old.storedBytes = Math.floor(onDisk / old.chunkSize) * old.chunkSize;
      if (onDisk > 0) await truncate(this.partialPath(key), old.storedBytes);
      await this.writeMeta(old);
      return old;
    }
    if (old) await this.delete(key);
    const f: StoredFile = { key, size: opts.size, storedBytes: 0, chunkSize: this.chunkSize, etag: opts.etag, complete: false, createdAt: Date.now() };
    if (opts.sha256) f.sha256 = opts.sha256;
    if (opts.gitOid) f.gitOid = opts.gitOid;
    await mkdir(dirname(this.partialPath(key)), { recursive: true });
    await writeFile(this.partialPath(key), new Uint8Array(0));
    await this.writeMeta(f);
    return f;
  }

  async appendChunk(key: string, data: Uint8Array): Promise<StoredFile> {
    const f = await this.mustStat(key);
    checkAppend(f, data);
    try {
      if (faultAt('download') === 'enospc') throw enospcError(`chunk at ${f.storedBytes} of ${key}`);
      const fh = await open(this.partialPath(key), 'r+');
      try {
        let done = 0;
        while (done < data.byteLength) {
          const { bytesWritten } = await fh.write(data, done, data.byteLength - done, f.storedBytes + done);
          done += bytesWritten;
        }
      } finally {
        await fh.close();
      }
      f.storedBytes += data.byteLength;
      await this.writeMeta(f);
    } catch (e) {
      if (isQuotaError(e)) throw await storageFullError(this, key, f.size - f.storedBytes, new Set([key]));
      throw e;
    }
    return f;
  }

  async markComplete(key: string): Promise<StoredFile> {
    const f = await this.mustStat(key);
    if (f.storedBytes !== f.size) throw new Error(`${key}: ${f.storedBytes} of ${f.size} bytes stored; cannot mark it complete`);
    if (f.complete) return f;
    const dest = this.pathOf(key);
    await mkdir(dirname(dest), { recursive: true });
    await rename(this.partialPath(key), dest);
    f.complete = true;
    f.completedAt = Date.now();
    await this.writeMeta(f);
    return f;
  }

  async readRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const f = await this.mustStat(key);
    checkRange({ name: key, size: f.storedBytes }, offset, length);
    const fh = await open(f.complete ? this.pathOf(key) : this.partialPath(key), 'r');
    try {
      const out = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await fh.read(out, got, length - got, offset + got);
        if (bytesRead === 0) throw new Error(`${key}: file on disk is shorter than its record (${offset + got} < ${f.storedBytes}); delete it and download again`);
        got += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    await rm(this.metaPath(key), { force: true });
    await rm(this.partialPath(key), { force: true });
    await rm(this.pathOf(key), { force: true });
  }

  async estimate(): Promise<StorageEstimate> {
    const usage = (await this.list()).reduce((s, f) => s + f.storedBytes, 0);
    try {
      await mkdir(this.root, { recursive: true });
      const s = await statfs(this.root);
      return { usage, quota: usage + s.bavail * s.bsize };
    } catch {
      return { usage, quota: Infinity };
    }
  }

  async persist(): Promise<boolean> {
    return true;
  }
}
