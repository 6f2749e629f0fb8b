// The whole model against the PyTorch reference state (tools/make_parity_fixture.py, committed fixture): rewards,
// loss, the gradient of every trainable tensor (full fine-tuning and LoRA), and the losses of 10 AdamW steps with a
// warmup schedule — tensor by tensor, with the tolerance of each and its reason.
import { beforeAll, describe, expect, it } from 'vitest';
import { getTestGpu } from '../helpers/gpu.ts';
import { expectClose } from '../helpers/check.ts';
import { loadParityFixture, fullEmbedding, type ParityFixture } from '../fixtures/parity/load.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { readF32 } from '../../src/gpu/buffers.ts';
import { parseQwen3Config, modelDims } from '../../src/model/config.ts';
import { buildParamTable, LINEAR_NAMES, type LoraSpec, type ModelDims } from '../../src/model/params.ts';
import { allocateWeights, readParam, writeParam, type ModelWeights } from '../../src/model/weights.ts';
import { Qwen3RewardModel } from '../../src/model/qwen3.ts';
import { Optimizer } from '../../src/train/optimizer.ts';
import type { ActivationDtype, CheckpointMode } from '../../src/model/activations.ts';

const PEFT_PREFIX = 'base_model.model.';

let gpu: Gpu;
let fx: ParityFixture;
let dims: ModelDims;

beforeAll(async () => {
  gpu = await getTestGpu();
  fx = await loadParityFixture();
  dims = modelDims(parseQwen3Config(fx.meta.config));
});

function lora(): LoraSpec {
  const l = fx.meta.lora;
  return { r: l.r, alpha: l.lora_alpha, dropout: 0, targets: [...LINEAR_NAMES].filter((n) => l.target_modules.includes(n)), useRslora: l.use_rslora };
}

/** Builds the model with the fixture's weights; LoRA B random (gradient check) or zeros (training run). */
function build(mode: 'full' | 'lora', opts: { gradientCheckpointing?: boolean; checkpointing?: CheckpointMode; activationDtype?: ActivationDtype; loraB?: 'random' | 'zeros' } = {}): { w: ModelWeights; model: Qwen3RewardModel } {
  const table = buildParamTable(dims, { lora: mode === 'lora' ? lora() : null, frozenDtype: 'f32', maxBlockBytes: gpu.device.limits.maxStorageBufferBindingSize });
  const w = allocateWeights(gpu, table);
  for (const e of [...table.frozen, ...table.trainable]) {
    let data: Float32Array;
    if (e.kind === 'embed') data = fullEmbedding(fx, fx.model.f32('model.embed_tokens.weight.rows'));
    else if (e.kind === 'lora_A') data = fx.loraInit.f32(PEFT_PREFIX + e.name);
    else if (e.kind === 'lora_B') data = opts.loraB === 'zeros' ? new Float32Array(e.numel) : fx.loraInit.f32(PEFT_PREFIX + e.name);
    else data = fx.model.f32(e.name);
    writeParam(gpu, w, e.name, data);
  }
  const { B, T } = fx.meta.dims;
  const model = new Qwen3RewardModel(gpu, w, { maxB: B, maxT: T, gradientCheckpointing: opts.gradientCheckpointing ?? false, checkpointing: opts.checkpointing, activationDtype: opts.activationDtype, training: true });
  expect(model.activationDtype).toBe(opts.activationDtype ?? 'float32');
  const ids = Uint32Array.from(fx.inputs.i32('input_ids'));
  model.writeInputs(ids, Uint32Array.from(fx.inputs.i32('lengths')), fx.inputs.f32('margin'));
  return { w, model };
}

// Main loss variant: margin_center = -mean(logsigmoid(rc - rr - m)) + 0.01·mean((rc + rr)²).
const CENTER = 0.01;

async function forwardBackward(model: Qwen3RewardModel, backward = true): Promise<{ rewards: Float32Array; loss: number }> {
  const { B, T, P } = fx.meta.dims;
  const plan = model.plan(B, T);
  const loss = model.lossKernel(plan, P, true, 1, CENTER);
  await runKernels(gpu, [...model.forwardKernels(plan), loss, ...(backward ? model.backwardKernels(plan) : [])]);
  const metrics = await readF32(gpu, model.acts.metrics, 8);
  return { rewards: await readF32(gpu, model.acts.rewards, B), loss: metrics[0] };
}

