// A model folder on disk copied into the browser's FileStore (src/data/local_model.ts): a good folder is stored once
// under the Hub download layout with every file's sha256 (checked here with node:crypto) and reads back through the
// same modelFiles() a download uses; choosing it again copies nothing; a folder without config.json, with a truncated
// safetensors file, with weights that contradict config.json, or whose copy fails half-way leaves nothing stored and
// an error naming the file.
import 'fake-indexeddb/auto';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importModelFolder, LOCAL_MANIFEST, LocalModelError, type LocalFile } from '../../src/data/local_model.ts';
import { openIdbFileStore } from '../../src/data/storage-idb.ts';
import { hubFileKey, type FileStore } from '../../src/data/storage.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import { concatParts, locateTensors, parseSafetensorsIndex, readSafetensorsHeader, serializeSafetensors } from '../../src/formats/safetensors.ts';
import { modelFiles } from '../../src/worker/model_files.ts';
import { writeTinyQwen3 } from '../../tools/fixtures-model.ts';

let dir = '';
const bytes = new Map<string, Uint8Array>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rs-local-model-'));
  await writeTinyQwen3(join(dir, 'my-model'), { vocabSize: 512 });
  for (const f of await readdir(join(dir, 'my-model'))) bytes.set(f, new Uint8Array(await readFile(join(dir, 'my-model', f))));
  // a 512-token vocabulary keeps the weights small; the special token ids must then lie inside it (no pad_token_id,
  // as in Qwen3's own config.json)
  const cfg = JSON.parse(new TextDecoder().decode(bytes.get('config.json'))) as Record<string, unknown>;
  bytes.set('config.json', new TextEncoder().encode(JSON.stringify({ ...cfg, bos_token_id: 1, eos_token_id: 2 })));
  // the import checks tokenizer.json is JSON but does not load it: a small one keeps the copies and hashes quick
  bytes.set('tokenizer.json', new TextEncoder().encode(JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab: { a: 0 }, merges: [] } })));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The folder's files as the page hands them over (File objects with a fixed modification time). */
function folder(change: Record<string, Uint8Array | null> = {}): LocalFile[] {
  const all = new Map(bytes);
  for (const [k, v] of Object.entries(change)) {
    if (v === null) all.delete(k);
    else all.set(k, v);
  }
  return [...all].map(([path, b]) => ({ path, blob: new File([b as Uint8Array<ArrayBuffer>], path, { lastModified: 1_700_000_000_000 }) }));
}

let n = 0;
const newStore = () => openIdbFileStore({ dbName: `local-model-${n++}`, chunkSize: 1 << 20 });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const keys = async (s: FileStore) => (await s.list()).map((f) => f.key);

async function refused(files: LocalFile[]): Promise<{ error: LocalModelError; stored: string[] }> {
  const store = await newStore();
  const error = await importModelFolder(store, 'my-model', files).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(LocalModelError);
  return { error: error as LocalModelError, stored: await keys(store) };
}

