// The loss weighting of micro-batches and gradient accumulation, as HF's Trainer weighs them: one batch of 4 pairs,
// the same batch split into 2 micro-batches of 2 (to fit memory), and 2 accumulated batches of 2 pairs (same data
// order) all give the same first-step loss and gradient norm (an independent check of gradScale = P/(P_batch·k)).
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { closeModelFiles, folderTokenizer, modelFolderFiles, tokenizePreferenceFile } from '../../src/cli/files.ts';
import { loadRewardModel } from '../../src/model/load.ts';
import { Trainer } from '../../src/train/trainer.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { loraSpecOf } from '../../src/train/session.ts';
import { destroyWeights } from '../../src/model/weights.ts';

async function firstStep(batch: number, accum: number, microPairs: number): Promise<Record<string, number>> {
  const gpu = await getTestGpu();
  const { modelDir, datasetDir } = await testFixtures();
  const tok = await folderTokenizer(modelDir);
  const data = await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'test.jsonl'), tok, 48);
  const config = parseRewardConfig({
    learning_rate: 1e-3, max_steps: 1, logging_steps: 1, per_device_train_batch_size: batch, gradient_accumulation_steps: accum,
    max_length: 48, seed: 5, save_strategy: 'no', eval_strategy: 'no', max_grad_norm: 0,
    peft: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'] },
  });
  const files = await modelFolderFiles(modelDir);
  const loaded = await loadRewardModel(gpu, files, { lora: loraSpecOf(config), training: true, maxB: 2 * microPairs, maxT: 48, gradientCheckpointing: false, seed: 9 });
  await closeModelFiles(files);
  // B starts at zero (PEFT), so the first gradient reaches only B and the score head: still a full check of the weighting
  const logs: Record<string, number>[] = [];
  const trainer = new Trainer({ gpu, model: loaded.model, weights: loaded.weights, train: data.pairs.slice(0, 16), config, microPairs, onEvent: (e) => e.type === 'log' && logs.push(e.metrics) });
  await trainer.run();
  trainer.destroy();
  loaded.model.destroy();
  destroyWeights(loaded.weights);
  return logs[0];
}

describe('micro-batches and gradient accumulation', () => {
  it('one batch of 4 = two micro-batches of 2 = two accumulated batches of 2', async () => {
    const whole = await firstStep(4, 1, 4);
    const split = await firstStep(4, 1, 2);
    const accumulated = await firstStep(2, 2, 2);
    expect(whole.grad_norm).toBeGreaterThan(0);
    // f32 sums in another order: agreement to ~1e-6 relative; a wrong weighting would be off by a factor of 2.
    for (const other of [split, accumulated]) {
      expect(other.loss).toBeCloseTo(whole.loss, 5);
      expect(Math.abs(other.grad_norm - whole.grad_norm) / whole.grad_norm).toBeLessThan(1e-5);
      expect(other.accuracy).toBe(whole.accuracy);
      expect(other.num_tokens).toBe(whole.num_tokens);
    }
  });
});
