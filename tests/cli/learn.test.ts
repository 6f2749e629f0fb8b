// The headless CLI, end to end, on the generated fixtures: train the tiny Qwen3 (LoRA) on the learnable synthetic
// preference set, then `eval` the exported adapter on the held-out split — accuracy must reach 0.9 (chance is 0.5).
// Also checks metrics.jsonl carries TRL's metric names, and that `eval` refuses a base checkpoint (no score head).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testFixtures } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/cli.ts';

const CONFIG = {
  learning_rate: 1e-2, max_steps: 14, logging_steps: 7, eval_steps: 14, per_device_train_batch_size: 4, warmup_steps: 0,
  max_length: 64, save_steps: 7, seed: 42, eval_strategy: "steps",
  peft: { r: 8, lora_alpha: 16, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
};

describe('CLI train → eval', () => {
  it('reaches eval accuracy ≥ 0.9 on the synthetic preference set', async () => {
    const { modelDir, datasetDir } = await testFixtures();
    const out = mkdtempSync(path.join(tmpdir(), 'rs-learn-'));
    const train = path.join(datasetDir, 'data', 'train-00000-of-00001.parquet');
    const test = path.join(datasetDir, 'jsonl', 'test.jsonl');
    const r = await runCli(['train', '--model', modelDir, '--train', train, '--eval', test, '--out', out, '--config', JSON.stringify(CONFIG)]);
    expect(r.stderr).toMatch(/\[train\] step 7\/14/);
    expect(existsSync(path.join(out, 'checkpoints', 'checkpoint-14', 'trainer_state.json'))).toBe(true);
    const metrics = readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const log = metrics.find((m) => m.type === 'log');
    for (const k of ['loss', 'accuracy', 'margin', 'min_reward', 'mean_reward', 'max_reward', 'num_tokens', 'grad_norm', 'learning_rate', 'epoch', 'step', 'tokens_per_second']) {
      expect(log, k).toHaveProperty(k);
    }
    const evalLog = metrics.find((m) => m.type === 'eval');
    expect(evalLog.eval_accuracy).toBeGreaterThanOrEqual(0.9);

    const base = await runCli(['eval', '--model', modelDir, '--data', test], { allowFail: true });
    expect(base.code).toBe(2);
    expect(base.stderr).toMatch(/lacks score\.weight.*not a trained reward model/);
    const evald = JSON.parse((await runCli(['eval', '--model', modelDir, '--adapter', path.join(out, 'adapter'), '--data', test])).stdout);
    expect(evald.num_pairs).toBe(64);
    expect(evald.num_filtered).toBe(0);
    expect(evald.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(evald.accuracy).toBeCloseTo(evalLog.eval_accuracy, 6);
  });
});
