// The last layer's work only where it matters (src/model/qwen3.ts): the last decoder layer's attention runs for the B
// pooled rows' queries only (against the full K/V), and o_proj, the MLP, the final norm and the head on those B rows;
// the backward scatters their gradients back. Against the
// reference path (fullLastLayer: every row), at awkward shapes — GQA 3:1, C ≠ H·D, sequences of 1, 15 and 17 tokens
// packed with others, pad ids inside sequences (the pooled row is not a sequence's last row), a pad-only tail —
// rewards, loss and the gradient of every trainable tensor (LoRA A/B and the head; full fine-tuning: every weight,
// norm and the embedding) agree to f32 rounding (1e-5 of the tensor's largest element: the pooled attention sums and
// exponentiates in another order than the tiled one — observed ≤ 1.1e-6 on SwiftShader; the rest of the layer ≤ 1.2e-7;
// a wrong row, mask or scatter gives errors of order 0.1–1), in every
// checkpointing mode; scoring (the forward-only plan) likewise.
import { describe, expect, it } from 'vitest';
import { getTestGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/check.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { readF32 } from '../../src/gpu/buffers.ts';
import { buildParamTable, LINEAR_NAMES, type LoraSpec, type ModelDims } from '../../src/model/params.ts';
import { allocateWeights, destroyWeights, readParam, writeParam, type ModelWeights } from '../../src/model/weights.ts';
import { Qwen3RewardModel } from '../../src/model/qwen3.ts';
import type { CheckpointMode } from '../../src/model/activations.ts';
import { scoreSequences } from '../../src/train/trainer.ts';
import { Rng, randomArray } from '../../src/util/random.ts';

const PAD = 60;
const DIMS: ModelDims = { C: 40, F: 56, L: 2, H: 6, Hkv: 2, D: 16, V: 64, eps: 1e-6, theta: 1e4, padId: PAD, initializerRange: 0.02 };
const T = 17;
// (2 pairs) lengths 1, 15, 17, 9; sequence 1 ends in two pad ids and has one inside; sequence 3 is 5 tokens + 4 pads.
const LENGTHS = [1, 15, 17, 9];
function batch(): { ids: Uint32Array; lengths: Uint32Array; seqs: Uint32Array[] } {
  const rng = new Rng(3);
  const ids = new Uint32Array(LENGTHS.length * T).fill(PAD);
  const seqs = LENGTHS.map((n, b) => {
    const s = Uint32Array.from({ length: n }, () => rng.int(PAD));
    if (b === 1) s[4] = s[13] = s[14] = PAD;
    if (b === 3) s.fill(PAD, 5);
    ids.set(s, b * T);
    return s;
  });
  return { ids, lengths: Uint32Array.from(LENGTHS), seqs };
}

interface Case { mode: 'lora' | 'full'; ckpt: CheckpointMode; dropout?: number }

function build(gpu: Gpu, c: Case, fullLastLayer: boolean): { w: ModelWeights; model: Qwen3RewardModel } {
  const lora: LoraSpec | null = c.mode === 'lora' ? { r: 4, alpha: 8, dropout: c.dropout ?? 0, targets: [...LINEAR_NAMES], useRslora: false } : null;
  const table = buildParamTable(DIMS, { lora, frozenDtype: 'f32', maxBlockBytes: gpu.device.limits.maxStorageBufferBindingSize });
  const w = allocateWeights(gpu, table);
  const rng = new Rng(11);
  for (const e of [...table.frozen, ...table.trainable]) {
    const scale = e.kind === 'norm' ? 0.3 : 0.25;
    const data = Float32Array.from(randomArray(rng, e.numel, -scale, scale), (v) => (e.kind === 'norm' ? 1 + v : v));
    writeParam(gpu, w, e.name, data);
  }
  const model = new Qwen3RewardModel(gpu, w, { maxB: LENGTHS.length, maxT: T, gradientCheckpointing: false, checkpointing: c.ckpt, training: true, fullLastLayer });
  return { w, model };
}

async function step(gpu: Gpu, c: Case, fullLastLayer: boolean) {
  const { w, model } = build(gpu, c, fullLastLayer);
  const { ids, lengths } = batch();
  model.writeInputs(ids, lengths, Float32Array.from([0.5, -0.25]), 777);
  const plan = model.plan(LENGTHS.length, T);
  await runKernels(gpu, [...model.forwardKernels(plan), model.lossKernel(plan, 2, true, 1, 0.01), ...model.backwardKernels(plan)]);
  const out = new Map<string, Float32Array>();
  out.set('rewards', await readF32(gpu, model.acts.rewards, LENGTHS.length));
  out.set('loss', (await readF32(gpu, model.acts.metrics, 8)).subarray(0, 1));
  for (const e of w.table.trainable) out.set(`d${e.name}`, await readParam(gpu, w, e.name, 'grads'));
  const labels = new Set(model.forwardKernels(plan).map((k) => k.label));
  model.destroy();
  destroyWeights(w);
  return { out, compact: labels.has('attention_pooled_forward') };
}

async function compare(c: Case) {
  const gpu = await getTestGpu();
  const ref = await step(gpu, c, true);
  const got = await step(gpu, c, false);
  expect(ref.compact, 'reference path').toBe(false);
  expect(got.compact, 'optimized path').toBe(true);
  for (const [name, r] of ref.out) {
    let max = 0;
    for (const v of r) max = Math.max(max, Math.abs(v));
    expect(max, `${name} is not all zero`).toBeGreaterThan(0);
    expectClose(name, got.out.get(name)!, r, { atol: 1e-5 * max, rtol: 0 });
  }
}

describe('last layer on the pooled rows only', () => {
  it('LoRA (every linear), no checkpointing', async () => compare({ mode: 'lora', ckpt: 'none' }));
  it('LoRA, selective and selective_mlp checkpointing', async () => {
    await compare({ mode: 'lora', ckpt: 'selective' });
    await compare({ mode: 'lora', ckpt: 'selective_mlp' });
  });
  it('LoRA with dropout (masks of the packed rows)', async () => compare({ mode: 'lora', ckpt: 'none', dropout: 0.3 }));
  it('full fine-tuning, none and full checkpointing (every weight, norm, embedding)', async () => {
    await compare({ mode: 'full', ckpt: 'none' });
    await compare({ mode: 'full', ckpt: 'full' });
  });
  it('scoring (forward-only plan) gives the same rewards', async () => {
    const gpu = await getTestGpu();
    const { seqs } = batch();
    const score = async (fullLastLayer: boolean) => {
      const { w, model } = build(gpu, { mode: 'lora', ckpt: 'none' }, fullLastLayer);
      const r = await scoreSequences(gpu, model, seqs);
      model.destroy();
      destroyWeights(w);
      return [...r];
    };
    const ref = await score(true);
    const max = Math.max(...ref.map(Math.abs));
    expectClose('scores', await score(false), ref, { atol: 1e-5 * max, rtol: 0 });
  });
});
