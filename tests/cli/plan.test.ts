// `npm run cli -- plan` from a config.json alone (Qwen3-0.6B's), checked against counts derived by hand:
// 596,050,944 parameters; LoRA r=16 on all seven linears = 28 × 16 × Σ(in+out) + score 1024 = 10,093,568 trainable;
// frozen bf16 weights = (all − norms − score) × 2 bytes + norms × 4 bytes.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';

const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];

describe('cli plan', () => {
  it('breaks down Qwen3-0.6B LoRA r=16 at max_length 1024 from config.json alone', async () => {
    const cfg = JSON.stringify({ max_length: 1024, peft: { r: 16, lora_alpha: 32, target_modules: ALL } });
    const r = await runCli(['plan', '--model', 'bench/configs/Qwen3-0.6B.config.json', '--config', cfg, '--micro-batch', '4', '--json']);
    const p = JSON.parse(r.stdout);
    const perLayer = 16 * ((1024 + 2048) + 2 * (1024 + 1024) + (2048 + 1024) + 3 * (1024 + 3072));
    expect(p.params_total).toBe(596_050_944);
    expect(p.params_trainable).toBe(28 * perLayer + 1024);
    const norms = 28 * (2 * 1024 + 2 * 128) + 1024;
    expect(p.weights_frozen).toBe((596_050_944 - norms - 1024) * 2 + norms * 4);
    expect(p.optimizer).toBe(2 * p.gradients);
    expect(p.total).toBe(p.weights_frozen + p.weights_trainable + p.gradients + p.optimizer + p.activations + p.workspace);
    expect(p.micro_batch_pairs).toBe(4);
    expect(p.mode).toBe('lora');
  });

  it('full fine-tuning: every parameter trains in f32, with AdamW state', async () => {
    const r = await runCli(['plan', '--model', 'bench/configs/Qwen3-0.6B.config.json', '--micro-batch', '1', '--json']);
    const p = JSON.parse(r.stdout);
    expect(p.params_trainable).toBe(596_050_944);
    expect(p.weights_frozen).toBe(0);
    expect(p.weights_trainable).toBeGreaterThanOrEqual(596_050_944 * 4);
    expect(p.weights_trainable).toBeLessThan(596_050_944 * 4 + 400 * 256); // 256-byte alignment per tensor at most
  });

  it('activation storage: float16 halves the kept activations (derived by hand); auto fits 8 pairs × 1024 in 24 GiB without checkpointing', async () => {
    const cfg = JSON.stringify({ max_length: 1024, peft: { r: 16, lora_alpha: 32, target_modules: ALL } });
    const at = async (...extra: string[]) => JSON.parse((await runCli(['plan', '--model', 'bench/configs/Qwen3-0.6B.config.json', '--config', cfg, '--json', ...extra])).stdout);
    const f32 = await at('--micro-batch', '8', '--gpu-memory', '64', '--activation-dtype', 'float32');
    const f16 = await at('--micro-batch', '8', '--gpu-memory', '64', '--activation-dtype', 'float16');
    expect([f32.checkpointing_mode, f32.activation_dtype, f16.checkpointing_mode, f16.activation_dtype]).toEqual(['none', 'float32', 'none', 'float16']);
    // M = 16 sequences × 1024 rows. Per layer and row, float32 keeps ln1 1024 + qkv 4096 + v 1024 + qr 2048 + kr 1024 +
    // att 2048 + ln2 1024 + gu 6144 = 18432 floats; float16 keeps them (v restored from qkv: 17408 values) as 2-byte
    // halves for 27 layers (the last one's stay in the shared set), plus one shared f32 set of the 18432.
    const M = 16 * 1024;
    expect(f32.activations - f16.activations).toBe(M * (28 * 18432 * 4 - 27 * 17408 * 2 - 18432 * 4));
    const auto = await at('--gpu-memory', '24');
    expect([auto.micro_batch_pairs, auto.checkpointing_mode, auto.activation_dtype]).toEqual([8, 'none', 'float16']);
    expect(auto.total).toBeLessThanOrEqual(24 * 2 ** 30);
    const bad = await runCli(['plan', '--model', 'bench/configs/Qwen3-0.6B.config.json', '--activation-dtype', 'bf16'], { allowFail: true });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--activation-dtype bf16: expected one of auto, float32, float16/);
  });

  it('a wrong config value is rejected with the field and the allowed range', async () => {
    const r = await runCli(['plan', '--model', 'bench/configs/Qwen3-0.6B.config.json', '--config', '{"learning_rate": -1, "per_device_train_batch_sise": 8}'], { allowFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/learning_rate/);
    expect(r.stderr).toMatch(/per_device_train_batch_sise.*per_device_train_batch_size/s);
  });
});
