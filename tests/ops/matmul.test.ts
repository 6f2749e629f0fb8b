// Matmul forward / backward-input / backward-weight on the GPU against the float64 reference, for every weight
// dtype, awkward shapes (M=1, odd M/N/K, not tile multiples), every tile config, split-K, batched strided
// products; the 16-bit packing; the reference backward against finite differences.
import { describe, expect, it } from 'vitest';
import {
  type WeightDtype, TILES, fromHalfBits, gemmKernel, matmulBackwardInput, matmulBackwardWeight, matmulForward, packWeight,
  roundWeight, toHalfBits, weightRowStride,
} from '../../src/ops/matmul.ts';
import { matmulBackwardRef, matmulForwardRef, matmulForwardStridedRef } from '../../src/ops/matmul.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { createStorage, uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { type Tol, checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';

// Tolerance. The inputs the reference sees are exactly the f32 (or 16-bit) values the GPU sees, so the only error
// is f32 rounding in the sums. A length-L f32 dot product (fma or not, any summation order, split-K adding at most
// a few more terms) is within γ·Σ|aᵢbᵢ| of the exact value, γ = L·2⁻²⁴ (Higham, "Accuracy and Stability of
// Numerical Algorithms", §3.1); the final store, the alpha multiply and an accumulate add another ~2⁻²³·|result|.
// Σ|aᵢbᵢ| comes from running the reference on |a|, |b|. We use atol = (L+8)·2⁻²⁴·max Σ|ab| (the bound, with
// room for split-K partial sums) and rtol = 2⁻²¹. A wrong index or a dropped/duplicated term moves a result by
// ~|aᵢbᵢ| ≈ 0.1–1, orders of magnitude above this bound (≈ 1e-4 for L = 67).
function tolFor(L: number, absRef: ArrayLike<number>): Tol {
  let mx = 0;
  for (let i = 0; i < absRef.length; i++) mx = Math.max(mx, Math.abs(absRef[i]));
  return { atol: (L + 8) * 2 ** -24 * mx, rtol: 2 ** -21 };
}
const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);

function weightBuffer(gpu: Gpu, label: string, w: Float64Array, N: number, K: number, dtype: WeightDtype): GPUBuffer {
  return dtype === 'f32' ? f32Buffer(gpu, label, w) : uploadBuffer(gpu, label, packWeight(w, N, K, dtype));
}