describe('local model folder import', () => {
  it('stores a good folder once with sha256s, readable like a download', async () => {
    const store = await newStore();
    const r = await importModelFolder(store, 'my-model', [...folder(), { path: 'runs/x.bin', blob: new File(['x'], 'x.bin') }]);
    expect(r).toMatchObject({ repo: '_local/my-model', reused: false });
    expect(r.revision).toMatch(/^[0-9a-f]{12}$/);
    // every model file (README.md-like extras and nested files are not part of the model) with its real sha256
    expect(r.manifest.files.map((f) => f.path).sort()).toEqual([...bytes.keys()].sort());
    for (const f of r.manifest.files) expect(f.sha256, f.path).toBe(sha(bytes.get(f.path)!));
    const stored = await keys(store);
    expect(stored.sort()).toEqual([...[...bytes.keys()].map((p) => hubFileKey('model', r.repo, r.revision, p)), hubFileKey('model', r.repo, r.revision, LOCAL_MANIFEST)].sort());
    // read back through the downloader's reader: same bytes, headers parse
    const mf = await modelFiles({ kind: 'hub', repo: r.repo, revision: r.revision }, store);
    expect(mf.configText).toBe(new TextDecoder().decode(bytes.get('config.json')));
    const w = mf.weights[0];
    expect(sha(await w.read(0, w.size))).toBe(sha(bytes.get('model.safetensors')!));
    expect((await locateTensors(mf.weights)).has('model.embed_tokens.weight')).toBe(true);
    // choosing the same folder again copies nothing
    const createdAt = (await store.list()).map((f) => f.createdAt);
    const again = await importModelFolder(store, 'my-model', folder());
    expect(again).toMatchObject({ repo: r.repo, revision: r.revision, reused: true });
    expect((await store.list()).map((f) => f.createdAt)).toEqual(createdAt);
  });

  it('refuses a folder without config.json or tokenizer, naming the file; nothing stored', async () => {
    const a = await refused(folder({ 'config.json': null }));
    expect(a.error.message).toMatch(/"my-model" has no config\.json/);
    expect(a.stored).toEqual([]);
    const b = await refused(folder({ 'tokenizer.json': null }));
    expect(b.error.message).toMatch(/no tokenizer\.json/);
    expect(b.stored).toEqual([]);
  });

  it('refuses a truncated safetensors file and weights that contradict config.json; nothing stored', async () => {
    const w = bytes.get('model.safetensors')!;
    const a = await refused(folder({ 'model.safetensors': w.subarray(0, w.length - 100) }));
    expect(a.error.message).toMatch(/^my-model\/model\.safetensors: /);
    expect(a.stored).toEqual([]);
    const cfg = JSON.parse(new TextDecoder().decode(bytes.get('config.json'))) as Record<string, unknown>;
    const b = await refused(folder({ 'config.json': new TextEncoder().encode(JSON.stringify({ ...cfg, intermediate_size: (cfg.intermediate_size as number) * 2 })) }));
    expect(b.error.message).toMatch(/mlp\.\w+_proj\.weight in my-model\/model\.safetensors has shape .* but my-model\/config\.json implies/);
    expect(b.stored).toEqual([]);
    const c = await refused(folder({ 'config.json': new TextEncoder().encode('{"hidden_size": ') }));
    expect(c.error.message).toMatch(/my-model\/config\.json/);
  });

  it('stores a sharded folder (index + shards); a missing shard is named', async () => {
    const src = bytes.get('model.safetensors')!;
    const header = await readSafetensorsHeader(bytesSource('model.safetensors', src));
    const tensors = [...header.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: src.subarray(header.dataStart + t.dataOffsets[0], header.dataStart + t.dataOffsets[1]) }));
    const half = Math.ceil(tensors.length / 2);
    const shards = [tensors.slice(0, half), tensors.slice(half)].map((ts) => concatParts(serializeSafetensors(ts, { format: 'pt' })));
    const names = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
    const weight_map = Object.fromEntries(tensors.map((t, i) => [t.name, names[i < half ? 0 : 1]]));
    const index = new TextEncoder().encode(JSON.stringify({ metadata: { total_size: src.length }, weight_map }));
    const sharded = { 'model.safetensors': null, 'model.safetensors.index.json': index, [names[0]]: shards[0], [names[1]]: shards[1] };
    const store = await newStore();
    const r = await importModelFolder(store, 'my-model', folder(sharded));
    const mf = await modelFiles({ kind: 'hub', repo: r.repo, revision: r.revision }, store);
    expect(mf.weights.map((w) => w.name)).toEqual(names);
    expect((await locateTensors(mf.weights, parseSafetensorsIndex(mf.indexText!))).size).toBe(tensors.length);
    const missing = await refused(folder({ ...sharded, [names[1]]: null }));
    expect(missing.error.message).toBe(`The folder "my-model" has no ${names[1]}.`);
    expect(missing.stored).toEqual([]);
  });

  it('removes what it stored when the copy fails half-way (storage full)', async () => {
    const store = await newStore();
    let appends = 0;
    const append = store.appendChunk.bind(store);
    store.appendChunk = async (key, data) => {
      if (++appends === 5) throw Object.assign(new Error('quota'), { name: 'QuotaExceededError' });
      return append(key, data);
    };
    await expect(importModelFolder(store, 'my-model', folder())).rejects.toThrow(/quota/);
    expect(appends).toBeGreaterThanOrEqual(5);
    expect(await keys(store)).toEqual([]);
  });
});
