// FileStore contract on both implementations (IndexedDB through fake-indexeddb, and the filesystem): chunked
// appends, resume, range reads across chunk borders, identity changes, completion rules, deletion, keys; the
// QuotaExceededError path (nothing marked complete, a clear message); the fs store's crash recovery.
import 'fake-indexeddb/auto';
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, stat as fsStat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { openIdbFileStore } from '../../src/data/storage-idb.ts';
import {
  assertValidKey, encodeKeySegment, decodeKeySegment, hubFileKey, openStoredFile, StorageFullError, type FileStore,
} from '../../src/data/storage.ts';
import { Rng } from '../../src/util/random.ts';

const tmpRoots: string[] = [];
afterAll(async () => {
  for (const r of tmpRoots) await rm(r, { recursive: true, force: true });
});

let dbCounter = 0;
const makers: [string, (chunkSize: number) => Promise<FileStore>][] = [
  ['idb', (chunkSize) => openIdbFileStore({ dbName: `test-${dbCounter++}`, chunkSize })],
  ['fs', async (chunkSize) => {
    const root = await mkdtemp(join(tmpdir(), 'rs-store-'));
    tmpRoots.push(root);
    return new FsFileStore(root, { chunkSize });
  }],
];

function bytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  return new Uint8Array(n).map(() => rng.int(256));
}

async function writeAll(store: FileStore, key: string, data: Uint8Array, upTo = data.length): Promise<void> {
  const f = await store.beginFile(key, { size: data.length, etag: '"e1"' });
  for (let o = f.storedBytes; o < upTo; o += store.chunkSize) await store.appendChunk(key, data.subarray(o, Math.min(o + store.chunkSize, data.length)));
}

for (const [kind, make] of makers) {
  describe(`FileStore (${kind})`, () => {
    it('stores in chunks, reads ranges across chunk borders, resumes, completes, lists and deletes', async () => {
      const store = await make(16);
      const data = bytes(70, 1);
      const key = hubFileKey('model', 'org/tiny', 'main', 'sub/model.safetensors');
      expect(key).toBe('models/org/tiny/main/sub/model.safetensors');

      await writeAll(store, key, data, 32); // two chunks, then "the tab closes"
      const resumed = await store.beginFile(key, { size: 70, etag: '"e1"' });
      expect(resumed.storedBytes).toBe(32);
      expect(resumed.complete).toBe(false);
      expect([...(await store.readRange(key, 10, 20))]).toEqual([...data.subarray(10, 30)]);
      await expect(openStoredFile(store, key)).rejects.toThrow(`${key} is not fully downloaded (32 B of 70 B); run the download again to resume it`);
      await expect(store.markComplete(key)).rejects.toThrow('32 of 70 bytes stored; cannot mark it complete');

      await writeAll(store, key, data); // resumes at 32
      const done = await store.markComplete(key);
      expect(done.complete).toBe(true);
      expect([...(await store.readRange(key, 0, 70))]).toEqual([...data]);
      expect([...(await store.readRange(key, 63, 7))]).toEqual([...data.subarray(63)]);
      await expect(store.readRange(key, 60, 11)).rejects.toThrow('runs past the end of the file (70 bytes)');

      const src = await openStoredFile(store, key);
      expect(src.name).toBe('model.safetensors');
      expect([...(await src.read(15, 2))]).toEqual([...data.subarray(15, 17)]);

      // Same identity: kept as is; a different ETag: old bytes dropped.
      expect((await store.beginFile(key, { size: 70, etag: '"e1"' })).complete).toBe(true);
      const other = hubFileKey('dataset', 'org/data', 'main', 'data/train-00000-of-00001.parquet');
      await writeAll(store, other, bytes(5, 2));
      expect((await store.list()).map((f) => [f.key, f.storedBytes, f.complete])).toEqual([
        [other, 5, false],
        [key, 70, true],
      ].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1)));
      const fresh = await store.beginFile(key, { size: 70, etag: '"e2"' });
      expect([fresh.storedBytes, fresh.complete]).toEqual([0, false]);

      await store.delete(key);
      expect(await store.stat(key)).toBeNull();
      expect((await store.list()).map((f) => f.key)).toEqual([other]);
      const est = await store.estimate();
      expect(est.usage).toBeGreaterThanOrEqual(5);
      expect(est.quota).toBeGreaterThan(est.usage);
    });

    it('refuses out-of-contract appends', async () => {
      const store = await make(16);
      await store.beginFile('imports/a.jsonl', { size: 20, etag: 'x' });
      await expect(store.appendChunk('imports/a.jsonl', new Uint8Array(8))).rejects.toThrow('imports/a.jsonl: chunk of 8 bytes at 0; expected 16 (chunk size 16, size 20)');
      await store.appendChunk('imports/a.jsonl', new Uint8Array(16));
      await expect(store.appendChunk('imports/a.jsonl', new Uint8Array(16))).rejects.toThrow('chunk of 16 bytes at 16; expected 4');
      await store.appendChunk('imports/a.jsonl', new Uint8Array(4));
      await store.markComplete('imports/a.jsonl');
      await expect(store.appendChunk('imports/a.jsonl', new Uint8Array(4))).rejects.toThrow('already complete');
      await expect(store.appendChunk('imports/missing', new Uint8Array(4))).rejects.toThrow('imports/missing: not in the store (call beginFile first)');
    });
  });
}

