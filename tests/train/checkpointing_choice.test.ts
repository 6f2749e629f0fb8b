// The planner's checkpointing choice (src/train/session.ts planRun): an explicit gradient_checkpointing is kept
// (true = full, false = none); unset, the least recompute that fits the whole micro-batch wins. Qwen3-0.6B
// (bench/configs) at max_length 1024, LoRA r=16 on every linear, 8 pairs per micro-batch: needs no GPU.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseQwen3Config, modelDims, withPadTokenId } from '../../src/model/config.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { planRun } from '../../src/train/session.ts';

const dims = modelDims(withPadTokenId(parseQwen3Config(JSON.parse(readFileSync('bench/configs/Qwen3-0.6B.config.json', 'utf8')))));
const GiB = 2 ** 30;
const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const run = (gc: boolean | null | undefined, budgetGiB: number, full = false) => {
  const json: Record<string, unknown> = { max_length: 1024, per_device_train_batch_size: 8, ...(full ? {} : { peft: { r: 16, lora_alpha: 32, target_modules: ALL } }) };
  if (gc !== undefined) json.gradient_checkpointing = gc;
  return planRun({ dims, config: parseRewardConfig(json), maxLength: 1024, budgetBytes: budgetGiB * GiB, maxBufferBytes: 2 ** 31, frozenDtype: 'bf16' });
};

describe('checkpointing choice', () => {
  it('unset: LoRA r=16, 8 pairs × 1024 fits 24 GiB without full checkpointing', () => {
    const r = run(undefined, 24);
    expect(r.microPairs).toBe(8);
    expect(r.checkpointing).not.toBe('full');
    expect(r.checkpointing).not.toBe('none');
    expect(r.plan.checkpointing_mode).toBe(r.checkpointing);
    expect(r.plan.total).toBeLessThanOrEqual(24 * GiB);
  });

  it('unset: none whenever it fits, then selective, then selective_mlp, then full', () => {
    expect(run(null, 48).checkpointing).toBe('none');
    expect(run(null, 32).checkpointing).toBe('selective');
    expect(run(null, 24).checkpointing).toBe('selective_mlp');
    const small = run(null, 12);
    expect(small.checkpointing).toBe('full');
    expect(small.microPairs).toBe(8);
    // nothing reaches 8 pairs: the largest micro-batch, with the least recompute reaching it
    const tiny = run(null, 3);
    expect(tiny.checkpointing).toBe('full');
    expect(tiny.microPairs).toBeGreaterThan(0);
    expect(tiny.microPairs).toBeLessThan(8);
  });

  it('an explicit value is the user\'s: true = full, false = none (a smaller micro-batch, never another mode)', () => {
    const on = run(true, 48);
    expect(on.checkpointing).toBe('full');
    expect(on.microPairs).toBe(8);
    const off = run(false, 24);
    expect(off.checkpointing).toBe('none');
    expect(off.microPairs).toBeLessThan(8);
    expect(() => run(false, 5)).toThrow(/turn on gradient_checkpointing/);
    expect(() => run(null, 1)).not.toThrow(/turn on gradient_checkpointing/);
  });
});
