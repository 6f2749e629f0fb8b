// A NaN in the forward pass stops training with a message naming the step and the pass, and the optimizer leaves
// the weights untouched (the AdamW kernel skips a step whose gradient norm is not finite). With float16 activation
// storage, an activation beyond f16's range is stored as Inf: the same stop, with a message naming the storage.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { closeModelFiles, folderTokenizer, modelFolderFiles, tokenizePreferenceFile } from '../../src/cli/files.ts';
import { createSession, type ActivationDtypeChoice } from '../../src/train/session.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { readParam, writeParam } from '../../src/model/weights.ts';
import { NonFiniteError } from '../../src/train/trainer.ts';

/** A 2-step LoRA run on the fixture model whose frozen weight `name` gets `value` at `index` before training; returns
 *  the error the run ends with, after checking that no trainable weight moved. */
async function poisonedRun(name: string, index: number, value: number, activationDtype: ActivationDtypeChoice): Promise<Error | null> {
  const gpu = await getTestGpu();
  const { modelDir, datasetDir } = await testFixtures();
  const tok = await folderTokenizer(modelDir);
  const data = await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'test.jsonl'), tok, 48);
  const config = parseRewardConfig({
    learning_rate: 1e-2, max_steps: 2, logging_steps: 1, per_device_train_batch_size: 2, max_length: 48, save_strategy: 'no', eval_strategy: 'no',
    peft: { r: 2, lora_alpha: 4, target_modules: ['q_proj'] },
  });
  const files = await modelFolderFiles(modelDir);
  const session = await createSession({ gpu, files, config, train: data.pairs.slice(0, 4), activationDtype, onEvent: () => {} });
  await closeModelFiles(files);
  expect(session.plan.activation_dtype).toBe(activationDtype === 'float16' ? 'float16' : 'float32');
  const w = session.loaded.weights;
  const t = await readParam(gpu, w, name);
  t[index] = value;
  writeParam(gpu, w, name, t);
  const before = new Map<string, Float32Array>();
  for (const e of w.table.trainable) before.set(e.name, await readParam(gpu, w, e.name));
  const err = await session.trainer.run().then(() => null, (e: Error) => e);
  for (const e of w.table.trainable) expect(await readParam(gpu, w, e.name), e.name).toEqual(before.get(e.name));
  session.destroy();
  return err;
}

describe('non-finite loss', () => {
  it('stops at the step, names it, and leaves every trainable weight as it was', async () => {
    // one frozen norm weight NaN: every reward becomes NaN, so the loss and every gradient are NaN
    const err = await poisonedRun('model.norm.weight', 3, NaN, 'auto');
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err!.message).toMatch(/^step 1: loss is NaN; the optimizer skipped that step, so the weights are untouched\. The forward pass produced it/);
  });

  it('float16 activation storage: an activation beyond ±65504 stops the run with a message naming the storage', async () => {
    // One channel of layer 0's input norm scaled to 1e9: ln1 (stored f16) overflows to Inf, while the f32 forward
    // stays finite (the next norms rescale it); q_proj's LoRA A gradient reads ln1.
    const err = await poisonedRun('model.layers.0.input_layernorm.weight', 5, 1e9, 'float16');
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err!.message).toMatch(/^step 1: grad_norm is (NaN|Infinity).*The backward pass produced it\. This run stores its saved activations as float16.*--activation-dtype float32/);
  });
});