describe('matmul', () => {
  // [M, N, K]: one token; odd sizes smaller than a tile; sizes straddling 64-tiles with odd K; K=1; N ≤ 16
  // (tall tile) and M ≤ 16 (wide tile); K long enough for the automatic split-K.
  const shapes: [number, number, number][] = [[1, 29, 45], [37, 29, 45], [65, 130, 67], [3, 7, 1], [70, 11, 33], [9, 40, 600]];
  for (const dtype of ['f32', 'f16', 'bf16'] as const) {
    shapes.forEach(([M, N, K], si) => {
      it(`${dtype} M=${M} N=${N} K=${K}: forward, backward input, backward weight`, async () => {
        const gpu = await getTestGpu();
        const rng = new Rng(1000 * si + K);
        const inp = roundF32(randomArray(rng, M * K));
        const w = roundWeight(randomArray(rng, N * K), dtype);
        const dout = roundF32(randomArray(rng, M * N));
        const prevOut = roundF32(randomArray(rng, M * N));
        const prevDinp = roundF32(randomArray(rng, M * K));
        const prevDw = roundF32(randomArray(rng, N * K));
        // Forward accumulates on odd shapes, backward-input on even ones: both modes for every dtype.
        const accF = si % 2 === 1;
        const accB = !accF;
        const inpB = f32Buffer(gpu, 'inp', inp), wB = weightBuffer(gpu, 'weight', w, N, K, dtype), doutB = f32Buffer(gpu, 'dout', dout);
        const out = f32Buffer(gpu, 'out', prevOut), dinp = f32Buffer(gpu, 'dinp', prevDinp), dw = f32Buffer(gpu, 'dweight', prevDw);
        const kernels = [
          matmulForward(gpu, out, inpB, wB, M, N, K, { weightDtype: dtype, accumulate: accF }),
          matmulBackwardInput(gpu, dinp, doutB, wB, M, N, K, { weightDtype: dtype, accumulate: accB }),
        ];
        if (dtype === 'f32') kernels.push(matmulBackwardWeight(gpu, dw, doutB, inpB, M, N, K));
        await runKernels(gpu, kernels);

        const outRef = Float64Array.from(prevOut), dinpRef = Float64Array.from(prevDinp), dwRef = Float64Array.from(prevDw);
        matmulForwardRef(outRef, inp, w, M, N, K, accF);
        matmulBackwardRef(dinpRef, dtype === 'f32' ? dwRef : null, dout, inp, w, M, N, K, accB);
        const outAbs = new Float64Array(M * N), dinpAbs = new Float64Array(M * K), dwAbs = new Float64Array(N * K);
        matmulForwardRef(outAbs, abs(inp), abs(w), M, N, K);
        matmulBackwardRef(dinpAbs, dwAbs, abs(dout), abs(inp), abs(w), M, N, K);
        expectClose('out', await readF32(gpu, out), outRef, tolFor(K, outAbs));
        expectClose('dinp', await readF32(gpu, dinp), dinpRef, tolFor(N, dinpAbs));
        if (dtype === 'f32') expectClose('dweight', await readF32(gpu, dw), dwRef, tolFor(M, dwAbs));
      });
    });
  }

  // Every tile config and forced split-K (with and without accumulate) on a shape that spans at least two tiles
  // in each output dimension of every config (128×128, 64×64, 128×16, 16×128), ending in partial tiles.
  const configs = [
    ...Object.entries(TILES).map(([name, tile]) => ({ name, tile, splitK: 1 })),
    { name: 'medium split 3', tile: TILES.medium, splitK: 3 },
    { name: 'tall split 4', tile: TILES.tall, splitK: 4 },
  ];
  for (const { name, tile, splitK } of configs) {
    it(`tile ${name}: bf16 forward, backward input, f32 backward weight at M=130 N=131 K=37`, async () => {
      const gpu = await getTestGpu();
      const [M, N, K] = [130, 131, 37];
      const rng = new Rng(77);
      const inp = roundF32(randomArray(rng, M * K)), w = roundWeight(randomArray(rng, N * K), 'bf16'), dout = roundF32(randomArray(rng, M * N));
      const prevDinp = roundF32(randomArray(rng, M * K)), prevDw = roundF32(randomArray(rng, N * K));
      const inpB = f32Buffer(gpu, 'inp', inp), doutB = f32Buffer(gpu, 'dout', dout);
      const wB = weightBuffer(gpu, 'weight', w, N, K, 'bf16'), w32 = f32Buffer(gpu, 'weight32', w);
      const out = createStorage(gpu, 'out', M * N * 4), dinp = f32Buffer(gpu, 'dinp', prevDinp), dw = f32Buffer(gpu, 'dw', prevDw);
      const out32 = createStorage(gpu, 'out32', M * N * 4);
      await runKernels(gpu, [
        matmulForward(gpu, out, inpB, wB, M, N, K, { weightDtype: 'bf16', tile, splitK }),
        matmulForward(gpu, out32, inpB, w32, M, N, K, { tile, splitK, alpha: -0.5 }),
        matmulBackwardInput(gpu, dinp, doutB, wB, M, N, K, { weightDtype: 'bf16', accumulate: true, tile, splitK }),
        matmulBackwardWeight(gpu, dw, doutB, inpB, M, N, K, { tile, splitK }),
      ]);
      const outRef = new Float64Array(M * N), dinpRef = Float64Array.from(prevDinp), dwRef = Float64Array.from(prevDw);
      matmulForwardRef(outRef, inp, w, M, N, K);
      matmulBackwardRef(dinpRef, dwRef, dout, inp, w, M, N, K, true);
      const outAbs = new Float64Array(M * N), dinpAbs = new Float64Array(M * K), dwAbs = new Float64Array(N * K);
      matmulForwardRef(outAbs, abs(inp), abs(w), M, N, K);
      matmulBackwardRef(dinpAbs, dwAbs, abs(dout), abs(inp), abs(w), M, N, K);
      const gotOut = await readF32(gpu, out);
      expectClose('out', gotOut, outRef, tolFor(K, outAbs));
      expectClose('out (f32 weight, alpha -0.5)', await readF32(gpu, out32), outRef.map((v) => -0.5 * v), tolFor(K, outAbs));
      expectClose('dinp', await readF32(gpu, dinp), dinpRef, tolFor(N, dinpAbs));
      expectClose('dweight', await readF32(gpu, dw), dwRef, tolFor(M, dwAbs));
    });
  }

  it('batched forward with offsets, padded row strides and batch strides, f32 and packed f16 weights', async () => {
    const gpu = await getTestGpu();
    const [batch, M, N, K] = [3, 5, 7, 9];
    const rng = new Rng(5);
    // inp rows padded to 12, weight rows to 10 (even, so the f16 packing is the same layout), out rows to 8.
    const si = { off: 4, batch: 70, row: 12 }, sw = { off: 6, batch: 80, row: 10 }, so = { off: 3, batch: 50, row: 8 };
    const inp = roundF32(randomArray(rng, si.off + batch * si.batch));
    const wFlat = roundWeight(randomArray(rng, sw.off + batch * sw.batch), 'f16');
    const prev = roundF32(randomArray(rng, so.off + batch * so.batch));
    const wPacked = new Uint32Array(wFlat.length / 2);
    for (let e = 0; e < wFlat.length; e++) wPacked[e >> 1] |= (e & 1 ? toHalfBits(wFlat[e], 'f16') << 16 : toHalfBits(wFlat[e], 'f16')) >>> 0;
    const inpB = f32Buffer(gpu, 'inp', inp), w32 = f32Buffer(gpu, 'w32', wFlat), w16 = uploadBuffer(gpu, 'w16', wPacked);
    const out32 = f32Buffer(gpu, 'out32', prev), out16 = f32Buffer(gpu, 'out16', prev);
    const strides = { inpOffset: si.off, inpBatch: si.batch, inpRow: si.row, weightOffset: sw.off, weightBatch: sw.batch, weightRow: sw.row, outOffset: so.off, outBatch: so.batch, outRow: so.row };
    await runKernels(gpu, [
      matmulForward(gpu, out32, inpB, w32, M, N, K, { batch, strides, accumulate: true, alpha: 0.25 }),
      matmulForward(gpu, out16, inpB, w16, M, N, K, { batch, strides, weightDtype: 'f16', splitK: 2 }),
    ]);
    const ref32 = Float64Array.from(prev), ref16 = Float64Array.from(prev), refAbs = new Float64Array(prev.length);
    matmulForwardStridedRef(ref32, inp, wFlat, M, N, K, batch, so, si, sw, 0.25, true);
    matmulForwardStridedRef(ref16, inp, wFlat, M, N, K, batch, so, si, sw);
    matmulForwardStridedRef(refAbs, abs(inp), abs(wFlat), M, N, K, batch, so, si, sw);
    // Elements outside the strided views must keep their previous values (ref copies them unchanged).
    expectClose('batched out (f32, accumulate, alpha)', await readF32(gpu, out32), ref32, tolFor(K, refAbs));
    expectClose('batched out (f16, split-K)', await readF32(gpu, out16), ref16, tolFor(K, refAbs));
  });

  it('reports a buffer too small for the product', async () => {
    const gpu = await getTestGpu();
    const small = createStorage(gpu, 'small', 10 * 4);
    const big = createStorage(gpu, 'big', 1000 * 4);
    expect(() => matmulForward(gpu, big, small, big, 4, 4, 4)).toThrow(/A buffer 'small' holds 40 bytes/);
    expect(() => matmulForward(gpu, big, big, small, 4, 6, 3, { weightDtype: 'bf16' })).toThrow(/B buffer 'small'/);
    expect(() => gemmKernel(gpu, { label: 'x', c: big, ldc: 4, a: { buffer: big, kContig: true, ld: 4 }, b: { buffer: big, kContig: true, ld: 3, dtype: 'f16' }, M: 2, N: 2, K: 3 })).toThrow(/must be even/);
    expect(weightRowStride(45, 'bf16')).toBe(46);
  });

  it('reference backward matches finite differences', () => {
    const [M, N, K] = [4, 5, 7];
    const rng = new Rng(3);
    const inp = randomArray(rng, M * K), w = randomArray(rng, N * K), dout = randomArray(rng, M * N);
    const dinp = new Float64Array(M * K), dw = new Float64Array(N * K), tmp = new Float64Array(M * N);
    matmulBackwardRef(dinp, dw, dout, inp, w, M, N, K);
    checkGradFD('dinp', (x) => (matmulForwardRef(tmp, x, w, M, N, K), dot(tmp, dout)), inp, dinp);
    checkGradFD('dweight', (x) => (matmulForwardRef(tmp, inp, x, M, N, K), dot(tmp, dout)), w, dw);
  });
});

