// The run the studio's results follow (issue 11): Evaluate, Export and the TRL script use the run's own model, data
// (with its split) and config, not what Model & data and Configure show now; a stored run that was running when its
// tab died is "interrupted"; recovery checkpoints show as such; leaving or hiding a running page asks the worker for
// a recovery checkpoint (and leaving asks the user first). Plus the small formatting rules of the panels.
import { describe, expect, it } from 'vitest';
import { createStudio, type Transport } from '../../src/ui/store/store.ts';
import { defaultConfigJson } from '../../src/ui/config_fields.ts';
import { evalTarget, runContext, scriptContextOf } from '../../src/ui/run_context.ts';
import { renderTrlScript } from '../../src/ui/panels/configure/trl_script.ts';
import { loadFollowedRunHistory, watchLifecycle } from '../../src/ui/lifecycle.ts';
import { runDifferences } from '../../src/ui/panels/train/run_diff.ts';
import { formatLabel } from '../../src/ui/panels/model_data/import_split.ts';
import { formatProbability } from '../../src/ui/format.ts';
import { OPTIMIZE_ENTRIES } from '../../vite.config.ts';
import { runDataNames } from '../../src/worker/run_data_files.ts';
import type { Request, RunSummary, StoredImport } from '../../src/worker/protocol.ts';

function studioWithLog() {
  const sent: Request[] = [];
  const transport: Transport = { post: (r) => sent.push(r) };
  return { ...createStudio(transport), sent };
}

const IMPORT: StoredImport = {
  id: 'import-abc-1', name: 'my-prefs.jsonl', createdAt: 1, format: 'conversational', pairs: 34,
  split: { kind: 'seeded', test_size: 2, seed: 7 }, splits: { train: 32, test: 2 }, files: [],
};
const RUN: RunSummary = {
  id: 'run-1', createdAt: 1, model: { kind: 'demo' }, dataset: { kind: 'import', id: IMPORT.id }, config: { ...defaultConfigJson(), learning_rate: 0.001 },
  dataName: 'my-prefs.jsonl', split: IMPORT.split, lastCheckpoint: 3, lastCheckpointRecovery: true, maxSteps: 12, state: 'interrupted', resumable: true, openable: true,
};

