// The Hub downloader against the local mirror on a loopback port: model and dataset downloads into the
// filesystem store and into IndexedDB (fake-indexeddb), resume after a cut connection (bytes counted on the
// server), automatic retries, integrity (corrupt partial and corrupt complete files are re-fetched), complete
// files never fetched again, space and quota errors, sharded models, error messages and the access token.
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMirrorHandler, type MirrorHandler } from '../../src/data/mirror.ts';
import { downloadHubFile, downloadHubRepo, HubDownloadError, listHubFiles, openHubFile } from '../../src/data/hub.ts';
import { HubSelectionError } from '../../src/data/hub-select.ts';
import type { DownloadProgress } from '../../src/data/hub-progress.ts';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { openIdbFileStore } from '../../src/data/storage-idb.ts';
import { hubFileKey, openStoredFile, StorageFullError, type FileStore } from '../../src/data/storage.ts';
import { readPieces, readText } from '../../src/formats/bytes.ts';
import { concatParts, locateTensors, parseSafetensorsIndex, readSafetensorsHeader, readTensorBytes, serializeSafetensors } from '../../src/formats/safetensors.ts';
import { Rng } from '../../src/util/random.ts';
import { writeTinyQwen3 } from '../../tools/fixtures-model.ts';

const KiB = 1024;
let root: string;
let server: Server;
let hubUrl: string;
let mirror: MirrorHandler;
const tmpDirs: string[] = [];

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextU32() & 255;
  return a;
}

/** sha256 of a stored file, read back in pieces through openStoredFile. */
async function storedSha(store: FileStore, key: string): Promise<string> {
  const h = createHash('sha256');
  for await (const p of readPieces(await openStoredFile(store, key), 1 << 20)) h.update(p);
  return h.digest('hex');
}

async function fsStore(chunkSize: number): Promise<FsFileStore> {
  const dir = await mkdtemp(join(tmpdir(), 'rs-hubstore-'));
  tmpDirs.push(dir);
  return new FsFileStore(dir, { chunkSize });
}

let dbN = 0;
const idbStore = (chunkSize: number, estimate?: () => Promise<{ usage: number; quota: number }>) =>
  openIdbFileStore({ dbName: `hub-test-${dbN++}`, chunkSize, ...(estimate ? { estimate } : {}) });

/** Served GETs of a file's body (not the 1-byte probes fileDownloadInfo makes). */
function bodyGets(file: string) {
  return mirror.records.filter((r) => r.method === 'GET' && r.file?.endsWith('/' + file) && r.end! - r.start! > 1).map((r) => ({ start: r.start!, sent: r.bytesSent, cut: r.cut }));
}
const resolveGets = () => mirror.records.filter((r) => r.url.includes('/resolve/'));