describe('16-bit weight packing', () => {
  it('f16 and bf16 bit patterns of known values (IEEE 754 binary16, bfloat16 = top half of binary32)', () => {
    const f16: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00], [2 ** -24, 0x0001], [2 ** -14, 0x0400], [0, 0], [-0, 0x8000],
      [1 / 3, 0x3555], [1 + 2 ** -11, 0x3c00] /* tie → even */, [1 + 3 * 2 ** -11, 0x3c02] /* tie → even (up) */, [2 ** -25, 0] /* tie → 0 */,
    ];
    for (const [x, bits] of f16) expect(toHalfBits(x, 'f16'), `f16(${x})`).toBe(bits);
    const bf16: [number, number][] = [[1, 0x3f80], [-2, 0xc000], [1 / 3, 0x3eab], [3.0e38, 0x7f62], [3.4e38, 0x7f80], [1 + 2 ** -8, 0x3f80], [1 + 3 * 2 ** -8, 0x3f82]];
    for (const [x, bits] of bf16) expect(toHalfBits(x, 'bf16'), `bf16(${x})`).toBe(bits);
  });

  it('f16 round trip is exact for every finite pattern; bf16 matches round-to-nearest-even of the f32 bits', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      if ((bits & 0x7c00) === 0x7c00) continue;
      const x = fromHalfBits(bits, 'f16');
      if (toHalfBits(x, 'f16') !== bits) expect.fail(`f16 pattern ${bits.toString(16)} → ${x} → ${toHalfBits(x, 'f16').toString(16)}`);
    }
    const rng = new Rng(11);
    const f = new Float32Array(1), u = new Uint32Array(f.buffer);
    for (let i = 0; i < 20000; i++) {
      u[0] = rng.nextU32();
      if ((u[0] & 0x7f800000) === 0x7f800000) continue; // NaN / Inf
      const rne = ((u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16) & 0xffff;
      if (toHalfBits(f[0], 'bf16') !== rne) expect.fail(`bf16 of f32 bits ${u[0].toString(16)}: got ${toHalfBits(f[0], 'bf16').toString(16)}, want ${rne.toString(16)}`);
    }
  });

  it('packWeight puts element (n,k) in word n·ceil(K/2) + k/2, even k in the low half', () => {
    const [N, K] = [2, 3];
    const p = packWeight([1, -2, 0.5, 2, 0, -1], N, K, 'bf16');
    expect(Array.from(p)).toEqual([0xc0003f80, 0x00003f00, 0x00004000, 0x0000bf80]);
  });
});
