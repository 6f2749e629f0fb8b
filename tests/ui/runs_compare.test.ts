// Runs side by side: the config fields that differ (LoRA fields as peft.*), one metric's curve per run (eval_* from
// eval rows), and the train worker reading stored runs' log histories from their last checkpoints (fake IndexedDB,
// no GPU needed).
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { configDiff, metricCurve } from '../../src/train/compare_runs.ts';
import { RunStore } from '../../src/worker/checkpoint_idb.ts';
import { createTrainHandler } from '../../src/worker/train_handler.ts';
import type { WorkerEvent } from '../../src/worker/protocol.ts';

const history: Record<string, number>[] = [
  { step: 1, loss: 0.7, accuracy: 0.5, epoch: 0.1 },
  { step: 2, loss: 0.6, accuracy: 0.75, epoch: 0.2 },
  { step: 2, eval_loss: 0.65, eval_accuracy: 0.6, epoch: 0.2 },
];

describe('runs side by side', () => {
  it('lists only differing fields and draws a metric per run', () => {
    const a = { learning_rate: 1e-4, max_steps: 10, peft: { r: 8, lora_alpha: 16 } };
    const b = { learning_rate: 1e-3, max_steps: 10, peft: { r: 16, lora_alpha: 16 } };
    const c = { learning_rate: 1e-4, max_steps: 10, peft: null };
    expect(configDiff([a, b])).toEqual([
      { field: 'learning_rate', values: ['0.0001', '0.001'] },
      { field: 'peft.r', values: ['8', '16'] },
    ]);
    expect(configDiff([a, c]).map((d) => d.field)).toEqual(['peft', 'peft.lora_alpha', 'peft.r']);
    expect(configDiff([a, a])).toEqual([]);
    expect(metricCurve(history, 'loss')).toEqual([{ step: 1, value: 0.7 }, { step: 2, value: 0.6 }]);
    expect(metricCurve(history, 'eval_accuracy')).toEqual([{ step: 2, value: 0.6 }]);
  });

  it('the train worker returns stored runs’ histories from their last checkpoint', async () => {
    const runs = await RunStore.open('runs-compare-test');
    const base = { createdAt: 1, model: { kind: 'demo' as const }, dataset: { kind: 'demo' as const }, lastCheckpoint: null, maxSteps: 2, state: 'done' as const };
    await runs.putRun({ ...base, id: 'run-a', config: { learning_rate: 1e-4 } });
    await runs.putRun({ ...base, id: 'run-b', config: { learning_rate: 1e-3 } });
    const state = (h: unknown) => [{ name: 'trainer_state.json', data: new TextEncoder().encode(JSON.stringify({ log_history: h })) }];
    await runs.checkpoints('run-a').save('checkpoint-1', state(history.slice(0, 1)));
    await runs.checkpoints('run-a').save('checkpoint-2', state(history));
    const events: WorkerEvent[] = [];
    const handler = createTrainHandler({ post: (e) => events.push(e), gpuApi: undefined, openStore: async () => null as never, openRuns: async () => runs, dataPort: () => { throw new Error('no port'); } });
    await handler({ type: 'runs-history', rid: 1, runIds: ['run-a', 'run-b', 'gone'] });
    expect(events).toEqual([{ type: 'runs-history', rid: 1, runs: [
      { id: 'run-a', createdAt: 1, config: { learning_rate: 1e-4 }, history },
      { id: 'run-b', createdAt: 1, config: { learning_rate: 1e-3 }, history: [] },
    ] }]);
  });
});
