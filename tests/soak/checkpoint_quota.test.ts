// Storage quota exceeded while the studio saves a checkpoint (IndexedDB QuotaExceededError, injected with
// flags.ts `quota@checkpoint:N` inside the transaction): the save fails with the checkpoint's size and what was kept,
// the previous checkpoint and the run's lastCheckpoint stay as they were, and nothing half-saved is listed.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { RunStore } from '../../src/worker/checkpoint_idb.ts';
import { setFaults } from '../../src/gpu/flags.ts';

afterEach(() => setFaults(''));

const files = (step: number) => [
  { name: 'trainer_state.json', data: new TextEncoder().encode(JSON.stringify({ global_step: step })) },
  { name: 'trainable.safetensors', data: new Uint8Array(300_000).fill(step) },
];

describe('checkpoint save with a full browser store', () => {
  it('fails with the sizes, keeps the previous checkpoint and the run record as they were', async () => {
    const runs = await RunStore.open('quota-test-1');
    await runs.putRun({ id: 'r1', createdAt: 1, config: {}, model: { kind: 'demo' }, dataset: { kind: 'demo' }, lastCheckpoint: null, maxSteps: 4, state: 'running' });
    const store = runs.checkpoints('r1');
    setFaults('quota@checkpoint:2');
    await store.save('checkpoint-1', files(1));
    const err = await store.save('checkpoint-2', files(2)).then(() => null, (e: Error) => e);
    expect(err?.message).toMatch(/^The browser's storage is full: checkpoint-2 \(300\.\d+ KB\) could not be saved, .*\. The previous checkpoint checkpoint-1 is kept and the run can resume from it\.$/);
    expect((err as Error & { fix?: string }).fix).toMatch(/^Delete stored files or runs/);
    expect(await store.list()).toEqual(['checkpoint-1']);
    expect((await store.load('checkpoint-1'))!.get('trainable.safetensors')![0]).toBe(1);
    expect(await store.load('checkpoint-2')).toBeNull();
    expect((await runs.getRun('r1'))!.lastCheckpoint).toBe(1);
    // the next save (room again) works
    await store.save('checkpoint-3', files(3));
    expect(await store.list()).toEqual(['checkpoint-1', 'checkpoint-3']);
    expect((await runs.getRun('r1'))!.lastCheckpoint).toBe(3);
  });
});