// A small model repo (3 MB of weights) for the resume and integrity cases.
const SMALL = 'test/small';
const smallWeights = concatParts(serializeSafetensors([
  { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [1500, 1000], data: randomBytes(3_000_000, 1) },
  { name: 'model.norm.weight', dtype: 'BF16', shape: [1000], data: randomBytes(2000, 2) },
], { format: 'pt' }));
const smallFiles: Record<string, Uint8Array | string> = {
  'config.json': '{"model_type": "qwen3"}\n',
  'tokenizer.json': '{"version": "1.0"}\n',
  'tokenizer_config.json': '{"chat_template": "x"}\n',
  'model.safetensors': smallWeights,
  'README.md': '# not downloaded\n',
};
const SMALL_SIZE = smallWeights.length;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rs-hub-'));
  await writeTinyQwen3(join(root, 'models', 'test', 'tiny-qwen3'));
  const small = join(root, 'models', ...SMALL.split('/'));
  await mkdir(small, { recursive: true });
  for (const [p, c] of Object.entries(smallFiles)) await writeFile(join(small, p), c);

  const sharded = join(root, 'models', 'test', 'sharded');
  await mkdir(sharded, { recursive: true });
  for (const p of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await writeFile(join(sharded, p), smallFiles[p]);
  const t = (name: string, seed: number) => ({ name, dtype: 'F32' as const, shape: [64], data: randomBytes(256, seed) });
  await writeFile(join(sharded, 'model-00001-of-00002.safetensors'), concatParts(serializeSafetensors([t('a', 1), t('b', 2)])));
  await writeFile(join(sharded, 'model-00002-of-00002.safetensors'), concatParts(serializeSafetensors([t('c', 3)])));
  await writeFile(join(sharded, 'old-model.safetensors'), concatParts(serializeSafetensors([t('z', 4)])));
  await writeFile(join(sharded, 'model.safetensors.index.json'), JSON.stringify({
    metadata: { total_size: 768 },
    weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' },
  }));

  const ds = join(root, 'datasets', 'test', 'prefs');
  await mkdir(join(ds, 'data'), { recursive: true });
  await writeFile(join(ds, 'data', 'train-00000-of-00001.parquet'), randomBytes(200_000, 5));
  await writeFile(join(ds, 'data', 'test-00000-of-00001.parquet'), randomBytes(30_000, 6));
  await writeFile(join(ds, 'README.md'), '# prefs\n');

  mirror = createMirrorHandler(root);
  server = createServer(mirror);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  hubUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  for (const d of [root, ...tmpDirs]) if (d) await rm(d, { recursive: true, force: true });
});