// Rewards and loss: f32 forward of 2 layers with dot products of length ≤ 128; torch's own f32 run deviates by
// ≤ 7e-8 absolute (meta.json). Tolerance 2e-6 absolute + 1e-5 relative leaves room for other summation orders.
const TOL_OUT = { atol: 2e-6, rtol: 1e-5 };

/** Gradient tolerance: f32 backward through 2 layers; small elements are cancellation noise, so the absolute
 *  floor scales with the tensor's largest gradient (1e-4·max) — torch's own f32 run stays within ~5e-5·max. */
function gradTol(ref: ArrayLike<number>, dtype: ActivationDtype = 'float32'): { atol: number; rtol: number } {
  let max = 0;
  for (let i = 0; i < ref.length; i++) max = Math.max(max, Math.abs(ref[i]));
  return dtype === 'float16' ? F16_GRAD_TOL(max) : { atol: 2e-4 * max + 1e-9, rtol: 1e-3 };
}

/**
 * float16 activation storage: the backward reads the saved activations rounded to f16 (unit roundoff
 * u = 2^-11 ≈ 4.9e-4), so every gradient moves by a few u of its tensor's scale. Measured against the float64
 * reference (2026-11-30, this fixture): max |error| / max |ref| per tensor is 4e-4 (median) to 1.5e-3 (worst,
 * q_norm.weight of layer 1; ≈ 3u), against ≤ 1.1e-6 with float32 storage. Tolerance: 8u of the tensor's largest
 * gradient, plus 1% relative — still far below a wrong block (an offset or a lane off gives O(1) errors).
 */
const F16_GRAD_TOL = (max: number) => ({ atol: 8 * 2 ** -11 * max + 1e-9, rtol: 1e-2 });

describe('parity with PyTorch: full fine-tuning', () => {
  for (const [ckpt, dtype] of [[false, 'float32'], [true, 'float32'], [false, 'float16']] as const) {
    it(`rewards, loss and every gradient${ckpt ? ' (gradient checkpointing)' : ''}${dtype === 'float16' ? ' (float16 activation storage)' : ''}`, async () => {
      const { w, model } = build('full', { gradientCheckpointing: ckpt, activationDtype: dtype });
      const { rewards, loss } = await forwardBackward(model);
      expectClose('rewards', rewards, fx.forward.f64('rewards'), TOL_OUT);
      expectClose('loss', [loss], fx.forward.f64('full.loss'), TOL_OUT);
      for (const e of w.table.trainable) {
        const got = await readParam(gpu, w, e.name, 'grads');
        if (e.kind === 'embed') {
          const ref = fullEmbedding(fx, fx.gradsFull.f64('model.embed_tokens.weight.rows'));
          // compare the used rows only (others are zero in both; checked by a sum below)
          const ids = fx.inputs.i32('embed_ids');
          const C = dims.C;
          const pick = (a: ArrayLike<number>) => Float64Array.from({ length: ids.length * C }, (_, i) => a[ids[Math.floor(i / C)] * C + (i % C)]);
          expectClose(`d${e.name}`, pick(got), pick(ref), gradTol(pick(ref), dtype));
          let rest = 0;
          for (let i = 0; i < got.length; i++) rest += Math.abs(got[i]);
          let used = 0;
          for (const v of pick(got)) used += Math.abs(v);
          expect(rest - used, 'gradient outside the used embedding rows').toBeLessThan(1e-6);
        } else {
          const ref = fx.gradsFull.f64(e.name);
          expectClose(`d${e.name}`, got, ref, gradTol(ref, dtype));
        }
      }
      model.destroy();
    });
  }
});

describe('parity with PyTorch: LoRA', () => {
  for (const [checkpointing, dtype] of [['none', 'float32'], ['none', 'float16'], ['selective', 'float16']] as const) {
    it(`rewards, loss and the gradient of every LoRA tensor and the score head${dtype === 'float16' ? ` (float16 activation storage, ${checkpointing})` : ''}`, async () => {
      const { w, model } = build('lora', { loraB: 'random', checkpointing, activationDtype: dtype });
      const { rewards, loss } = await forwardBackward(model);
      expectClose('rewards', rewards, fx.forward.f64('lora.rewards'), TOL_OUT);
      expectClose('loss', [loss], fx.forward.f64('lora.loss'), TOL_OUT);
      expect(w.table.trainable.length).toBe(fx.gradsLora.names().length);
      for (const e of w.table.trainable) {
        const ref = fx.gradsLora.f64(PEFT_PREFIX + e.name);
        expectClose(`d${e.name}`, await readParam(gpu, w, e.name, 'grads'), ref, gradTol(ref, dtype));
      }
      model.destroy();
    });
  }
});

