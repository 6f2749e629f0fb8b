// The studio store in Node: requests get rids and are recorded for their area, worker events land in the right
// slice, and per-step metrics go to the metrics buffer without touching the store.
import { describe, expect, it } from 'vitest';
import { createStudio, type Transport } from '../../src/ui/store/store.ts';
import { applyEvent } from '../../src/ui/store/events.ts';
import type { Request } from '../../src/worker/protocol.ts';

function studioWithLog() {
  const sent: Request[] = [];
  const transport: Transport = { post: (r) => sent.push(r) };
  return { ...createStudio(transport), sent };
}

const GPU_INFO = { vendor: 'google', architecture: 'swiftshader', device: '', description: '', features: ['subgroups'], limits: { maxBufferSize: 1 << 30 } };

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

  it('an import with bad lines is not used until accepted; a clean one is used at once', () => {
    const { store } = studioWithLog();
    const base = { type: 'import-summary' as const, rid: 1, name: 'x.jsonl', split: 'train' as const, lines: 3, format: 'conversational' as const, blankLines: 0, duplicates: 0 };
    store.getState().handleEvent({ ...base, id: 'i1', valid: 2, errors: [{ line: 2, message: 'bad', fix: 'fix' }], errorCount: 1, accepted: false });
    expect(store.getState().selection.dataset).toEqual({ kind: 'demo' });
    expect(store.getState().imports[0]).toMatchObject({ id: 'i1', accepted: false, errorCount: 1 });
    store.getState().handleEvent({ type: 'import-accepted', rid: 2, id: 'i1', pairs: 2 });
    expect(store.getState().selection.dataset).toEqual({ kind: 'import', id: 'i1' });
    expect(store.getState().imports[0]).toMatchObject({ accepted: true, pairs: 2 });
    store.getState().handleEvent({ ...base, id: 'i2', valid: 3, errors: [], errorCount: 0, accepted: true });
    expect(store.getState().selection.dataset).toEqual({ kind: 'import', id: 'i2' });
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
