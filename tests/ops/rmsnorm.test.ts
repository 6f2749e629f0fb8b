// RMSNorm forward/backward (and the fused residual + RMSNorm forward) on the GPU against the float64 reference, for
// both variants of the row reductions (workgroup tree; subgroups where the adapter has them: SwiftShader's subgroup
// size 4 is a stress case); the reference backward against finite differences.
import { describe, expect, it } from 'vitest';
import { rmsnormForward, rmsnormBackward, rmsnormBackwardWorkspaceBytes, residualRmsnormForward } from '../../src/ops/rmsnorm.ts';
import { rmsnormForwardRef, rmsnormBackwardRef } from '../../src/ops/rmsnorm.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';
import { REDUCTION_VARIANTS, gpuForVariant } from '../helpers/variants.ts';

const EPS = 1e-6;

// Forward: out = x·r·w with r from an f32 sum of C ≤ 1000 squares (relative error ≈ √C·2⁻²⁴ ≲ 2e-6) and a few
// rounded products: rtol 1e-5; atol for outputs near zero. rstd is a single positive number per row: rtol 1e-5.
const TOL_FWD = { atol: 1e-6, rtol: 1e-5 };
// Backward: dx = r·w·g − (r³/C)·x·Σ g·w·x cancels, so the error is relative to the row's scale, not to dx:
// atol = 2e-5 · max|ref| (f32 sums of up to 1000 terms), rtol 1e-5. dweight sums ≤ 100 rows per column the same way.
const tolScaled = (ref: Float64Array) => ({ atol: 2e-5 * Math.max(...Array.from(ref, Math.abs)), rtol: 1e-5 });

interface Case { N: number; C: number; scale: number; accumulate?: boolean; frozen?: boolean; ranges?: boolean; what: string }

const CASES: Case[] = [
  { N: 1, C: 33, scale: 1, what: 'one row, C not a multiple of the workgroup' },
  { N: 6, C: 1000, scale: 1, what: 'hidden-like width 1000' },
  { N: 2 * 3 * 4, C: 128, scale: 1, what: 'per head: N = B*T*H = 2*3*4, C = D = 128' },
  { N: 2 * 5 * 3, C: 32, scale: 1, what: 'per head: N = B*T*H = 2*5*3, C = D = 32' },
  { N: 37, C: 64, scale: 100, what: 'large magnitude ×100, 37 rows (partial last dweight block)' },
  { N: 100, C: 48, scale: 1, accumulate: true, what: 'accumulate into dinp (residual stream), 100 rows' },
  { N: 4, C: 64, scale: 1e-3, what: 'tiny inputs: mean(x²) ≈ 3e-7 < eps, so eps is visible' },
  { N: 9, C: 40, scale: 3, frozen: true, what: 'frozen weight (dweight = null, no workspace)' },
  { N: 8, C: 50, scale: 1, ranges: true, what: 'weight and dweight as ranges at offset 256 of parameter blocks' },
];

