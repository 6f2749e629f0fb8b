// Global gradient norm + clip coefficient (torch clip_grad_norm_, norm_type 2) on the GPU against float64: awkward
// sizes, ranges inside larger buffers, several blocks, a long partials list, NaN/Inf, determinism; every case for both
// variants of the reductions (workgroup tree; subgroups where the adapter has them).
import { describe, expect, it } from 'vitest';
import { gradNormFinalize, gradNormKernels, gradNormPartialsCount, gradNormPartialsTotal, gradSumSquares, GRAD_NORM_CHUNK } from '../../src/ops/grad_norm.ts';
import { gradNormRef } from '../../src/ops/grad_norm.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage, readU32 } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { f32Buffer, readF32 } from '../helpers/gpu.ts';
import { expectClose, roundF32 } from '../helpers/check.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { REDUCTION_VARIANTS, gpuForVariant, type ReductionVariant } from '../helpers/variants.ts';

// Every square passes through ≤ 16 (per thread) + 8 (tree) + SUB-block/thread sums + 8 (tree) f32 roundings, ≤ ~40 for
// these sizes; terms are ≥ 0, so the sum's relative error is ≤ 40·2^-24 ≈ 2.4e-6 and the norm's (sqrt halves it, plus
// ≤ 1 ulp for sqrt) ≤ 1.5e-6. The coefficient adds one division. rtol 3e-6.
const TOL = { atol: 0, rtol: 3e-6 };

/** A buffer with `junk` values around the range [pad, pad + g.length), which must not be counted. */
function paddedGrad(gpu: Gpu, g: Float64Array, pad: number, junk = 1e6): GPUBuffer {
  const a = new Float32Array(pad + g.length + 3).fill(junk);
  a.set(g, pad);
  return f32Buffer(gpu, 'grad', a);
}

async function normOf(gpu: Gpu, grads: { g: Float64Array; pad: number }[], maxNorm: number, v: ReductionVariant): Promise<[Float32Array, Uint32Array]> {
  const ranges = grads.map(({ g, pad }) => ({ buf: paddedGrad(gpu, g, pad), offset: pad, count: g.length }));
  const partials = createStorage(gpu, 'partials', gradNormPartialsTotal(ranges) * 4);
  const norm = createStorage(gpu, 'norm', 8);
  await runKernels(gpu, gradNormKernels(gpu, norm, partials, ranges, maxNorm, { subgroups: v.subgroups }));
  return [await readF32(gpu, norm, 2), await readU32(gpu, norm, 2)];
}

