// The studio store in Node: requests get rids and are recorded for their area, worker events land in the right
// slice, and per-step metrics go to the metrics buffer without touching the store.
import { describe, expect, it } from 'vitest';
import { createStudio, type Transport } from '../../src/ui/store/store.ts';
import { applyEvent } from '../../src/ui/store/events.ts';
import { startTraining } from '../../src/ui/actions.ts';
import type { Request } from '../../src/worker/protocol.ts';

function studioWithLog() {
  const sent: Request[] = [];
  const transport: Transport = { post: (r) => sent.push(r) };
  return { ...createStudio(transport), sent };
}

const GPU_INFO = {
  vendor: 'google', architecture: 'swiftshader', device: '', description: '', features: ['subgroups'], limits: { maxBufferSize: 1 << 30 },
  adapterFeatures: ['subgroups'], fallback: true, subgroupMinSize: 4, subgroupMaxSize: 4, subgroupMatrixConfigs: null, engine: [], software: null,
};

describe('requests', () => {
  it('numbers requests, routes them, and drops the token from what the store keeps', () => {
    const { store, sent } = studioWithLog();
    const a = store.getState().request({ type: 'gpu-info' });
    const b = store.getState().request({ type: 'download', what: 'model', hubUrl: 'http://x', repo: 'o/n', revision: 'main', token: 'hf_secret' });
    expect(b).toBe(a + 1);
    expect(sent.map((r) => r.rid)).toEqual([a, b]);
    expect(sent[1]).toMatchObject({ type: 'download', token: 'hf_secret' });
    expect(JSON.stringify(store.getState().pending)).not.toContain('hf_secret');
    expect(store.getState().pending[b]).toMatchObject({ type: 'download', area: 'model-data' });
  });

  it('clears the old error of an area when a new request starts there', () => {
    const { store } = studioWithLog();
    store.getState().showError('inspect', 'bad', 'fix it');
    store.getState().request({ type: 'inspect', dataset: { kind: 'demo' }, model: { kind: 'demo' }, maxLength: 64 });
    expect(store.getState().errors.inspect).toBeUndefined();
  });

  it('does not track requests that no event answers', () => {
    const { store, sent } = studioWithLog();
    store.getState().request({ type: 'train-pause' });
    store.getState().request({ type: 'cancel', target: 3 });
    expect(sent.map((r) => r.type)).toEqual(['train-pause', 'cancel']);
    expect(store.getState().pending).toEqual({});
  });

  it('sends the GPU memory budget (GiB setting, 8 by default) with plans and runs, in bytes', () => {
    const studio = studioWithLog();
    const { store, sent } = studio;
    expect(store.getState().gpuBudgetGiB).toBe(8);
    startTraining(studio);
    expect(sent.at(-1)).toMatchObject({ type: 'train-start', budgetBytes: 8 * 2 ** 30 });
    store.getState().setGpuBudgetGiB(5.5);
    expect(store.getState().plan).toBeNull();
    startTraining(studio);
    expect(sent.at(-1)).toMatchObject({ type: 'train-start', budgetBytes: 5.5 * 2 ** 30 });
  });

  it('refuses to send without a transport', () => {
    const { store } = createStudio();
    expect(() => store.getState().request({ type: 'gpu-info' })).toThrow(/connect/);
  });
});