// Every checkpointing mode recomputes with the same kernels on the same inputs: rewards, loss and every gradient are
// bit-identical to the run that keeps everything (which the tests above check against PyTorch).
describe('checkpointing modes: bit-identical to keeping every activation', () => {
  // (full recompute is checked against PyTorch above; each selective mode once, to keep the suite short)
  for (const [mode, m] of [['full', 'selective'], ['lora', 'selective_mlp']] as const) {
    it(`${mode}: ${m} recompute`, async () => {
      const run = async (checkpointing: CheckpointMode) => {
        const { w, model } = build(mode, { checkpointing, loraB: 'random' });
        expect(model.checkpointing).toBe(checkpointing);
        const { rewards, loss } = await forwardBackward(model);
        const grads = new Map<string, Float32Array>();
        for (const e of w.table.trainable) grads.set(e.name, await readParam(gpu, w, e.name, 'grads'));
        model.destroy();
        return { rewards, loss, grads };
      };
      const ref = await run('none');
      {
        const got = await run(m);
        expect(Array.from(got.rewards), `${m}: rewards`).toEqual(Array.from(ref.rewards));
        expect(got.loss, `${m}: loss`).toBe(ref.loss);
        for (const [name, g] of ref.grads) {
          const h = got.grads.get(name)!;
          let diff = -1;
          for (let i = 0; i < g.length && diff < 0; i++) if (!Object.is(g[i], h[i])) diff = i;
          expect(diff, `${m}: d${name} differs first at ${diff} (${h[diff]} vs ${g[diff]})`).toBe(-1);
        }
      }
    });
  }
});

describe('parity with PyTorch: 10 AdamW steps, linear warmup, clipping', () => {
  for (const [mode, dtype] of [['full', 'float32'], ['lora', 'float32'], ['lora', 'float16']] as const) {
    it(`${mode}: per-step loss, grad norm and final weights${dtype === 'float16' ? ' (float16 activation storage)' : ''}`, async () => {
      const t = fx.meta.training;
      const { w, model } = build(mode, { loraB: 'zeros', activationDtype: dtype });
      const opt = new Optimizer(gpu, w, t.max_grad_norm);
      const losses: number[] = [];
      const norms: number[] = [];
      const lrs = fx.train.f64(`${mode}.learning_rate`);
      for (let step = 1; step <= t.steps; step++) {
        const { loss } = await forwardBackward(model);
        losses.push(loss);
        opt.setHyper({ lr: lrs[step - 1], beta1: t.adam_beta1, beta2: t.adam_beta2, eps: t.adam_epsilon, weightDecay: t.weight_decay, step });
        await runKernels(gpu, opt.kernels);
        norms.push((await readF32(gpu, opt.norm, 2))[0]);
      }
      // Losses drift apart slowly as f32 rounding feeds through the updates: rtol 1e-4 (meta.json's suggestion).
      expectClose('losses', losses, fx.train.f64(`${mode}.loss`), { atol: 1e-6, rtol: 1e-4 });
      expectClose('grad norms', norms, fx.train.f64(`${mode}.grad_norm`), { atol: 1e-6, rtol: 1e-3 });
      // Final weights: AdamW turns the sign of near-zero gradients into steps of size ~lr, so compare with an
      // absolute tolerance of a few lr-sized steps' fraction (3e-4 with lr 1e-3).
      for (const name of fx.train.names().filter((n) => n.startsWith(`${mode}.final.`))) {
        const hf = name.slice(`${mode}.final.`.length).replace(PEFT_PREFIX, '');
        const ref = fx.train.f64(name);
        let got = await readParam(gpu, w, hf.replace('.rows', ''));
        if (hf.endsWith('.rows')) {
          const ids = fx.inputs.i32('embed_ids');
          const C = dims.C;
          got = Float32Array.from({ length: ids.length * C }, (_, i) => got[ids[Math.floor(i / C)] * C + (i % C)]);
        }
        expectClose(`final ${hf}`, got, ref, { atol: 3e-4, rtol: 1e-3 });
      }
      opt.destroy();
      model.destroy();
    });
  }
});