describe.each(REDUCTION_VARIANTS)('grad_norm [$name]', (v) => {
  for (const N of [1, 255, GRAD_NORM_CHUNK, GRAD_NORM_CHUNK + 1, 1000003]) {
    it(`one range N=${N} inside a larger buffer matches float64`, async (ctx) => {
      const gpu = await gpuForVariant(ctx, v);
      const g = roundF32(randomArray(new Rng(N), N, -1, 1));
      const [got] = await normOf(gpu, [{ g, pad: 5 }], 1.0, v);
      expectClose('[norm, coef]', got, gradNormRef([g], 1.0), TOL);
    });
  }

  it('several blocks with partial slices end to end; clipping on and off', async (ctx) => {
    const gpu = await gpuForVariant(ctx, v);
    const rng = new Rng(42);
    const gs = [roundF32(randomArray(rng, 70001, -0.1, 0.1)), roundF32(randomArray(rng, 5, -3, 3)), roundF32(randomArray(rng, 12345, -1e-3, 1e-3))];
    const grads = gs.map((g, i) => ({ g, pad: [0, 7, 4096][i] }));
    for (const maxNorm of [1.0, 100, 0]) {
      const [got] = await normOf(gpu, grads, maxNorm, v);
      const ref = gradNormRef(gs, maxNorm);
      expectClose(`[norm, coef] max=${maxNorm}`, got, ref, TOL);
      if (maxNorm !== 1.0) expect(got[1], 'no clipping → coef exactly 1').toBe(1);
    }
  });

  it('explicit partials offsets: ranges may be summed in any order of slots', async (ctx) => {
    const gpu = await gpuForVariant(ctx, v);
    const rng = new Rng(7);
    const a = roundF32(randomArray(rng, 9000)), b = roundF32(randomArray(rng, 300));
    const na = gradNormPartialsCount(a.length), nb = gradNormPartialsCount(b.length);
    expect([na, nb]).toEqual([3, 1]);
    const partials = createStorage(gpu, 'partials', (na + nb) * 4), norm = createStorage(gpu, 'norm', 8);
    await runKernels(gpu, [
      gradSumSquares(gpu, partials, f32Buffer(gpu, 'b', b), 0, b.length, 0, v),
      gradSumSquares(gpu, partials, f32Buffer(gpu, 'a', a), 0, a.length, nb, v),
      gradNormFinalize(gpu, norm, partials, na + nb, 0.5, v),
    ]);
    expectClose('[norm, coef]', await readF32(gpu, norm, 2), gradNormRef([a, b], 0.5), TOL);
  });

  it('finalize over a long partials list (more than WG·SUB = 8192 partials) matches float64', async (ctx) => {
    const gpu = await gpuForVariant(ctx, v);
    const n = 20011;
    const parts = roundF32(randomArray(new Rng(3), n, 0, 5));
    const norm = createStorage(gpu, 'norm', 8);
    await runKernels(gpu, [gradNormFinalize(gpu, norm, f32Buffer(gpu, 'partials', parts), n, 10, v)]);
    let s = 0;
    for (const x of parts) s += x;
    const ref = Math.sqrt(s);
    // thread sums of ≤ 79 terms in sub-blocks of 32, then a tree: ≤ ~45 roundings → rtol 3e-6 on the norm.
    expectClose('[norm, coef]', await readF32(gpu, norm, 2), [ref, Math.min(10 / (ref + 1e-6), 1)], TOL);
  });

  it('deterministic: two runs give identical bits', async (ctx) => {
    const gpu = await gpuForVariant(ctx, v);
    const g = roundF32(randomArray(new Rng(5), 300001, -2, 2));
    const [, bits1] = await normOf(gpu, [{ g, pad: 1 }], 1, v);
    const [, bits2] = await normOf(gpu, [{ g, pad: 1 }], 1, v);
    expect(Array.from(bits2)).toEqual(Array.from(bits1));
  });

  it('NaN anywhere → [NaN, NaN]; Inf → [+Inf, 0]; overflowing sum of finite grads → +Inf', async (ctx) => {
    const gpu = await gpuForVariant(ctx, v);
    const g = roundF32(randomArray(new Rng(1), 10000));
    const withNaN = Float64Array.from(g); withNaN[9999] = NaN;
    const withInf = Float64Array.from(g); withInf[17] = -Infinity;
    const big = new Float64Array(5000).fill(3e18); // each square 9e36 is finite, the sum of 5000 is not
    let [got] = await normOf(gpu, [{ g, pad: 0 }, { g: withNaN, pad: 2 }], 1, v);
    expect(Number.isNaN(got[0]) && Number.isNaN(got[1])).toBe(true);
    [got] = await normOf(gpu, [{ g: withInf, pad: 0 }], 1, v);
    expect(Array.from(got)).toEqual([Infinity, 0]);
    [got] = await normOf(gpu, [{ g: big, pad: 0 }], 1, v);
    expect(got[0]).toBe(Infinity);
  });

  it('rejects ranges outside their buffer', async (ctx) => {
    const gpu = await gpuForVariant(ctx, v);
    const b = createStorage(gpu, 'g', 40), p = createStorage(gpu, 'p', 4);
    expect(() => gradSumSquares(gpu, p, b, 5, 6, 0)).toThrow(/exceeds/);
    expect(() => gradSumSquares(gpu, p, b, 0, 10, 1)).toThrow(/partials/);
  });
});
