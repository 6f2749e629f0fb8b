// Structure of the training step (issue 9's acceptance, measured by `npm run bench -- --tiny --json` on SwiftShader;
// the same tiny LoRA configuration; the split case on a smaller micro-batch): LoRA with gradient checkpointing ≤ 40 dispatches per layer per
// micro-step, rows processed ≤ 1.05 × real tokens on a batch of unequal lengths, 0 GPU objects created per step
// after the first, and a micro-step split into more than one submission when asked. Nothing here asserts on time.
import { describe, expect, it } from 'vitest';
import { benchStep, TINY_DIMS } from '../../src/bench/step_bench.ts';
import { getTestGpu } from '../helpers/gpu.ts';

describe('training step structure (bench)', () => {
  it('LoRA + checkpointing: dispatches, padding-free rows, no allocations, one submission', async () => {
    const gpu = await getTestGpu();
    const r = await benchStep(gpu, TINY_DIMS, { mode: 'lora', gradientCheckpointing: true, pairs: 2, maxLength: 64, budgetMs: Infinity }, 1);
    expect(r.dispatches_per_layer).toBeLessThanOrEqual(40);
    expect(r.rows_processed).toBeLessThanOrEqual(1.05 * r.real_tokens);
    expect(r.rows_processed).toBeGreaterThanOrEqual(r.real_tokens);
    expect(r.allocations_per_step).toBe(0);
    expect(r.submissions_per_micro_step).toBe(1);
    expect(r.timing).toBe(gpu.hasTimestamps ? 'gpu-timestamps' : 'wall-clock');
    expect(r.ms).toBeGreaterThan(0);
    // Issue 10: attention forward 1 + recompute 1 + backward 3 dispatches; model-counted backward ≤ 2.6× forward.
    expect(r.attention_dispatches_per_layer).toBe(5);
    expect(r.attention_flops_bwd_per_token / r.attention_flops_fwd_per_token).toBeLessThanOrEqual(2.6);
  });

  it('LoRA + float16 activation storage: pack and unpack within the dispatch budget, no allocations', async () => {
    const gpu = await getTestGpu();
    const r = await benchStep(gpu, TINY_DIMS, { mode: 'lora', gradientCheckpointing: false, activationDtype: 'float16', pairs: 1, maxLength: 32, budgetMs: Infinity }, 1);
    expect(r.activation_dtype).toBe('float16');
    expect(r.checkpointing_mode).toBe('none');
    expect(r.dispatches_per_layer).toBeLessThanOrEqual(36); // LoRA's 30 + 2 packs + 2 unpacks (4 tensors a dispatch)
    expect(r.allocations_per_step).toBe(0);
  });

  it('a micro-step split into one submission per layer when asked', async () => {
    const gpu = await getTestGpu();
    const r = await benchStep(gpu, TINY_DIMS, { mode: 'lora', gradientCheckpointing: true, pairs: 1, maxLength: 16, layersPerSubmission: 1 }, 1);
    expect(r.submissions_per_micro_step).toBeGreaterThan(1);
    expect(r.allocations_per_step).toBe(0);
  });
});
