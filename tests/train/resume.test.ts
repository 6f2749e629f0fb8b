// Determinism of training: N steps straight vs N/2 steps + checkpoint + resume in a new trainer + N/2 steps give
// identical metrics (bit for bit), with float32 and with float16 activation storage, and the checkpoint is written
// atomically (a failed save leaves the previous one).
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { closeModelFiles, folderTokenizer, modelFolderFiles, tokenizePreferenceFile } from '../../src/cli/files.ts';
import { FsCheckpointStore } from '../../src/cli/checkpoint-fs.ts';
import { createSession, type ActivationDtypeChoice } from '../../src/train/session.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { ResumeMismatchError, type TrainEvent } from '../../src/train/trainer.ts';
import { datasetFingerprint, resumeMismatches } from '../../src/train/checkpoint.ts';

const CONFIG = {
  learning_rate: 2e-3, max_steps: 4, logging_steps: 1, save_steps: 2, per_device_train_batch_size: 2, gradient_accumulation_steps: 2,
  warmup_steps: 1, max_length: 48, seed: 7, eval_strategy: 'no',
  peft: { r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
  disable_dropout: false, // exercise the seeded LoRA dropout masks across the resume
};

async function run(outDir: string, stopAfter: number | null, resume: boolean, activationDtype: ActivationDtypeChoice = 'auto'): Promise<Record<string, number>[]> {
  const gpu = await getTestGpu();
  const { modelDir, datasetDir } = await testFixtures();
  const tok = await folderTokenizer(modelDir);
  const data = await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'train.jsonl'), tok, 48);
  const logs: Record<string, number>[] = [];
  const store = new FsCheckpointStore(outDir);
  const holder: { session?: Awaited<ReturnType<typeof createSession>> } = {};
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'log') logs.push(e.metrics);
    if (e.type === 'checkpoint' && stopAfter !== null && e.step === stopAfter) holder.session!.trainer.stop();
  };
  const files = await modelFolderFiles(modelDir);
  const session = await createSession({ gpu, files, config: parseRewardConfig(CONFIG), train: data.pairs.slice(0, 24), checkpoints: store, activationDtype, onEvent });
  expect(session.plan.activation_dtype).toBe(activationDtype === 'float16' ? 'float16' : 'float32');
  holder.session = session;
  await closeModelFiles(files);
  if (resume) await session.trainer.resumeFrom((await store.list()).at(-1)!);
  await session.trainer.run();
  session.destroy();
  return logs.map(({ tokens_per_second: _t, ...rest }) => rest);
}