describe('downloading a model', () => {
  it('fetches the tiny Qwen3 into the filesystem store, verified, readable by tensor; a second run fetches nothing', async () => {
    const store = await fsStore(1 << 20);
    const snaps: DownloadProgress[] = [];
    const res = await downloadHubRepo(store, { type: 'model', name: 'test/tiny-qwen3' }, { hubUrl, onProgress: (p) => snaps.push(p) });
    expect(res.files.map((f) => f.path)).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model.safetensors']);
    const src = join(root, 'models', 'test', 'tiny-qwen3');
    for (const f of res.files) {
      expect(await storedSha(store, f.key), f.path).toBe(sha256(await readFile(join(src, f.path))));
      expect(f.fetchedBytes).toBe(f.size);
    }
    // The fs store's complete files form a plain folder.
    expect(sha256(await readFile(store.pathOf(res.files[0].key)))).toBe(sha256(await readFile(join(src, 'config.json'))));

    const last = snaps[snaps.length - 1];
    expect(last.doneBytes).toBe(last.totalBytes);
    expect(last.totalBytes).toBe(res.files.reduce((s, f) => s + f.size, 0));
    expect(last.files.map((f) => f.status)).toEqual(['complete', 'complete', 'complete', 'complete', 'complete']);
    expect(snaps.some((s) => s.files.some((f) => f.status === 'downloading' && f.bytes > 0 && f.bytes < f.size))).toBe(true);

    const weights = await openHubFile(store, { type: 'model', name: 'test/tiny-qwen3' }, 'model.safetensors');
    const header = await readSafetensorsHeader(weights);
    expect(header.tensors.size).toBe(2 * 11 + 2);
    expect(header.tensors.get('model.embed_tokens.weight')!.shape).toEqual([151936, 64]);
    const norm = new Uint16Array((await readTensorBytes(weights, header, 'model.norm.weight')).slice().buffer);
    expect([...new Set(norm)]).toEqual([0x3f80]); // bf16 1.0

    mirror.records.length = 0;
    const again = await downloadHubRepo(store, { type: 'model', name: 'test/tiny-qwen3', revision: 'main' }, { hubUrl });
    expect(again.files.map((f) => f.fetchedBytes)).toEqual([0, 0, 0, 0, 0]);
    expect(resolveGets()).toEqual([]);
    expect(mirror.records.map((r) => r.url)).toEqual(['/api/models/test/tiny-qwen3/tree/main?recursive=true&expand=false']);
  });

  it('fetches into IndexedDB and reads back the same bytes', async () => {
    const store = await idbStore(1 << 20);
    const res = await downloadHubRepo(store, { type: 'model', name: 'test/tiny-qwen3' }, { hubUrl });
    const src = join(root, 'models', 'test', 'tiny-qwen3');
    for (const f of res.files) expect(await storedSha(store, f.key), f.path).toBe(sha256(await readFile(join(src, f.path))));
    expect((await store.list()).every((f) => f.complete)).toBe(true);
    store.close();
  });

  it('fetches a sharded model through its index, and only the shards it names', async () => {
    const store = await idbStore(64 * KiB);
    const repo = { type: 'model' as const, name: 'test/sharded' };
    const res = await downloadHubRepo(store, repo, { hubUrl });
    expect(res.files.map((f) => f.path)).toEqual([
      'config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json',
      'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors',
    ]);
    const shards = await Promise.all(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'].map((p) => openHubFile(store, repo, p)));
    const index = parseSafetensorsIndex(await readText(await openHubFile(store, repo, 'model.safetensors.index.json')));
    const loc = await locateTensors(shards, index);
    expect([...loc.keys()].sort()).toEqual(['a', 'b', 'c']);
    expect(loc.get('c')!.source.name).toBe('model-00002-of-00002.safetensors');
    store.close();
  });
});

describe('resume and integrity', () => {
  const repo = { type: 'model' as const, name: SMALL };
  const key = hubFileKey('model', SMALL, 'main', 'model.safetensors');
  const CS = 256 * KiB;
  const CUT = 700_000; // inside the third chunk: two chunks (524288 bytes) are stored when it drops

  it('resumes after a dropped connection: bytes already stored are not fetched again', async () => {
    const store = await fsStore(CS);
    mirror.records.length = 0;
    mirror.setCut({ afterBytes: CUT, path: 'model.safetensors' });
    const err = await downloadHubRepo(store, repo, { hubUrl, retries: 0 }).catch((e) => e);
    mirror.setCut(null);
    expect(err).toBeInstanceOf(HubDownloadError);
    expect(err.message).toMatch(/^downloading model.safetensors of test\/small@main from http:\/\/127\.0\.0\.1:\d+ failed: /);
    const partial = (await store.stat(key))!;
    expect([partial.storedBytes, partial.complete]).toEqual([2 * CS, false]);
    await expect(openHubFile(store, repo, 'model.safetensors')).rejects.toThrow(`${key} is not fully downloaded (524.3 KB of 3.00 MB); run the download again to resume it`);

    // "Reload": a new call resumes at the last stored chunk.
    const res = await downloadHubRepo(store, repo, { hubUrl, retries: 0 });
    expect(bodyGets('model.safetensors')).toEqual([
      { start: 0, sent: CUT, cut: true },
      { start: 2 * CS, sent: SMALL_SIZE - 2 * CS, cut: false },
    ]);
    expect(res.files.find((f) => f.path === 'model.safetensors')!.fetchedBytes).toBe(SMALL_SIZE - 2 * CS);
    expect(await storedSha(store, key)).toBe(sha256(smallWeights));
    // config and tokenizer files were complete after the first call: not fetched again.
    expect(bodyGets('config.json').length + bodyGets('tokenizer.json').length).toBe(2);
  });

  it('retries a dropped connection within one call, resuming from the stored chunks (IndexedDB)', async () => {
    const store = await idbStore(CS);
    mirror.records.length = 0;
    mirror.setCut({ afterBytes: CUT, path: 'model.safetensors' });
    const snaps: DownloadProgress[] = [];
    const res = await downloadHubRepo(store, repo, { hubUrl, retries: 2, retryDelayMs: 0, onProgress: (p) => snaps.push(p) });
    mirror.setCut(null);
    expect(bodyGets('model.safetensors')).toEqual([
      { start: 0, sent: CUT, cut: true },
      { start: 2 * CS, sent: SMALL_SIZE - 2 * CS, cut: false },
    ]);
    expect(res.files.find((f) => f.path === 'model.safetensors')!.fetchedBytes).toBe(CUT + SMALL_SIZE - 2 * CS);
    const f = snaps[snaps.length - 1].files.find((x) => x.path === 'model.safetensors')!;
    expect([f.status, f.retries, f.bytes]).toEqual(['complete', 1, SMALL_SIZE]);
    expect(await storedSha(store, key)).toBe(sha256(smallWeights));
    store.close();
  });

  it('detects a corrupt partial download by its sha256 and fetches the file again', async () => {
    const store = await fsStore(CS);
    mirror.setCut({ afterBytes: CUT, path: 'model.safetensors' });
    await downloadHubRepo(store, repo, { hubUrl, retries: 0 }).catch(() => undefined);
    mirror.setCut(null);
    // Damage one stored byte of the partial file.
    const part = join(store.root, '.partial', ...key.split('/'));
    const bytes = new Uint8Array(await readFile(part));
    bytes[1000] ^= 0xff;
    await writeFile(part, bytes);

    mirror.records.length = 0;
    const snaps: DownloadProgress[] = [];
    await downloadHubRepo(store, repo, { hubUrl, retries: 1, retryDelayMs: 0, onProgress: (p) => snaps.push(p) });
    expect(bodyGets('model.safetensors')).toEqual([
      { start: 2 * CS, sent: SMALL_SIZE - 2 * CS, cut: false }, // resumed, then the hash did not match
      { start: 0, sent: SMALL_SIZE, cut: false }, // fetched again from scratch
    ]);
    const f = snaps[snaps.length - 1].files.find((x) => x.path === 'model.safetensors')!;
    expect([f.status, f.retries]).toEqual(['complete', 1]);
    const reasons = new Set(snaps.map((p) => p.files.find((x) => x.path === 'model.safetensors')!.error).filter((e) => e));
    expect([...reasons]).toHaveLength(1);
    expect([...reasons][0]).toMatch(/model.safetensors: sha256 [0-9a-f]{64} does not match the Hub's [0-9a-f]{64}; the corrupt copy was deleted and is fetched again/);
    expect(await storedSha(store, key)).toBe(sha256(smallWeights));
  });

  it('re-hashes complete files when asked, and re-fetches one damaged on disk', async () => {
    const store = await fsStore(CS);
    await downloadHubRepo(store, repo, { hubUrl });
    const path = store.pathOf(key);
    const bytes = new Uint8Array(await readFile(path));
    bytes[SMALL_SIZE - 1] ^= 1;
    await writeFile(path, bytes);

    mirror.records.length = 0;
    await downloadHubRepo(store, repo, { hubUrl }); // trusts its records: nothing fetched
    expect(resolveGets()).toEqual([]);
    await downloadHubRepo(store, repo, { hubUrl, verifyExisting: true });
    expect(bodyGets('model.safetensors')).toEqual([{ start: 0, sent: SMALL_SIZE, cut: false }]);
    expect(bodyGets('config.json')).toEqual([]);
    expect(await storedSha(store, key)).toBe(sha256(smallWeights));
  });
});

describe('storage space', () => {
  const repo = { type: 'model' as const, name: SMALL };

  it('refuses to start when the store has too little space, saying how much is needed', async () => {
    const store = await idbStore(256 * KiB, async () => ({ usage: 1_000_000, quota: 2_000_000 }));
    mirror.records.length = 0;
    const err = await downloadHubRepo(store, repo, { hubUrl }).catch((e) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect(err.message).toMatch(/^Not enough storage for test\/small@main \(4 files, 3\.00 MB\): needs 3\.00 MB more, 1\.00 MB available \(1\.00 MB used of 2\.00 MB\)\. /);
    expect(resolveGets()).toEqual([]);
    store.close();
  });

  it('a QuotaExceededError mid-file stops with a clear error, marks nothing complete, and resumes later', async () => {
    const store = await idbStore(256 * KiB);
    const key = hubFileKey('model', SMALL, 'main', 'model.safetensors');
    const proto = (globalThis as unknown as { IDBObjectStore: { prototype: { put: (...a: unknown[]) => unknown } } }).IDBObjectStore.prototype;
    const orig = proto.put;
    let used = 0;
    proto.put = function (this: { name: string; transaction: { _abort(n: string): void } }, value: unknown, ...rest: unknown[]) {
      if (this.name === 'chunks' && (used += (value as Uint8Array).byteLength) > 1_000_000) {
        const req = orig.call(this, value, ...rest);
        this.transaction._abort('QuotaExceededError');
        return req;
      }
      return orig.call(this, value, ...rest);
    };
    mirror.records.length = 0;
    let err: unknown;
    try {
      await downloadHubRepo(store, repo, { hubUrl, retries: 3, retryDelayMs: 0 });
    } catch (e) {
      err = e;
    } finally {
      proto.put = orig;
    }
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as Error).message).toMatch(/^Not enough storage for models\/test\/small\/main\/model\.safetensors: needs [\d.]+ [MK]B more, .* Bytes already stored are kept; the download resumes where it stopped\.$/);
    expect(bodyGets('model.safetensors').length).toBe(1); // not retried: retrying cannot help
    const f = (await store.stat(key))!;
    expect(f.complete).toBe(false);
    expect(f.storedBytes % (256 * KiB)).toBe(0);
    expect(f.storedBytes).toBeGreaterThan(0);

    mirror.records.length = 0;
    await downloadHubRepo(store, repo, { hubUrl });
    expect(bodyGets('model.safetensors')).toEqual([{ start: f.storedBytes, sent: SMALL_SIZE - f.storedBytes, cut: false }]);
    expect(await storedSha(store, key)).toBe(sha256(smallWeights));
    store.close();
  });
});

describe('downloading a dataset', () => {
  it('fetches the parquet shards per split, or only the splits asked for', async () => {
    const store = await fsStore(64 * KiB);
    const all = await downloadHubRepo(store, { type: 'dataset', name: 'test/prefs' }, { hubUrl });
    expect(all.files.map((f) => [f.split, f.path, f.key])).toEqual([
      ['test', 'data/test-00000-of-00001.parquet', 'datasets/test/prefs/main/data/test-00000-of-00001.parquet'],
      ['train', 'data/train-00000-of-00001.parquet', 'datasets/test/prefs/main/data/train-00000-of-00001.parquet'],
    ]);
    expect(await storedSha(store, all.files[1].key)).toBe(sha256(await readFile(join(root, 'datasets', 'test', 'prefs', 'data', 'train-00000-of-00001.parquet'))));

    const idb = await idbStore(64 * KiB);
    const onlyTest = await downloadHubRepo(idb, { type: 'dataset', name: 'test/prefs' }, { hubUrl, splits: ['test'] });
    expect(onlyTest.files.map((f) => f.split)).toEqual(['test']);
    await expect(downloadHubRepo(idb, { type: 'dataset', name: 'test/prefs' }, { hubUrl, splits: ['validation'] }))
      .rejects.toThrow(new HubSelectionError('test/prefs has no split "validation" (it has test, train)'));
    idb.close();
  });

  it('downloads a single file on request', async () => {
    const store = await fsStore(64 * KiB);
    const f = await downloadHubFile(store, { type: 'dataset', name: 'test/prefs' }, 'README.md', { hubUrl });
    expect(f.key).toBe('datasets/test/prefs/main/README.md');
    expect(new TextDecoder().decode(await store.readRange(f.key, 0, f.size))).toBe('# prefs\n');
  });
});

describe('errors and the access token', () => {
  it('says what to do when a repo or file is missing or access is refused', async () => {
    const store = await fsStore(64 * KiB);
    await expect(downloadHubRepo(store, { type: 'model', name: 'test/nope' }, { hubUrl }))
      .rejects.toThrow(/^test\/nope@main not found on http:\/\/127\.0\.0\.1:\d+ \(listing the files\): check the repo id and revision; a private repo also answers 404 without a token\.$/);
    await expect(downloadHubRepo(store, { type: 'model', name: 'not a repo' }, { hubUrl }))
      .rejects.toThrow('"not a repo" is not a Hub repo id: expected "org/name"');
    await expect(downloadHubRepo(store, { type: 'dataset', name: 'test/prefs' }, { hubUrl, accessToken: 'abc' }))
      .rejects.toThrow('The access token must start with "hf_"');
    const gated: typeof fetch = async () => new Response(JSON.stringify({ error: 'Access to model test/gated is restricted.' }), { status: 401, headers: { 'Content-Type': 'application/json' } });
    await expect(listHubFiles({ type: 'model', name: 'test/gated' }, { hubUrl, fetch: gated }))
      .rejects.toThrow(`${hubUrl} refused access to test/gated@main (HTTP 401): the repo is private or gated. Provide an access token with read access; for a gated repo, first accept its terms on ${hubUrl}/test/gated.`);
    await expect(downloadHubFile(store, { type: 'model', name: SMALL }, 'nope.bin', { hubUrl })).rejects.toThrow('nope.bin is not in test/small@main');
    await expect(downloadHubRepo(store, { type: 'dataset', name: SMALL }, { hubUrl })).rejects.toThrow(/^dataset test\/small@main not found/);
  });

  it('sends the token only in the Authorization header, never in a URL or an error', async () => {
    const token = 'hf_testSecretToken123';
    const seen: { url: string; auth: string | null }[] = [];
    const spy: typeof fetch = async (input, init) => {
      seen.push({ url: String(input instanceof Request ? input.url : input), auth: new Headers(init?.headers).get('authorization') });
      return fetch(input, init);
    };
    const store = await fsStore(64 * KiB);
    await downloadHubRepo(store, { type: 'dataset', name: 'test/prefs' }, { hubUrl, accessToken: token, fetch: spy });
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((s) => !s.url.includes(token) && s.auth === `Bearer ${token}`)).toBe(true);
    expect(mirror.records.every((r) => !r.url.includes(token))).toBe(true);
    const err = await downloadHubRepo(store, { type: 'model', name: 'test/missing' }, { hubUrl, accessToken: token, fetch: spy }).catch((e) => e);
    expect(String(err.message)).not.toContain(token);
    expect(JSON.stringify(await store.list())).not.toContain(token);
  });

  it('stops on abort and keeps what was stored', async () => {
    const store = await fsStore(256 * KiB);
    const ac = new AbortController();
    // Aborts once 600 KB of the weights' body have arrived (deterministic, unlike a timer).
    const abortingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = String(input instanceof Request ? input.url : input);
      if (!url.endsWith('model.safetensors') || new Headers(init?.headers).get('range') === 'bytes=0-0' || !res.body) return res;
      let n = 0;
      const counted = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          ctl.enqueue(chunk);
          if ((n += chunk.length) > 600_000) ac.abort();
        },
      }));
      return new Response(counted, { status: res.status, headers: res.headers });
    };
    const err = await downloadHubRepo(store, { type: 'model', name: SMALL }, { hubUrl, signal: ac.signal, fetch: abortingFetch }).catch((e) => e);
    expect((err as Error).name).toBe('AbortError');
    const f = (await store.stat(hubFileKey('model', SMALL, 'main', 'model.safetensors')))!;
    expect(f.complete).toBe(false);
    expect(f.storedBytes).toBeGreaterThanOrEqual(2 * 256 * KiB);
    await downloadHubRepo(store, { type: 'model', name: SMALL }, { hubUrl });
    expect((await store.stat(f.key))!.complete).toBe(true);
  });
});
