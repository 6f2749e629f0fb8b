// Short versions of the soak scenarios on the engine in-process (flags.ts fault switches, checkpoints on disk through
// the CLI's FsCheckpointStore). One uninterrupted reference run of 2 steps (a checkpoint every step), then the same
// run through a chain of faults, each followed by a resume from the last checkpoint:
//   a full disk while saving checkpoint-2 (ENOSPC): the error gives the sizes and names checkpoint-1 as kept;
//   the device lost in the middle of step 2 (device.destroy() on its own device): DeviceLostError names step 2 and
//   checkpoint-1;
//   a NaN in a gradient of step 2: the run stops naming step 2 and the backward pass, checkpoint-1 is untouched;
//   then the last resume: checkpoint-2 (weights and AdamW moments) and the log history equal the reference's, bit for bit.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { closeModelFiles, folderTokenizer, modelFolderFiles, tokenizePreferenceFile } from '../../src/cli/files.ts';
import { FsCheckpointStore } from '../../src/cli/checkpoint-fs.ts';
import { createSession } from '../../src/train/session.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { DeviceLostError, NonFiniteError } from '../../src/train/trainer.ts';
import { setFaults } from '../../src/gpu/flags.ts';
import { requestNodeGpu } from '../../src/gpu/node.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import type { TokenizedPair } from '../../src/train/batches.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'rs-soak-train-'));
afterAll(() => {
  setFaults('');
  rmSync(dir, { recursive: true, force: true });
});

const config = parseRewardConfig({
  learning_rate: 5e-3, max_steps: 2, logging_steps: 1, save_steps: 1, per_device_train_batch_size: 2, max_length: 48, eval_strategy: 'no',
  peft: { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj'] },
});
const TENSORS = ['trainable.safetensors', 'optimizer_m.safetensors', 'optimizer_v.safetensors'];
const noTiming = (h: Record<string, number>[]) => h.map(({ tokens_per_second: _, ...rest }) => rest);

async function run(gpu: Gpu, train: TokenizedPair[], out: string, faults: string): Promise<{ error: Error | null; history: Record<string, number>[]; store: FsCheckpointStore }> {
  const { modelDir } = await testFixtures();
  const files = await modelFolderFiles(modelDir);
  const store = new FsCheckpointStore(path.join(out, 'checkpoints'));
  const session = await createSession({ gpu, files, config, train, checkpoints: store, onEvent: () => {} });
  await closeModelFiles(files);
  const names = await store.list();
  if (names.length) await session.trainer.resumeFrom(names.at(-1)!);
  setFaults(faults);
  const error = await session.trainer.run().then(() => null, (e: Error) => e);
  setFaults('');
  const history = session.trainer.state.log_history;
  session.destroy();
  return { error, history, store };
}

const bytes = (out: string, ckpt: string, f: string) => readFileSync(path.join(out, 'checkpoints', ckpt, f));

describe('faults during training (in-process)', () => {
  it('a full disk, a lost device and a NaN gradient each stop the run clearly; resumes end bit-identical to the uninterrupted run', async () => {
    const gpu = await getTestGpu();
    const { modelDir, datasetDir } = await testFixtures();
    const tok = await folderTokenizer(modelDir);
    const train = (await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'test.jsonl'), tok, 48)).pairs.slice(0, 4);
    const ref = path.join(dir, 'ref');
    const reference = await run(gpu, train, ref, '');
    expect(reference.error).toBeNull();
    expect(await reference.store.list()).toEqual(['checkpoint-1', 'checkpoint-2']);

    const out = path.join(dir, 'faults');
    // 1. the disk fills while checkpoint-2 is written
    const full = await run(gpu, train, out, 'enospc@checkpoint:2');
    expect(full.error?.message).toMatch(/^no space left while saving checkpoint-2: it needs [\d.]+ KB(, [\d.]+ [KMGT]?B are free)? on the disk holding .*\. checkpoint-2 was not written; the previous checkpoint checkpoint-1 is intact\./);
    expect(await full.store.list()).toEqual(['checkpoint-1']);
    for (const f of TENSORS) expect(bytes(out, 'checkpoint-1', f).equals(bytes(ref, 'checkpoint-1', f)), f).toBe(true);

    // 2. the device is lost in the middle of step 2 (its own device: the test GPU stays usable)
    const victim = await requestNodeGpu();
    const lost = await run(victim, train, out, 'device-lost@step:2');
    expect(lost.error).toBeInstanceOf(DeviceLostError);
    expect(lost.error!.message).toMatch(/^step 2: The GPU device was lost \(injected device\.destroy\(\) at training step 2\)\. .* the run continues from checkpoint-1\.$/);
    expect(await lost.store.list()).toEqual(['checkpoint-1']);

    // 3. a NaN lands in a gradient of step 2: skipped on the GPU, the run stops naming the step and the pass
    const nan = await run(gpu, train, out, 'nan-grad@step:2');
    expect(nan.error).toBeInstanceOf(NonFiniteError);
    expect(nan.error!.message).toMatch(/^step 2: grad_norm is NaN; the optimizer skipped that step, so the weights are untouched\. The backward pass produced it\./);
    expect(await nan.store.list()).toEqual(['checkpoint-1']);
    for (const f of TENSORS) expect(bytes(out, 'checkpoint-1', f).equals(bytes(ref, 'checkpoint-1', f)), f).toBe(true);

    // 4. the last resume ends where the uninterrupted run ended
    const done = await run(gpu, train, out, '');
    expect(done.error).toBeNull();
    for (const f of TENSORS) expect(bytes(out, 'checkpoint-2', f).equals(bytes(ref, 'checkpoint-2', f)), f).toBe(true);
    expect(noTiming(done.history)).toEqual(noTiming(reference.history));
  }, 600_000);
});