describe('storage keys', () => {
  it('escapes path segments to portable file names and back', () => {
    for (const s of ['a:b', 'con', 'CON.txt', 'x.', 'y ', 'q?*', '..', '.', '100%', 'refs/pr/1', 'ok-name_1.json', 'ünï']) {
      const e = encodeKeySegment(s);
      expect(() => assertValidKey(e), s).not.toThrow();
      expect(decodeKeySegment(e)).toBe(s);
    }
    expect(hubFileKey('model', 'Qwen/Qwen3-0.6B', 'refs/pr/1', 'config.json')).toBe('models/Qwen/Qwen3-0.6B/refs%2Fpr%2F1/config.json');
    expect(() => assertValidKey('models/../x')).toThrow('segment ".." is not a portable file name');
    expect(() => assertValidKey('.meta/x')).toThrow('".meta" is reserved');
  });
});

describe('quota exceeded in IndexedDB', () => {
  // Makes every put into 'chunks' beyond `limit` bytes fail like a full browser store: either synchronously, or
  // (as Chrome and Firefox do) by aborting the transaction with a QuotaExceededError.
  function failPutsAfter(limit: number, mode: 'throw' | 'abort'): () => void {
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    const orig = proto.put;
    let used = 0;
    proto.put = function (this: { name: string; transaction: { _abort(n: string): void } }, value: unknown, ...rest: unknown[]) {
      if (this.name === 'chunks') {
        used += (value as Uint8Array).byteLength;
        if (used > limit) {
          if (mode === 'throw') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
          const req = orig.call(this, value, ...rest);
          this.transaction._abort('QuotaExceededError');
          return req;
        }
      }
      return orig.call(this, value, ...rest);
    };
    return () => {
      proto.put = orig;
    };
  }

  for (const mode of ['throw', 'abort'] as const) {
    it(`gives needed vs available and what to delete, keeps stored chunks, marks nothing complete (${mode})`, async () => {
      const store = await openIdbFileStore({
        dbName: `quota-${mode}`,
        chunkSize: 16,
        estimate: async () => ({ usage: 1000, quota: 1040 }),
      });
      await writeAll(store, 'models/old/big/main/model.safetensors', bytes(48, 3));
      await store.markComplete('models/old/big/main/model.safetensors');
      const key = 'models/org/tiny/main/model.safetensors';
      const restore = failPutsAfter(32, mode);
      let err: unknown;
      try {
        await writeAll(store, key, bytes(64, 4));
      } catch (e) {
        err = e;
      } finally {
        restore();
      }
      expect(err).toBeInstanceOf(StorageFullError);
      const e = err as StorageFullError;
      expect(e.message).toBe(
        'Not enough storage for models/org/tiny/main/model.safetensors: needs 32 B more, 40 B available (1.00 KB used of 1.04 KB). ' +
          'Delete stored files you no longer need, largest first: models/old/big/main/model.safetensors (48 B); or free disk space. ' +
          'Bytes already stored are kept; the download resumes where it stopped.',
      );
      expect([e.needed, e.available]).toEqual([32, 40]);
      const f = (await store.stat(key))!;
      expect([f.storedBytes, f.complete]).toEqual([32, false]);
      await expect(store.readRange(key, 0, 32)).resolves.toEqual(bytes(64, 4).subarray(0, 32));
      await expect(store.readRange(key, 32, 1)).rejects.toThrow('runs past the end');
      // Room again: the same call resumes and completes.
      await writeAll(store, key, bytes(64, 4));
      expect((await store.markComplete(key)).complete).toBe(true);
      expect(await store.readRange(key, 0, 64)).toEqual(bytes(64, 4));
    });
  }
});

describe('FsFileStore crash recovery', () => {
  it('drops bytes written past the record and keeps whole counted chunks', async () => {
    const root = await mkdtemp(join(tmpdir(), 'rs-store-'));
    tmpRoots.push(root);
    const store = new FsFileStore(root, { chunkSize: 16 });
    const data = bytes(50, 5);
    await writeAll(store, 'datasets/o/d/main/x.bin', data, 32);
    // A crash after writing a chunk's bytes but before its record: 10 extra bytes on disk, record says 32.
    const part = join(root, '.partial', 'datasets', 'o', 'd', 'main', 'x.bin');
    await writeFile(part, new Uint8Array([...data.subarray(0, 32), ...new Uint8Array(10).fill(9)]));
    const f = await store.beginFile('datasets/o/d/main/x.bin', { size: 50, etag: '"e1"' });
    expect(f.storedBytes).toBe(32);
    expect((await fsStat(part)).size).toBe(32);
    await writeAll(store, 'datasets/o/d/main/x.bin', data);
    await store.markComplete('datasets/o/d/main/x.bin');
    expect(new Uint8Array(await readFile(store.pathOf('datasets/o/d/main/x.bin')))).toEqual(data);
  });
});