describe('rmsnorm', () => {
  for (const v of REDUCTION_VARIANTS) for (const k of CASES) {
    it(`[${v.name}] forward and backward match float64: ${k.what}`, async (ctx) => {
      const gpu = await gpuForVariant(ctx, v);
      const opts = { subgroups: v.subgroups };
      const { N, C } = k;
      const rng = new Rng(N * 1000 + C);
      const inp = roundF32(randomArray(rng, N * C, -k.scale, k.scale));
      const weight = roundF32(randomArray(rng, C, 0.5, 1.5));
      const dout = roundF32(randomArray(rng, N * C));
      const dinp0 = roundF32(randomArray(rng, N * C));     // existing residual gradient (accumulate)
      const dweight0 = roundF32(randomArray(rng, C));       // existing parameter gradient (+=)

      const inpB = f32Buffer(gpu, 'inp', inp), doutB = f32Buffer(gpu, 'dout', dout);
      const out = createStorage(gpu, 'out', N * C * 4), rstd = createStorage(gpu, 'rstd', N * 4);
      const dinp = f32Buffer(gpu, 'dinp', dinp0);
      // ranges: the (C,) tensors sit at element 64 (byte 256) of larger blocks, surrounded by other values.
      const at = k.ranges ? 64 : 0;
      const inBlock = (label: string, v: Float64Array) => {
        const block = new Float64Array(at + C + (k.ranges ? 7 : 0)).fill(123);
        block.set(v, at);
        return f32Buffer(gpu, label, block);
      };
      const wBlock = inBlock('weight', weight), dwBlock = inBlock('dweight', dweight0);
      const range = (b: GPUBuffer) => (k.ranges ? { buffer: b, offset: at * 4, size: C * 4 } : b);
      const wB = range(wBlock), dweight = range(dwBlock);
      const ws = k.frozen ? null : createStorage(gpu, 'workspace', rmsnormBackwardWorkspaceBytes(N, C));
      await runKernels(gpu, [
        rmsnormForward(gpu, out, rstd, inpB, wB, N, C, EPS, opts),
        rmsnormBackward(gpu, dinp, k.frozen ? null : dweight, ws, doutB, inpB, wB, rstd, N, C, { accumulate: k.accumulate, ...opts }),
      ]);

      const outRef = new Float64Array(N * C), rstdRef = new Float64Array(N);
      rmsnormForwardRef(outRef, rstdRef, inp, weight, N, C, EPS);
      const dinpRef = Float64Array.from(dinp0), dwRef = Float64Array.from(dweight0);
      rmsnormBackwardRef(dinpRef, k.frozen ? null : dwRef, dout, inp, weight, rstdRef, N, C, k.accumulate);

      expectClose('out', await readF32(gpu, out), outRef, TOL_FWD);
      expectClose('rstd', await readF32(gpu, rstd), rstdRef, TOL_FWD);
      expectClose('dinp', await readF32(gpu, dinp), dinpRef, tolScaled(dinpRef));
      // frozen: dweight untouched, bit for bit
      expectClose('dweight', await readF32(gpu, dwBlock, C, at), dwRef, k.frozen ? { atol: 0, rtol: 0 } : tolScaled(dwRef));
      if (k.ranges) expect(Array.from(await readF32(gpu, dwBlock, 7, at + C)), 'block after dweight untouched').toEqual(Array(7).fill(123));
    });
  }

  for (const v of REDUCTION_VARIANTS) for (const inPlace of [false, true]) {
    it(`[${v.name}] fused residual + rmsnorm forward matches float64${inPlace ? ' (in place)' : ''}`, async (ctx) => {
      const gpu = await gpuForVariant(ctx, v);
      const N = 5, C = 77;
      const rng = new Rng(inPlace ? 11 : 12);
      const resIn = roundF32(randomArray(rng, N * C, -2, 2)), delta = roundF32(randomArray(rng, N * C));
      const weight = roundF32(randomArray(rng, C, 0.5, 1.5));
      const resInB = f32Buffer(gpu, 'resIn', resIn), deltaB = f32Buffer(gpu, 'delta', delta), wB = f32Buffer(gpu, 'weight', weight);
      const resOut = inPlace ? resInB : createStorage(gpu, 'resOut', N * C * 4);
      const normOut = createStorage(gpu, 'normOut', N * C * 4), rstd = createStorage(gpu, 'rstd', N * 4);
      await runKernels(gpu, [residualRmsnormForward(gpu, resOut, normOut, rstd, resInB, deltaB, wB, N, C, EPS, { subgroups: v.subgroups })]);

      // f32 addition of two f32 values is correctly rounded, so the sum is exact against roundF32(a + b).
      const resRef = roundF32(resIn.map((a, i) => a + delta[i]));
      const outRef = new Float64Array(N * C), rstdRef = new Float64Array(N);
      rmsnormForwardRef(outRef, rstdRef, resRef, weight, N, C, EPS);
      expectClose('resOut', await readF32(gpu, resOut), resRef, { atol: 0, rtol: 0 });
      expectClose('normOut', await readF32(gpu, normOut), outRef, TOL_FWD);
      expectClose('rstd', await readF32(gpu, rstd), rstdRef, TOL_FWD);
    });
  }

  it('rejects a dweight without workspace and a too small workspace', async () => {
    const gpu = await getTestGpu();
    const N = 10, C = 8;
    const b = (n: number, l = 'b') => createStorage(gpu, l, n * 4);
    expect(() => rmsnormBackward(gpu, b(N * C), b(C), null, b(N * C), b(N * C), b(C), b(N), N, C)).toThrow(/workspace/);
    expect(() => rmsnormBackward(gpu, b(N * C), b(C), b(1, 'ws'), b(N * C), b(N * C), b(C), b(N), N, C)).toThrow(/ws.*needs/);
  });

  it('workspace size never shrinks as N grows (a workspace for the largest step fits every smaller one)', () => {
    let prev = 0;
    for (let N = 1; N <= 70000; N++) {
      const bytes = rmsnormBackwardWorkspaceBytes(N, 1);
      if (bytes < prev) expect.fail(`workspace for N=${N} (${bytes}) < for N-1 (${prev})`);
      prev = bytes;
    }
  });

  it('reference backward matches finite differences', () => {
    const N = 3, C = 11;
    const rng = new Rng(5);
    const inp = randomArray(rng, N * C, -2, 2), weight = randomArray(rng, C, 0.5, 1.5), dout = randomArray(rng, N * C);
    const out = new Float64Array(N * C), rstd = new Float64Array(N);
    rmsnormForwardRef(out, rstd, inp, weight, N, C, EPS);
    const dinp = new Float64Array(N * C), dweight = new Float64Array(C);
    rmsnormBackwardRef(dinp, dweight, dout, inp, weight, rstd, N, C);
    const loss = (x: Float64Array, w: Float64Array) => {
      const o = new Float64Array(N * C), r = new Float64Array(N);
      rmsnormForwardRef(o, r, x, w, N, C, EPS);
      return dot(o, dout);
    };
    checkGradFD('dinp', (x) => loss(x, weight), inp, dinp);
    checkGradFD('dweight', (w) => loss(inp, w), weight, dweight);
  });
});
