// AdamW (torch.optim.AdamW semantics, clip coefficient applied to grads) on the GPU over several steps, against a
// float64 reference and against an f32 emulation of torch's kernels (same formula, rounding after every op); the
// NaN/Inf grad-norm guard; the no-decay option; fillZero.
import { describe, expect, it } from 'vitest';
import { adamwUpdate, adamwHyperValues, createAdamwHyper, fillZero, writeAdamwHyper, type AdamwHyper } from '../../src/ops/adamw.ts';
import { adamwRef } from '../../src/ops/adamw.ref.ts';
import { gradNormKernels, gradNormPartialsTotal } from '../../src/ops/grad_norm.ts';
import { gradNormRef } from '../../src/ops/grad_norm.ref.ts';
import { runKernels, type Kernel } from '../../src/gpu/kernel.ts';
import { createStorage, readU32, writeBuffer } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { expectClose, roundF32 } from '../helpers/check.ts';

// vs float64: each step rounds p to f32 (≤ 2^-24·|p| ≤ 6e-8 for |p| ≤ 1) and computes the update lr·m/denom with a few
// ulp of error (≤ 1e-9 at lr 1e-3); over 6 steps atol 1e-6 + rtol 1e-6 on p. v is a sum of positive terms: rtol 1e-5
// (atol 1e-12 for tiny v from tiny grads). m is a sum of terms of both signs, so it can cancel: its error is bounded
// by (roundings per step ≈ 3) · steps · 2^-24 · max_t |g_t| ≤ 1.1e-6 · max_t |g_t|; checked as |Δm| / max_t |g_t| ≤ 2e-6.
const TOL_P = { atol: 1e-6, rtol: 1e-6 };
const TOL_V = { atol: 1e-12, rtol: 1e-5 };
const TOL_M_SCALED = { atol: 2e-6, rtol: 0 };
// vs torch-f32 emulation fed the GPU's own clip coefficient: the same roundings in the same order; what may differ is
// WGSL's sqrt and division (not required to be correctly rounded: ≤ 2.5 ulp) and FMA contraction by the backend.
// A 1-ulp change in m/denom moves the update by ~lr·2^-23 and can flip the final rounding of p: allow 4 ulp of |p|
// per step (6 steps: rtol 1.5e-6), and 2 ulp on m and v (they differ only by contraction).
const TOL_P_F32 = { atol: 1e-10, rtol: 1.5e-6 };
const TOL_MV_F32 = { atol: 1e-30, rtol: 2.4e-7 };

const PAD = 3;  // the range starts at element 3 of each buffer; elements outside must stay untouched
const SENTINEL = 12345;

function padded(a: ArrayLike<number>, N: number): Float32Array {
  const out = new Float32Array(PAD + N + 5).fill(SENTINEL);
  out.set(Float32Array.from(a), PAD);
  return out;
}

interface RunOpts { N: number; steps: number; h: Omit<AdamwHyper, 'step'>; maxNorm: number; noDecay?: boolean; seed: number; schedule?: boolean }

async function runSteps({ N, steps, h, maxNorm, noDecay = false, seed, schedule = false }: RunOpts) {
  const gpu = await getTestGpu();
  const rng = new Rng(seed);
  const p0 = roundF32(randomArray(rng, N, -1, 1));
  const pB = f32Buffer(gpu, 'param', padded(p0, N)), mB = f32Buffer(gpu, 'm', padded(new Float64Array(N), N));
  const vB = f32Buffer(gpu, 'v', padded(new Float64Array(N), N)), gB = f32Buffer(gpu, 'grad', padded(new Float64Array(N), N));
  const hyper = createAdamwHyper(gpu), norm = createStorage(gpu, 'norm', 8);
  const ranges = [{ buf: gB, offset: PAD, count: N }];
  const partials = createStorage(gpu, 'partials', gradNormPartialsTotal(ranges) * 4);
  // Planned once; only the hyper buffer and the gradients change between steps.
  const kernels: Kernel[] = [...gradNormKernels(gpu, norm, partials, ranges, maxNorm),
    adamwUpdate(gpu, pB, gB, mB, vB, hyper, norm, PAD, N, noDecay ? { weightDecay: 0 } : {})];

  const p64 = Float64Array.from(p0), m64 = new Float64Array(N), v64 = new Float64Array(N);
  const p32 = Float64Array.from(p0), m32 = new Float64Array(N), v32 = new Float64Array(N);
  const gMax = new Float64Array(N); // max_t |clipped g_t| per element: the scale of m's rounding error
  const refH = (step: number, lr: number) => ({ ...h, lr, step, weightDecay: noDecay ? 0 : h.weightDecay });
  for (let step = 1; step <= steps; step++) {
    const lr = schedule ? h.lr * (1 - (step - 1) / steps) : h.lr; // a linear schedule: lr changes every step
    const grad = roundF32(randomArray(rng, N, -1, 1).map((x) => x * 10 ** rng.range(-4, 0)));
    writeBuffer(gpu, gB, Float32Array.from(grad), PAD * 4);
    writeAdamwHyper(gpu, hyper, { ...h, lr, step });
    await runKernels(gpu, kernels);
    const [, coef64] = gradNormRef([grad], maxNorm);
    for (let i = 0; i < N; i++) gMax[i] = Math.max(gMax[i], Math.abs(grad[i] * coef64));
    adamwRef(p64, m64, v64, grad, coef64, refH(step, lr));
    const coefGpu = (await readF32(gpu, norm, 2))[1];
    adamwRef(p32, m32, v32, grad, coefGpu, refH(step, lr), Math.fround);
  }
  const read = async (b: GPUBuffer) => {
    const all = await readF32(gpu, b);
    expect([...all.subarray(0, PAD), ...all.subarray(PAD + N)].every((x) => x === SENTINEL), `${b.label}: outside the range untouched`).toBe(true);
    return all.subarray(PAD, PAD + N);
  };
  const [p, m, v] = [await read(pB), await read(mB), await read(vB)];
  expectClose('param vs float64', p, p64, TOL_P);
  expectClose('(exp_avg − float64) / max|g|', Array.from(m, (x, i) => (x - m64[i]) / gMax[i]), new Float64Array(N), TOL_M_SCALED);
  expectClose('exp_avg_sq vs float64', v, v64, TOL_V);
  expectClose('param vs torch-f32', p, p32, TOL_P_F32);
  expectClose('exp_avg vs torch-f32', m, m32, TOL_MV_F32);
  expectClose('exp_avg_sq vs torch-f32', v, v32, TOL_MV_F32);
  let same = 0;
  for (let i = 0; i < N; i++) if (p[i] === p32[i]) same++;
  return { p, p0, sameFraction: same / N };
}

