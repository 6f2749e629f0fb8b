// The memory plan (src/model/plan.ts) and the allocation read one layout (activationLayout): every byte the model
// allocates when it is built (activations, gradients of activations, workspaces, inputs, LoRA's xa) is the plan's
// activations + workspace, in every checkpointing mode, for LoRA (fused and per-linear groups) and full fine-tuning.
import { beforeAll, describe, expect, it } from 'vitest';
import { getTestGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { buildParamTable, LINEAR_NAMES, type LinearName, type LoraSpec, type ModelDims } from '../../src/model/params.ts';
import { allocateWeights, destroyWeights } from '../../src/model/weights.ts';
import { Qwen3RewardModel } from '../../src/model/qwen3.ts';
import { memoryPlan } from '../../src/model/plan.ts';
import { KEPT_PER_LAYER, type CheckpointMode } from '../../src/model/activations.ts';
import { TINY_DIMS } from '../../src/bench/step_bench.ts';

let gpu: Gpu;
beforeAll(async () => {
  gpu = await getTestGpu();
});

const DIMS: ModelDims = { ...TINY_DIMS, C: 32, F: 48, H: 4, Hkv: 2, D: 16, L: 3, V: 256, padId: 250 };

/** Bytes of every createBuffer call while `f` runs. */
function allocatedBytes(f: () => void): number {
  const dev = gpu.device;
  const orig = dev.createBuffer;
  let n = 0;
  dev.createBuffer = (d: GPUBufferDescriptor) => {
    n += d.size;
    return orig.call(dev, d);
  };
  try {
    f();
  } finally {
    dev.createBuffer = orig;
  }
  return n;
}

describe('activation layout: the plan is the allocation', () => {
  const cases: { name: string; targets: LinearName[] | null; mode: CheckpointMode; pairs: number; T: number }[] = [
    { name: 'LoRA all linears, none', targets: [...LINEAR_NAMES], mode: 'none', pairs: 2, T: 48 },
    { name: 'LoRA all linears, selective', targets: [...LINEAR_NAMES], mode: 'selective', pairs: 2, T: 48 },
    { name: 'LoRA all linears, selective_mlp', targets: [...LINEAR_NAMES], mode: 'selective_mlp', pairs: 1, T: 32 },
    { name: 'LoRA all linears, full', targets: [...LINEAR_NAMES], mode: 'full', pairs: 3, T: 16 },
    { name: 'LoRA q,v (per-linear products), selective', targets: ['q_proj', 'v_proj'], mode: 'selective', pairs: 1, T: 32 },
    { name: 'full fine-tuning, none', targets: null, mode: 'none', pairs: 2, T: 32 },
    { name: 'full fine-tuning, full', targets: null, mode: 'full', pairs: 2, T: 32 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const lora: LoraSpec | null = c.targets ? { r: 4, alpha: 8, dropout: 0, targets: c.targets, useRslora: false } : null;
      const maxBlockBytes = gpu.device.limits.maxStorageBufferBindingSize;
      const w = allocateWeights(gpu, buildParamTable(DIMS, { lora, frozenDtype: 'bf16', maxBlockBytes }));
      let model!: Qwen3RewardModel;
      const bytes = allocatedBytes(() => {
        model = new Qwen3RewardModel(gpu, w, { maxB: 2 * c.pairs, maxT: c.T, gradientCheckpointing: false, checkpointing: c.mode, training: true });
      });
      const plan = memoryPlan({ dims: DIMS, lora, frozenDtype: 'bf16', microPairs: c.pairs, maxLength: c.T, gradientCheckpointing: false, checkpointing: c.mode, maxBlockBytes });
      expect(model.checkpointing).toBe(c.mode);
      expect(plan.checkpointing_mode).toBe(c.mode);
      expect(model.acts.bytes).toBe(bytes);
      expect(plan.activations + plan.workspace).toBe(bytes);
      // kept per layer ⇔ distinct buffers per layer
      for (const n of ['qkv', 'ln1', 'gu', 'h'] as const) {
        const distinct = new Set(model.acts.layers.map((x) => x[n])).size;
        expect(distinct, n).toBe(KEPT_PER_LAYER[c.mode].has(n) ? DIMS.L : 1);
      }
      model.destroy();
      destroyWeights(w);
    });
  }

  it('the modes order by memory: none > selective > selective_mlp > full', () => {
    const lora: LoraSpec = { r: 16, alpha: 32, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false };
    const at = (m: CheckpointMode) => memoryPlan({ dims: DIMS, lora, frozenDtype: 'bf16', microPairs: 4, maxLength: 64, gradientCheckpointing: false, checkpointing: m, maxBlockBytes: 2 ** 31 }).total;
    expect(at('none')).toBeGreaterThan(at('selective'));
    expect(at('selective')).toBeGreaterThan(at('selective_mlp'));
    expect(at('selective_mlp')).toBeGreaterThan(at('full'));
    // gradientCheckpointing alone still means full / none
    const b = (g: boolean) => memoryPlan({ dims: DIMS, lora, frozenDtype: 'bf16', microPairs: 4, maxLength: 64, gradientCheckpointing: g, maxBlockBytes: 2 ** 31 }).total;
    expect(b(true)).toBe(at('full'));
    expect(b(false)).toBe(at('none'));
  });
});
