// Runs in IndexedDB (fake-indexeddb): recovery checkpoints sit beside the save_steps ones without changing them —
// the newest two save_steps checkpoints stay, at most one recovery checkpoint, replaced by any newer checkpoint —
// and the run record says whether its last checkpoint is a recovery one.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { RunStore } from '../../src/worker/checkpoint_idb.ts';

const files = (step: number) => [{ name: 'trainer_state.json', data: new TextEncoder().encode(JSON.stringify({ global_step: step, log_history: [{ step, loss: 1 / step }] })) }];

describe('RunStore checkpoints', () => {
  it('keeps two save_steps checkpoints and one newer recovery checkpoint', async () => {
    const runs = await RunStore.open('run-store-test');
    await runs.putRun({ id: 'r', createdAt: 1, config: {}, model: { kind: 'demo' }, dataset: { kind: 'demo' }, lastCheckpoint: null, maxSteps: 10, state: 'running' });
    const c = runs.checkpoints('r');
    await c.save('checkpoint-2', files(2));
    await c.save('recovery-3', files(3));
    await c.save('recovery-4', files(4));
    expect(await c.list()).toEqual(['checkpoint-2', 'recovery-4']);
    // the record keeps the checkpoint's log history: the charts load after a reload without the checkpoint
    expect(await runs.getRun('r')).toMatchObject({ lastCheckpoint: 4, lastCheckpointRecovery: true, logHistory: [{ step: 4, loss: 0.25 }] });
    await c.save('checkpoint-5', files(5));
    expect(await c.list()).toEqual(['checkpoint-2', 'checkpoint-5']);
    expect(await runs.getRun('r')).toMatchObject({ lastCheckpoint: 5, lastCheckpointRecovery: false });
    await c.save('recovery-6', files(6));
    await c.save('checkpoint-7', files(7));
    // the save_steps rotation is what it was without recovery checkpoints
    expect(await c.list()).toEqual(['checkpoint-5', 'checkpoint-7']);
    expect(JSON.parse(new TextDecoder().decode((await c.load('checkpoint-7'))!.get('trainer_state.json')))).toMatchObject({ global_step: 7 });
  });
});