const H = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };

describe('adamw', () => {
  it('6 steps, N=1037, weight decay, clipping active (max_grad_norm 0.05)', async () => {
    const { sameFraction } = await runSteps({ N: 1037, steps: 6, h: H, maxNorm: 0.05, seed: 1 });
    console.log(`adamw: ${(sameFraction * 100).toFixed(1)}% of params bit-identical to the torch-f32 emulation after 6 steps`);
  });

  it('linear lr schedule, no clipping (norm below max), 1-element range', async () => {
    await runSteps({ N: 1, steps: 4, h: { ...H, lr: 3e-2 }, maxNorm: 1e9, seed: 2, schedule: true });
  });

  it('beta1 < 0.5 takes torch.lerp\'s other branch; eps large; weight decay 0.1', async () => {
    await runSteps({ N: 300, steps: 5, h: { lr: 1e-2, beta1: 0.3, beta2: 0.9, eps: 1e-3, weightDecay: 0.1 }, maxNorm: 1, seed: 3 });
  });

  it('no-decay range ignores the hyper buffer\'s weight_decay', async () => {
    const { p, p0 } = await runSteps({ N: 257, steps: 3, h: { ...H, weightDecay: 0.5, lr: 1e-2 }, maxNorm: 1, noDecay: true, seed: 4 });
    expect(p.some((x, i) => x !== p0[i]), 'params moved').toBe(true);
  });

  for (const bad of [NaN, Infinity]) {
    it(`grad norm ${bad}: params and moments untouched (bit-exact)`, async () => {
      const gpu = await getTestGpu();
      const N = 500;
      const rng = new Rng(5);
      const init = [randomArray(rng, N), randomArray(rng, N, 0.1, 1), randomArray(rng, N, 0, 1e-3)].map((a) => Float32Array.from(a));
      const [pB, mB, vB] = init.map((a, i) => f32Buffer(gpu, ['param', 'm', 'v'][i], a));
      const grad = Float32Array.from(randomArray(rng, N));
      grad[123] = bad;
      const gB = f32Buffer(gpu, 'grad', grad), hyper = createAdamwHyper(gpu), norm = createStorage(gpu, 'norm', 8);
      writeAdamwHyper(gpu, hyper, { ...H, step: 1 });
      const ranges = [{ buf: gB, offset: 0, count: N }];
      const partials = createStorage(gpu, 'partials', gradNormPartialsTotal(ranges) * 4);
      await runKernels(gpu, [...gradNormKernels(gpu, norm, partials, ranges, 1), adamwUpdate(gpu, pB, gB, mB, vB, hyper, norm, 0, N)]);
      expect(Number.isFinite((await readF32(gpu, norm, 2))[0])).toBe(false);
      for (const [i, b] of [pB, mB, vB].entries())
        expect(Array.from(await readU32(gpu, b, N)), `${b.label} bits`).toEqual(Array.from(new Uint32Array(init[i].buffer)));
    });
  }

  it('hyper values: torch scalars rounded once to f32', () => {
    const v = adamwHyperValues({ ...H, step: 3 });
    expect(v[6]).toBe(Math.fround(1 - 1e-3 * 0.01));
    expect(v[10]).toBe(Math.fround(-1e-3 / (1 - 0.9 ** 3)));
    expect(v[11]).toBe(Math.fround(Math.sqrt(1 - 0.999 ** 3)));
    expect(() => adamwHyperValues({ ...H, beta2: 1, step: 1 })).toThrow(/adam_beta2/);
    expect(() => adamwHyperValues({ ...H, step: 0 })).toThrow(/step/);
    expect(() => adamwHyperValues({ ...H, lr: -1, step: 1 })).toThrow(/learning_rate/);
  });

  it('fillZero writes zeros only inside its range (2-D grid sized range too)', async () => {
    const gpu = await getTestGpu();
    for (const [offset, count] of [[0, 1], [7, 1000], [1, 256 * 65535 + 300]]) {
      const total = offset + count + 9;
      const b = f32Buffer(gpu, 'buf', new Float32Array(total).fill(-1.5));
      await runKernels(gpu, [fillZero(gpu, b, offset, count)]);
      const a = await readF32(gpu, b, total);
      let wrong = 0;
      for (let i = 0; i < total; i++) if (a[i] !== (i >= offset && i < offset + count ? 0 : -1.5) || Object.is(a[i], -0)) wrong++;
      expect(wrong, `offset ${offset} count ${count}`).toBe(0);
    }
  });
});