describe('the run the results follow', () => {
  it("after a reload (only the run's id kept) Evaluate, Export and the script use the run's data, split and config", () => {
    const { store, sent } = studioWithLog();
    const s = store.getState();
    // what the page shows now: another dataset and another learning rate
    s.setSelection({ dataset: { kind: 'demo' } });
    s.setConfig({ learning_rate: 0.5 });
    store.setState({ train: { ...store.getState().train, runId: 'run-1' } });
    s.handleEvent({ type: 'imports-stored', rid: 0, imports: [IMPORT] });
    s.handleEvent({ type: 'runs', rid: 0, runs: [RUN] });
    const ctx = runContext(store.getState());
    expect(ctx).toMatchObject({ dataset: RUN.dataset, model: RUN.model, run: { id: 'run-1' } });
    expect(ctx.config.learning_rate).toBe(0.001);
    const script = renderTrlScript(scriptContextOf(store.getState()));
    expect(script).toContain('data_files={"train": "my-prefs.train.jsonl", "test": "my-prefs.test.jsonl"}');
    expect(script).toContain('learning_rate=0.001,');
    expect(evalTarget(store.getState())).toEqual({ source: 'run', runId: 'run-1' });
    // without a run: the selection
    store.setState({ train: { ...store.getState().train, runId: null } });
    expect(runContext(store.getState())).toMatchObject({ dataset: { kind: 'demo' }, run: null });
    expect(sent).toEqual([]);
  });

  it('a run deleted elsewhere is forgotten; a recovery checkpoint is marked as one', () => {
    const { store } = studioWithLog();
    store.setState({ train: { ...store.getState().train, runId: 'run-gone' } });
    store.getState().handleEvent({ type: 'runs', rid: 0, runs: [RUN] });
    expect(store.getState().train.runId).toBe(null);
    store.getState().handleEvent({ type: 'checkpoint', step: 4, name: 'recovery-4' });
    expect(store.getState().train).toMatchObject({ lastCheckpoint: 4, lastCheckpointRecovery: true });
    store.getState().handleEvent({ type: 'checkpoint', step: 500, name: 'checkpoint-500' });
    expect(store.getState().train).toMatchObject({ lastCheckpoint: 500, lastCheckpointRecovery: false });
  });

  it('hiding or leaving a running page asks for a recovery checkpoint; leaving asks the user first', () => {
    const { store, sent } = studioWithLog();
    const win = new EventTarget();
    const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' as DocumentVisibilityState });
    const stop = watchLifecycle(store, win as unknown as Window, doc as unknown as Document);
    const leave = () => {
      // Node's Event has no settable returnValue (a BeforeUnloadEvent has)
      const e = Object.defineProperty(new Event('beforeunload', { cancelable: true }), 'returnValue', { value: undefined, writable: true }) as BeforeUnloadEvent;
      win.dispatchEvent(e);
      return e.defaultPrevented;
    };
    // idle: nothing asked, leaving is free
    expect(leave()).toBe(false);
    doc.visibilityState = 'hidden';
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(sent).toEqual([]);
    store.setState({ train: { ...store.getState().train, state: 'running' } });
    doc.dispatchEvent(new Event('visibilitychange'));
    win.dispatchEvent(new Event('pagehide'));
    expect(leave()).toBe(true);
    expect(sent.map((r) => r.type)).toEqual(['train-snapshot', 'train-snapshot', 'train-snapshot']);
    // visible again: no snapshot
    doc.visibilityState = 'visible';
    doc.dispatchEvent(new Event('visibilitychange'));
    expect(sent).toHaveLength(3);
    stop();
    win.dispatchEvent(new Event('pagehide'));
    expect(sent).toHaveLength(3);
  });

  it("after a reload the followed run's charts are asked for once the runs are listed (no Open needed)", () => {
    const { store, sent } = studioWithLog();
    loadFollowedRunHistory(store);
    store.setState({ train: { ...store.getState().train, runId: 'run-1' } });
    store.getState().handleEvent({ type: 'runs', rid: 0, runs: [RUN] });
    store.getState().handleEvent({ type: 'runs', rid: 0, runs: [RUN] });
    expect(sent).toMatchObject([{ type: 'run-history', runId: 'run-1' }]);
    // a history replaces the charts' rows
    store.getState().handleEvent({ type: 'metrics-history', rows: [{ kind: 'train', step: 1, metrics: { loss: 0.7 } }] });
  });

  it('the run list shows what differs between runs (all settings for a single run)', () => {
    const other: RunSummary = { ...RUN, id: 'run-2', dataName: 'demo preferences', config: { ...RUN.config, peft: { r: 8 } } };
    const d = runDifferences([RUN, other]);
    expect(d.get('run-1')).toEqual(['data my-prefs.jsonl', 'LoRA full']);
    expect(d.get('run-2')).toEqual(['data demo preferences', 'LoRA r 8']);
    expect(runDifferences([RUN]).get('run-1')).toEqual(['data my-prefs.jsonl', 'lr 0.001', 'LoRA full', 'steps 12', 'batch 8', 'max_length 1024', 'seed 42']);
  });
});

describe('names and formats', () => {
  it("split files are named after the imported file, the same after a reload; a Hub dataset needs none", () => {
    expect(runDataNames({ kind: 'import', id: 'x' }, 'C:\\data\\my.prefs.jsonl', { kind: 'seeded', test_size: 0.1, seed: 42 })).toEqual({ train: 'my.prefs.train.jsonl', eval: 'my.prefs.test.jsonl' });
    expect(runDataNames({ kind: 'import', id: 'x' }, 'all.jsonl', { kind: 'whole', split: 'train' })).toEqual({ train: 'all.jsonl', eval: null });
    expect(runDataNames({ kind: 'hub', repo: 'a/b', revision: 'main' }, undefined, null)).toBe(null);
  });

  it('P(A≻B) never reads 0.0% or 100.0% for a probability strictly between', () => {
    expect(formatProbability(1e-4)).toBe('1.0e-2%');
    expect(formatProbability(0.5)).toBe('50.0%');
    expect(formatProbability(1 - 1e-4)).toMatch(/^100% − 1\.0e-2%$/);
    expect(formatProbability(0)).toBe('0%');
  });

  it('explicit-prompt files are labelled as such', () => {
    expect(formatLabel('standard', true)).toBe('standard + explicit prompt');
    expect(formatLabel('conversational')).toBe('conversational');
  });

  it("Vite's dependency scan starts from the page and both workers (no reload on the first visit)", () => {
    expect(OPTIMIZE_ENTRIES).toEqual(expect.arrayContaining(['index.html', 'src/worker/*.worker.ts']));
  });
});