describe('events', () => {
  it('gpu-info: ready with the info, or missing with the message', () => {
    const { store } = studioWithLog();
    const rid = store.getState().request({ type: 'gpu-info' });
    store.getState().handleEvent({ type: 'gpu-info', rid, info: GPU_INFO });
    expect(store.getState().gpu).toMatchObject({ status: 'ready', info: GPU_INFO });
    expect(store.getState().pending[rid]).toBeUndefined();
    const other = studioWithLog();
    other.store.getState().handleEvent({ type: 'gpu-info', rid: 1, info: null, message: 'no adapter' });
    expect(other.store.getState().gpu).toMatchObject({ status: 'missing', message: 'no adapter' });
  });

  it('download progress per file, then done selects the repo for the run', () => {
    const { store } = studioWithLog();
    const rid = store.getState().request({ type: 'download', what: 'dataset', hubUrl: 'h', repo: 'o/d', revision: 'v1' });
    const overall = { loaded: 10, total: 30, filesDone: 0, filesTotal: 2, rate: 5, etaSeconds: 4 };
    const files = [
      { path: 'a.parquet', bytes: 10, size: 20, status: 'downloading' as const },
      { path: 'b.parquet', bytes: 0, size: 10, status: 'queued' as const },
    ];
    store.getState().handleEvent({ type: 'download-progress', rid, repo: 'o/d', files, overall });
    const d = store.getState().downloads[rid];
    expect(d).toMatchObject({ what: 'dataset', revision: 'v1', status: 'running', overall });
    expect(d.files.map((f) => f.path)).toEqual(['a.parquet', 'b.parquet']);
    store.getState().handleEvent({ type: 'download-done', rid, what: 'dataset', repo: 'o/d', revision: 'v1', files: ['a.parquet', 'b.parquet'] });
    expect(store.getState().downloads[rid].status).toBe('done');
    expect(store.getState().selection.dataset).toEqual({ kind: 'hub', repo: 'o/d', revision: 'v1' });
  });

  it('an import with bad lines is not used until stored; a stored one with training pairs is used at once', () => {
    const { store } = studioWithLog();
    const split = { kind: 'seeded' as const, test_size: 0.1, seed: 42 };
    const base = { type: 'import-summary' as const, rid: 1, name: 'x.jsonl', split, lines: 3, format: 'conversational' as const, explicitPrompt: false, blankLines: 0, duplicates: 0, warnings: [] };
    const stored = (id: string, train: number, test: number) => ({ id, name: `${id}.jsonl`, createdAt: 1, format: 'conversational' as const, pairs: train + test, split, splits: { train, test }, files: [] });
    store.getState().handleEvent({ ...base, id: 'i1', valid: 2, errors: [{ line: 2, message: 'bad', fix: 'fix' }], errorCount: 1, accepted: false });
    expect(store.getState().selection.dataset).toEqual({ kind: 'demo' });
    expect(store.getState().imports[0]).toMatchObject({ id: 'i1', accepted: false, errorCount: 1, pairs: null });
    store.getState().handleEvent({ type: 'import-accepted', rid: 2, id: 'i1', pairs: 2, stored: stored('i1', 1, 1) });
    expect(store.getState().selection.dataset).toEqual({ kind: 'import', id: 'i1' });
    expect(store.getState().imports[0]).toMatchObject({ pairs: 2 });
    expect(store.getState().storedImports.map((i) => i.id)).toEqual(['i1']);
    // a clean file keeps its request pending until it is stored
    const rid = store.getState().request({ type: 'import-jsonl', file: new File(['x'], 'y.jsonl'), split });
    store.getState().handleEvent({ ...base, rid, id: 'i2', valid: 3, errors: [], errorCount: 0, accepted: true });
    expect(store.getState().pending[rid]).toBeDefined();
    store.getState().handleEvent({ type: 'import-accepted', rid, id: 'i2', pairs: 3, stored: stored('i2', 2, 1) });
    expect(store.getState().pending[rid]).toBeUndefined();
    expect(store.getState().selection.dataset).toEqual({ kind: 'import', id: 'i2' });
    // a test-only file is stored but does not become the training data
    store.getState().handleEvent({ type: 'import-accepted', rid: 3, id: 'i3', pairs: 3, stored: { ...stored('i3', 0, 3), split: { kind: 'whole', split: 'test' } } });
    expect(store.getState().selection.dataset).toEqual({ kind: 'import', id: 'i2' });
    // the stored list after a delete: the selection falls back to the demo set
    store.getState().handleEvent({ type: 'imports-stored', rid: 0, imports: [stored('i1', 1, 1)] });
    expect(store.getState().storedImports.map((i) => i.id)).toEqual(['i1']);
    expect(store.getState().selection.dataset).toEqual({ kind: 'demo' });
    expect(store.getState().imports.map((i) => i.id)).toEqual(['i1']);
  });

  it('tokenize-done keeps per split whether the ids came from the cache; a new run clears it', () => {
    const { store } = studioWithLog();
    store.getState().handleEvent({ type: 'tokenize-done', rid: 0, splits: [{ split: 'train', pairs: 250, filtered: 6, cached: true }] });
    store.getState().handleEvent({ type: 'tokenize-done', rid: 0, splits: [{ split: 'test', pairs: 64, filtered: 0, cached: false }] });
    expect(store.getState().train.tokenized).toEqual([
      { split: 'train', pairs: 250, filtered: 6, cached: true },
      { split: 'test', pairs: 64, filtered: 0, cached: false },
    ]);
    store.getState().handleEvent({ type: 'train-state', state: 'loading' });
    expect(store.getState().train.tokenized).toEqual([]);
  });

  it('a loaded model folder becomes the evaluation source; unloading goes back to the run', () => {
    const { store } = studioWithLog();
    const info = { kind: 'adapter' as const, name: 'adapter', base: { kind: 'demo' as const }, lora: { r: 4, lora_alpha: 8, target_modules: ['q_proj'] }, tokenizer: 'base' as const, files: [] };
    store.getState().handleEvent({ type: 'score-pair-result', rid: 1, score: { rewardA: 1, rewardB: 0, pAB: 0.73, margin: 1 }, source: 'run' });
    store.getState().handleEvent({ type: 'model-loaded', rid: 2, info });
    expect(store.getState().evaluation).toMatchObject({ source: 'loaded', loaded: info, pair: null });
    store.getState().handleEvent({ type: 'score-pair-result', rid: 3, score: { rewardA: 2, rewardB: 0, pAB: 0.88, margin: 2 }, source: 'loaded' });
    expect(store.getState().evaluation.pair).toMatchObject({ rewardA: 2, source: 'loaded' });
    store.getState().handleEvent({ type: 'model-unloaded', rid: 4 });
    expect(store.getState().evaluation).toMatchObject({ source: 'run', loaded: null, pair: null });
  });

  it('log and eval rows go to the metrics buffer and leave the store untouched', () => {
    const { store, metrics } = studioWithLog();
    let storeChanges = 0;
    store.subscribe(() => storeChanges++);
    let bufferChanges = 0;
    metrics.subscribe(() => bufferChanges++);
    store.getState().handleEvent({ type: 'log', step: 10, metrics: { loss: 0.69, accuracy: 0.5 } });
    store.getState().handleEvent({ type: 'eval', step: 10, metrics: { loss: 0.7, eval_accuracy: 0.4, epoch: 0.1 } });
    expect(storeChanges).toBe(0);
    expect(bufferChanges).toBe(2);
    expect(metrics.all()).toEqual([
      { kind: 'train', step: 10, metrics: { loss: 0.69, accuracy: 0.5 } },
      // TRL's eval_ prefix is added where the trainer left it out
      { kind: 'eval', step: 10, metrics: { eval_loss: 0.7, eval_accuracy: 0.4, epoch: 0.1 } },
    ]);
  });

  it('progress computes an ETA from the observed seconds per step', () => {
    const { store, metrics } = studioWithLog();
    const s = () => store.getState();
    let patch = applyEvent(s(), { type: 'progress', step: 1, max_steps: 11, epoch: 0.1, tokens_per_second: 100 }, metrics, 1000);
    store.setState(patch!);
    expect(s().train.progress?.etaSeconds).toBeNull();
    patch = applyEvent(s(), { type: 'progress', step: 3, max_steps: 11, epoch: 0.3, tokens_per_second: 100 }, metrics, 5000);
    store.setState(patch!);
    // 2 s per step, 8 steps left
    expect(s().train.progress).toMatchObject({ step: 3, maxSteps: 11, etaSeconds: 16 });
  });

  it('errors land in their area; a training error stops the run state', () => {
    const { store } = studioWithLog();
    const rid = store.getState().request({ type: 'train-start', config: {}, model: { kind: 'demo' }, dataset: { kind: 'demo' }, resume: false });
    store.getState().handleEvent({ type: 'error', rid, where: 'train', message: 'no pairs left', fix: 'raise max_length' });
    expect(store.getState().errors.train).toMatchObject({ message: 'no pairs left', fix: 'raise max_length', request: 'train-start' });
    expect(store.getState().train.state).toBe('error');
    expect(store.getState().pending[rid]).toBeUndefined();
  });

  it('done with reason "stopped" is a stopped run, not a finished one', () => {
    const { store } = studioWithLog();
    store.getState().handleEvent({ type: 'done', step: 4, reason: 'stopped' });
    expect(store.getState().train.state).toBe('stopped');
    store.getState().handleEvent({ type: 'done', step: 9 });
    expect(store.getState().train.state).toBe('done');
  });
});
