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
import { KEPT_PER_LAYER, type ActivationDtype, type CheckpointMode } from '../../src/model/activations.ts';
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
  const cases: { name: string; targets: LinearName[] | null; mode: CheckpointMode; pairs: number; T: number; dtype?: ActivationDtype }[] = [
    { name: 'LoRA all linears, none', targets: [...LINEAR_NAMES], mode: 'none', pairs: 2, T: 48 },
    { name: 'LoRA all linears, selective', targets: [...LINEAR_NAMES], mode: 'selective', pairs: 2, T: 48 },
    { name: 'LoRA all linears, selective_mlp', targets: [...LINEAR_NAMES], mode: 'selective_mlp', pairs: 1, T: 32 },
    { name: 'LoRA all linears, full', targets: [...LINEAR_NAMES], mode: 'full', pairs: 3, T: 16 },
    { name: 'LoRA q,v (per-linear products), selective', targets: ['q_proj', 'v_proj'], mode: 'selective', pairs: 1, T: 32 },
    { name: 'full fine-tuning, none', targets: null, mode: 'none', pairs: 2, T: 32 },
    { name: 'full fine-tuning, full', targets: null, mode: 'full', pairs: 2, T: 32 },
    { name: 'LoRA all linears, none, float16 storage', targets: [...LINEAR_NAMES], mode: 'none', pairs: 2, T: 48, dtype: 'float16' },
    { name: 'LoRA q,v, selective, float16 storage', targets: ['q_proj', 'v_proj'], mode: 'selective', pairs: 1, T: 32, dtype: 'float16' },
    { name: 'full fine-tuning, selective_mlp, float16 storage', targets: null, mode: 'selective_mlp', pairs: 2, T: 32, dtype: 'float16' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const lora: LoraSpec | null = c.targets ? { r: 4, alpha: 8, dropout: 0, targets: c.targets, useRslora: false } : null;
      const maxBlockBytes = gpu.device.limits.maxStorageBufferBindingSize;
      const w = allocateWeights(gpu, buildParamTable(DIMS, { lora, frozenDtype: 'bf16', maxBlockBytes }));
      let model!: Qwen3RewardModel;
      const bytes = allocatedBytes(() => {
        model = new Qwen3RewardModel(gpu, w, { maxB: 2 * c.pairs, maxT: c.T, gradientCheckpointing: false, checkpointing: c.mode, activationDtype: c.dtype, training: true });
      });
      const plan = memoryPlan({ dims: DIMS, lora, frozenDtype: 'bf16', microPairs: c.pairs, maxLength: c.T, gradientCheckpointing: false, checkpointing: c.mode, activationDtype: c.dtype, maxBlockBytes });
      expect(model.activationDtype).toBe(c.dtype ?? 'float32');
      expect(plan.activation_dtype).toBe(c.dtype ?? 'float32');
      expect(model.checkpointing).toBe(c.mode);
      expect(plan.checkpointing_mode).toBe(c.mode);
      expect(model.acts.bytes).toBe(bytes);
      expect(plan.activations + plan.workspace).toBe(bytes);
      // kept per layer ⇔ distinct buffers per layer
      // (float16 storage: the kept f16 ones live in one packed buffer per layer, their f32 buffer is shared)
      const in16 = new Set(model.acts.act16?.blocks.map((b) => b.name as string) ?? []);
      for (const n of ['qkv', 'ln1', 'gu', 'h', 'x2'] as const) {
        const distinct = new Set(model.acts.layers.map((x) => x[n])).size;
        expect(distinct, n).toBe(KEPT_PER_LAYER[c.mode].has(n) && !in16.has(n) ? DIMS.L : 1);
      }
      if (c.dtype === 'float16') {
        expect([...in16].sort()).toEqual(['ln1', 'qkv', 'qr', 'kr', 'att', 'ln2', 'gu'].filter((n) => KEPT_PER_LAYER[c.mode].has(n as never)).sort());
        expect(new Set(model.acts.act16!.layer).size).toBe(DIMS.L - 1); // the last layer keeps the shared set
      } else expect(model.acts.act16).toBeNull();
      model.destroy();
      destroyWeights(w);
    });
  }

  it('float16 storage halves what it stores: none and selective take less memory, full is unchanged', () => {
    const lora: LoraSpec = { r: 16, alpha: 32, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false };
    const at = (m: CheckpointMode, d: ActivationDtype) => memoryPlan({ dims: DIMS, lora, frozenDtype: 'bf16', microPairs: 4, maxLength: 64, gradientCheckpointing: false, checkpointing: m, activationDtype: d, maxBlockBytes: 2 ** 31 });
    for (const m of ['none', 'selective', 'selective_mlp'] as const) expect(at(m, 'float16').activations, m).toBeLessThan(at(m, 'float32').activations);
    expect(at('full', 'float16').total).toBe(at('full', 'float32').total);
    expect(at('full', 'float16').activation_dtype).toBe('float32');
  });

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
