// The planner's checkpointing and activation storage choice (src/train/session.ts planRun): an explicit
// gradient_checkpointing is kept (true = full, false = none); unset, the least recompute that fits the whole
// micro-batch wins, each mode with float32 storage before float16 (activation storage auto). Qwen3-0.6B
// (bench/configs) at max_length 1024, LoRA r=16 on every linear, 8 pairs per micro-batch: needs no GPU.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseQwen3Config, modelDims, withPadTokenId } from '../../src/model/config.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { planRun, type ActivationDtypeChoice } from '../../src/train/session.ts';

const dims = modelDims(withPadTokenId(parseQwen3Config(JSON.parse(readFileSync('bench/configs/Qwen3-0.6B.config.json', 'utf8')))));
const GiB = 2 ** 30;
const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
const run = (gc: boolean | null | undefined, budgetGiB: number, full = false, activationDtype?: ActivationDtypeChoice) => {
  const json: Record<string, unknown> = { max_length: 1024, per_device_train_batch_size: 8, ...(full ? {} : { peft: { r: 16, lora_alpha: 32, target_modules: ALL } }) };
  if (gc !== undefined) json.gradient_checkpointing = gc;
  return planRun({ dims, config: parseRewardConfig(json), maxLength: 1024, budgetBytes: budgetGiB * GiB, maxBufferBytes: 2 ** 31, frozenDtype: 'bf16', activationDtype });
};

describe('checkpointing choice', () => {
  it('unset: LoRA r=16, 8 pairs × 1024 fits 24 GiB without checkpointing (float16 activation storage)', () => {
    const r = run(undefined, 24);
    expect(r.microPairs).toBe(8);
    expect(r.checkpointing).toBe('none');
    expect(r.activationDtype).toBe('float16');
    expect(r.plan.checkpointing_mode).toBe('none');
    expect(r.plan.activation_dtype).toBe('float16');
    expect(r.plan.total).toBeLessThanOrEqual(24 * GiB);
  });

  it('unset: none whenever it fits (float32, then float16), then selective, selective_mlp, full', () => {
    const at = (budget: number, dtype?: ActivationDtypeChoice) => {
      const r = run(null, budget, false, dtype);
      return `${r.checkpointing}/${r.activationDtype}`;
    };
    expect(at(48)).toBe('none/float32');
    expect(at(32)).toBe('none/float16');
    expect(at(20)).toBe('selective/float16');
    expect(at(16)).toBe('selective_mlp/float16');
    // a fixed storage: only its candidates
    expect(at(32, 'float32')).toBe('selective/float32');
    expect(at(24, 'float32')).toBe('selective_mlp/float32');
    expect(at(48, 'float16')).toBe('none/float16');
    const small = run(null, 12, false, 'float32');
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
    const off = run(false, 24, false, 'float32');
    expect(off.checkpointing).toBe('none');
    expect(off.microPairs).toBeLessThan(8);
    expect(run(false, 24).activationDtype).toBe('float16'); // auto storage still applies to 'none'
    expect(run(true, 48, false, 'float16').activationDtype).toBe('float32'); // full keeps only the residual stream
    expect(() => run(false, 5, false, 'float32')).toThrow(/turn on gradient_checkpointing/);
    expect(() => run(false, 2)).toThrow(/turn on gradient_checkpointing/);
    expect(() => run(null, 1)).not.toThrow(/turn on gradient_checkpointing/);
  });
});
