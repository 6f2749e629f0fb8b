// A NaN in the forward pass stops training with a message naming the step and the pass, and the optimizer leaves
// the weights untouched (the AdamW kernel skips a step whose gradient norm is not finite).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { closeModelFiles, folderTokenizer, modelFolderFiles, tokenizePreferenceFile } from '../../src/cli/files.ts';
import { createSession } from '../../src/train/session.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { readParam, writeParam } from '../../src/model/weights.ts';
import { NonFiniteError } from '../../src/train/trainer.ts';

describe('non-finite loss', () => {
  it('stops at the step, names it, and leaves every trainable weight as it was', async () => {
    const gpu = await getTestGpu();
    const { modelDir, datasetDir } = await testFixtures();
    const tok = await folderTokenizer(modelDir);
    const data = await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'test.jsonl'), tok, 48);
    const config = parseRewardConfig({
      learning_rate: 1e-2, max_steps: 2, logging_steps: 1, per_device_train_batch_size: 2, max_length: 48, save_strategy: 'no', eval_strategy: 'no',
      peft: { r: 2, lora_alpha: 4, target_modules: ['q_proj'] },
    });
    const files = await modelFolderFiles(modelDir);
    const session = await createSession({ gpu, files, config, train: data.pairs.slice(0, 4), onEvent: () => {} });
    await closeModelFiles(files);
    const w = session.loaded.weights;
    // Poison one frozen norm weight: every reward becomes NaN, so the loss and every gradient are NaN.
    const normName = 'model.norm.weight';
    const norm = await readParam(gpu, w, normName);
    norm[3] = NaN;
    writeParam(gpu, w, normName, norm);
    const before = new Map<string, Float32Array>();
    for (const e of w.table.trainable) before.set(e.name, await readParam(gpu, w, e.name));

    const err = await session.trainer.run().then(() => null, (e: Error) => e);
    expect(err).toBeInstanceOf(NonFiniteError);
    expect(err!.message).toMatch(/^step 1: loss is NaN; the optimizer skipped that step, so the weights are untouched\. The forward pass produced it/);
    for (const e of w.table.trainable) expect(await readParam(gpu, w, e.name), e.name).toEqual(before.get(e.name));
    session.destroy();
  });
});