describe('checkpoint and resume', () => {
  for (const dtype of ['auto', 'float16'] as const) {
  it(`N steps straight equal N/2 + resume + N/2, bit for bit${dtype === 'float16' ? ' (float16 activation storage)' : ''}`, async () => {
    const straight = await run(mkdtempSync(path.join(tmpdir(), 'rs-straight-')), null, false, dtype);
    const dir = mkdtempSync(path.join(tmpdir(), 'rs-resume-'));
    const first = await run(dir, 2, false, dtype);
    const second = await run(dir, null, true, dtype);
    expect(straight.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(first.map((m) => m.step)).toEqual([1, 2]);
    expect(second.map((m) => m.step)).toEqual([3, 4]);
    expect([...first, ...second]).toEqual(straight);
    // the run learned something (the loss moved), so equality is not between two no-ops
    expect(straight[3].loss).not.toBe(straight[0].loss);
  });
  }

  it('a save that fails mid-way leaves the previous checkpoint intact', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rs-atomic-'));
    const store = new FsCheckpointStore(dir);
    await store.save('checkpoint-1', [{ name: 'a.bin', data: new Uint8Array([1, 2, 3]) }]);
    const bad = { name: 'b.bin', get data(): Uint8Array { throw new Error('disk full (simulated)'); } };
    await expect(store.save('checkpoint-1', [{ name: 'a.bin', data: new Uint8Array([9]) }, bad as never])).rejects.toThrow(/simulated/);
    expect([...(await store.load('checkpoint-1'))!.get('a.bin')!]).toEqual([1, 2, 3]);
    expect(await store.list()).toEqual(['checkpoint-1']);
  });

  it('refuses a resume whose config or data differ, naming the fields; an explicit override continues', async () => {
    const gpu = await getTestGpu();
    const { modelDir, datasetDir } = await testFixtures();
    const tok = await folderTokenizer(modelDir);
    const data = await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'train.jsonl'), tok, 48);
    const dir = mkdtempSync(path.join(tmpdir(), 'rs-mismatch-'));
    const store = new FsCheckpointStore(dir);
    const open = async (config: Record<string, unknown>, pairs = data.pairs.slice(0, 8), onEvent: (e: TrainEvent) => void = () => {}) => {
      const files = await modelFolderFiles(modelDir);
      const s = await createSession({ gpu, files, config: parseRewardConfig(config), train: pairs, checkpoints: store, onEvent });
      await closeModelFiles(files);
      return s;
    };
    const base = { ...CONFIG, max_steps: 2, save_steps: 1 };
    const first = await open(base);
    await first.trainer.run();
    first.destroy();
    const last = (await store.list()).at(-1)!;

    const changed = await open({ ...base, learning_rate: 1e-3 });
    const err = await changed.trainer.resumeFrom(last).then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(ResumeMismatchError);
    expect((err as ResumeMismatchError).fields).toEqual(['learning_rate']);
    expect(err!.message).toMatch(/learning_rate: checkpoint 0\.002, now 0\.001/);
    expect(err!.message).toMatch(/--override-resume-check/);
    expect(changed.trainer.state.global_step).toBe(0); // nothing restored
    changed.destroy();

    const otherData = await open(base, data.pairs.slice(1, 9));
    await expect(otherData.trainer.resumeFrom(last)).rejects.toThrow(/training data: checkpoint 8 pairs:[0-9a-f]{16}, now 8 pairs:/);
    otherData.destroy();

    // logging/eval/save cadence may change freely
    const cadence = await open({ ...base, logging_steps: 2, save_steps: 5 });
    await cadence.trainer.resumeFrom(last);
    expect(cadence.trainer.state.global_step).toBe(2);
    cadence.destroy();

    const warnings: string[] = [];
    const forced = await open({ ...base, learning_rate: 1e-3, max_steps: 3 }, undefined, (e) => e.type === 'warning' && warnings.push(e.message));
    await forced.trainer.resumeFrom(last, { allowConfigChange: true });
    expect(warnings.join('\n')).toMatch(/learning_rate: checkpoint 0.002, now 0.001/);
    expect(warnings.join('\n')).toMatch(/max_steps: checkpoint 2, now 3/);
    expect(forced.trainer.state.global_step).toBe(2);
    await forced.trainer.run();
    expect(forced.trainer.state.global_step).toBe(3);
    forced.destroy();
  });

  it('resumeMismatches: every math field counts, the fingerprint follows the data', () => {
    const saved = { config: parseRewardConfig(CONFIG), dataset: 'x' } as never;
    expect(resumeMismatches(saved, parseRewardConfig(CONFIG), 'x')).toEqual([]);
    const peft = resumeMismatches(saved, parseRewardConfig({ ...CONFIG, peft: { ...CONFIG.peft, lora_alpha: 16 } }), 'x');
    expect(peft.map((d) => d.field)).toEqual(['peft']);
    const many = resumeMismatches(saved, parseRewardConfig({ ...CONFIG, per_device_train_batch_size: 4, lr_scheduler_type: 'cosine', seed: 8 }), 'y');
    expect(many.map((d) => d.field).sort()).toEqual(['lr_scheduler_type', 'per_device_train_batch_size', 'seed', 'training data']);
    const a = [{ chosen_ids: [1, 2], rejected_ids: [3] }];
    expect(datasetFingerprint(a)).toBe(datasetFingerprint([{ chosen_ids: [1, 2], rejected_ids: [3] }]));
    expect(datasetFingerprint(a)).not.toBe(datasetFingerprint([{ chosen_ids: [1, 2], rejected_ids: [4] }]));
    expect(datasetFingerprint(a)).not.toBe(datasetFingerprint([{ chosen_ids: [1, 2], rejected_ids: [3], margin: 0.5 }]));
    expect(datasetFingerprint(a)).not.toBe(datasetFingerprint([{ chosen_ids: [1], rejected_ids: [2, 3] }]));
  });
});
