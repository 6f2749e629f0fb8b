// The SwiGLU forward as the A operand's load prologue (matmul.wgsl A_GLU: A(i,c) = silu(gate)·up read from
// [gate | up] rows), with and without dropout on A, scalar and vec4 loads; and
// the SwiGLU backward fused into the down_proj dinp product's store (matmul.wgsl EPI & 4): dgu (M, 2F) =
// swiglu_backward(dh = dout·W [+ scale·ws·A], gu) against the float64 reference of the two ops run separately,
// for f32 and packed bf16 weights, with and without split-K, with and without the LoRA low-rank term, at odd
// sizes; a row stride wider than 2F checks that nothing outside the two halves is written.
import { describe, expect, it } from 'vitest';
import { dropoutMultiplier, gemmKernel, packWeight, roundWeight, weightRowStride, type TileConfig, type WeightDtype } from '../../src/ops/matmul.ts';
import { swigluBackwardRef, swigluForwardRef } from '../../src/ops/swiglu.ref.ts';
import { u32Buffer } from '../helpers/gpu.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { expectClose, roundF32 } from '../helpers/check.ts';

interface Case { dtype: WeightDtype; M: number; F: number; C: number; R: number; splitK: number }
const cases: Case[] = [
  { dtype: 'f32', M: 37, F: 45, C: 29, R: 0, splitK: 1 },
  { dtype: 'bf16', M: 19, F: 34, C: 70, R: 3, splitK: 1 },
  { dtype: 'f32', M: 13, F: 21, C: 600, R: 4, splitK: 3 },
];

describe('matmul: SwiGLU backward in the store', () => {
  for (const { dtype, M, F, C, R, splitK } of cases) {
    it(`${dtype} M=${M} F=${F} C=${C} R=${R} splitK=${splitK}`, async () => {
      const gpu = await getTestGpu();
      const rng = new Rng(M * 7 + F);
      const dout = roundF32(randomArray(rng, M * C));
      const W = roundWeight(randomArray(rng, C * F), dtype); // down_proj weight (C, F)
      const gu = roundF32(randomArray(rng, M * 2 * F).map((x) => 3 * x));
      const ws = roundF32(randomArray(rng, M * Math.max(1, R))), A = roundF32(randomArray(rng, Math.max(1, R) * F));
      const scale = 1.5;
      const ldc = 2 * F + 3; // wider than 2F: the 3 extra columns must stay untouched
      const sentinel = 12345;
      const out = f32Buffer(gpu, 'dgu', new Array(M * ldc).fill(sentinel));
      const wB = dtype === 'f32' ? f32Buffer(gpu, 'W', W) : uploadBuffer(gpu, 'W', packWeight(W, C, F, dtype));
      const k = gemmKernel(gpu, {
        label: 'swiglu_dinp', c: out, ldc, M, N: F, K: C, splitK,
        a: { buffer: f32Buffer(gpu, 'dout', dout), kContig: true, ld: C },
        b: { buffer: wB, kContig: false, ld: weightRowStride(F, dtype), dtype },
        epilogue: {
          ...(R > 0 ? { lowRank: { x: f32Buffer(gpu, 'ws', ws), ldx: R, y: f32Buffer(gpu, 'A', A), yJ: 1, yR: F, R, scale } } : {}),
          swigluBackward: { gu: f32Buffer(gpu, 'gu', gu), ld: 2 * F },
        },
      });
      expect(k.dispatches.length).toBe(splitK > 1 ? 2 : 1);
      await runKernels(gpu, [k]);
      const got = await readF32(gpu, out);
      // reference: dh = dout·W + scale·ws·A, then the SwiGLU backward per element
      const dh = new Float64Array(M * F), dhMag = new Float64Array(M * F);
      for (let m = 0; m < M; m++) {
        for (let f = 0; f < F; f++) {
          let s = 0, sa = 0;
          for (let c = 0; c < C; c++) { s += dout[m * C + c] * W[c * F + f]; sa += Math.abs(dout[m * C + c] * W[c * F + f]); }
          let l = 0, la = 0;
          for (let r = 0; r < R; r++) { l += ws[m * R + r] * A[r * F + f]; la += Math.abs(ws[m * R + r] * A[r * F + f]); }
          dh[m * F + f] = s + scale * l;
          dhMag[m * F + f] = sa + scale * la;
        }
      }
      const gate = new Float64Array(M * F), up = new Float64Array(M * F);
      for (let m = 0; m < M; m++) for (let f = 0; f < F; f++) { gate[m * F + f] = gu[m * 2 * F + f]; up[m * F + f] = gu[m * 2 * F + F + f]; }
      const dg = new Float64Array(M * F), du = new Float64Array(M * F);
      swigluBackwardRef(dg, du, dh, gate, up, M * F);
      const gotG = new Float64Array(M * F), gotU = new Float64Array(M * F);
      for (let m = 0; m < M; m++) {
        for (let f = 0; f < F; f++) { gotG[m * F + f] = got[m * ldc + f]; gotU[m * F + f] = got[m * ldc + F + f]; }
        for (let e = 2 * F; e < ldc; e++) expect(got[m * ldc + e], `row ${m} column ${e} outside dgu`).toBe(sentinel);
      }
      // dh's f32 dot-product error, (C+R+8)·2⁻²⁴·Σ|terms|, times the largest SwiGLU factor (|up|·1.1 or |gate|),
      // plus a few ulps for the elementwise arithmetic.
      const maxMag = Math.max(...dhMag), maxGU = Math.max(...Array.from(gu, Math.abs));
      const tol = { atol: (C + R + 8) * 2 ** -24 * maxMag * 1.2 * maxGU, rtol: 2 ** -19 };
      expectClose('dgate', gotG, dg, tol);
      expectClose('dup', gotU, du, tol);
    });
  }
});

describe('matmul: SwiGLU forward as the A prologue', () => {
  const gpuTile: TileConfig = { wgM: 4, wgN: 4, tm: 8, tn: 4, bk: 8, vector: true, prefetch: true, specialize: true };
  const cases = [
    { name: 'scalar loads, odd F', M: 23, F: 45, N: 19, dtype: 'f32' as WeightDtype, p: 0, tile: undefined },
    { name: 'vec4 loads, bf16 W', M: 37, F: 48, N: 21, dtype: 'bf16' as WeightDtype, p: 0, tile: gpuTile },
    { name: 'vec4 tile, dropout on A', M: 29, F: 40, N: 17, dtype: 'f32' as WeightDtype, p: 0.25, tile: gpuTile },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const gpu = await getTestGpu();
      const { M, F, N, dtype, p } = c;
      const rng = new Rng(M + 100 * F);
      const gu = roundF32(randomArray(rng, M * 2 * F).map((x) => 3 * x));
      const W = roundWeight(randomArray(rng, N * F), dtype); // (N, F)
      const seed = 4242, salt = 6;
      const out = createOut(gpu, M * N);
      const wB = dtype === 'f32' ? f32Buffer(gpu, 'W', W) : uploadBuffer(gpu, 'W', packWeight(W, N, F, dtype));
      await runKernels(gpu, [gemmKernel(gpu, {
        label: 'glu_forward', c: out, ldc: N, M, N, K: F, tile: c.tile,
        a: { buffer: f32Buffer(gpu, 'gu', gu), kContig: true, ld: 2 * F, glu: true },
        b: { buffer: wB, kContig: true, ld: weightRowStride(F, dtype), dtype },
        dropout: p > 0 ? { on: 'a', p, seed: u32Buffer(gpu, 'seed', [seed]), salt } : undefined,
      })]);
      const gate = new Float64Array(M * F), up = new Float64Array(M * F), h = new Float64Array(M * F);
      for (let m = 0; m < M; m++) for (let f = 0; f < F; f++) { gate[m * F + f] = gu[m * 2 * F + f]; up[m * F + f] = gu[m * 2 * F + F + f]; }
      swigluForwardRef(h, gate, up, M * F);
      const ref = new Float64Array(M * N), mag = new Float64Array(M * N);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          let s = 0, sa = 0;
          for (let f = 0; f < F; f++) {
            const t = h[m * F + f] * (p > 0 ? dropoutMultiplier(seed, salt, p, m * F + f) : 1) * W[n * F + f];
            s += t; sa += Math.abs(t);
          }
          ref[m * N + n] = s; mag[m * N + n] = sa;
        }
      }
      // f32 dot of length F plus the rounding of h itself (a few ulps of each term)
      const tol = { atol: (F + 16) * 2 ** -24 * Math.max(...mag), rtol: 2 ** -20 };
      expectClose('out', await readF32(gpu, out), ref, tol);
    });
  }
});

function createOut(gpu: Awaited<ReturnType<typeof getTestGpu>>, n: number): GPUBuffer {
  return f32Buffer(gpu, 'out', new Array(n).fill(0));
}
