// LoRA linear forward/backward on the GPU against the float64 reference (every weight dtype, R = 1/4/8, scale ≠ 1,
// dropout off and on, accumulate on/off, a fresh seed per step), the dropout mask placement of the generic product
// (operand a, operand b, result c; with and without split-K), the hash's statistics, and the reference backward
// against finite differences with a fixed mask.
import { describe, expect, it } from 'vitest';
import { loraBackward, loraForward, dropoutHash, dropoutThreshold } from '../../src/ops/lora.ts';
import { dropoutMaskRef, loraBackwardRef, loraForwardRef } from '../../src/ops/lora.ref.ts';
import { type WeightDtype, gemmKernel, packWeight, roundWeight, dropoutMultiplier } from '../../src/ops/matmul.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { createStorage, uploadBuffer, writeBuffer } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32, u32Buffer } from '../helpers/gpu.ts';
import { type Tol, checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';

// Tolerance, as in tests/ops/matmul.test.ts: inputs are exactly what the GPU sees, so the error is f32 rounding
// in dot products. A length-L f32 dot product is within L·2⁻²⁴·Σ|terms| of the exact value (Higham §3.1);
// Σ|terms| is the same reference run on absolute values ("mag"). Composite results add the lengths of the
// products they chain through, because an intermediate's rounding error (xa, dout·B) is scaled by the next
// product's |weights|, which mag also bounds: out L = K+R, dinp L = N+R, dB L = M (xa is the GPU's own),
// dA L = M+N. atol = (L+8)·2⁻²⁴·max mag, rtol = 2⁻²¹ for the final store/scale/accumulate. A wrong mask element
// changes a result by about |x·A| ≈ 0.1, far above these bounds.
function tolFor(L: number, mag: ArrayLike<number>): Tol {
  let mx = 0;
  for (let i = 0; i < mag.length; i++) mx = Math.max(mx, Math.abs(mag[i]));
  return { atol: (L + 8) * 2 ** -24 * mx, rtol: 2 ** -21 };
}
const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);

function weightBuffer(gpu: Gpu, w: Float64Array, N: number, K: number, dtype: WeightDtype): GPUBuffer {
  return dtype === 'f32' ? f32Buffer(gpu, 'weight', w) : uploadBuffer(gpu, 'weight', packWeight(w, N, K, dtype));
}

interface Case { dtype: WeightDtype; M: number; N: number; K: number; R: number; scale: number; p: number; salt: number; accumulate: boolean }
const cases: Case[] = [
  { dtype: 'f32', M: 37, N: 29, K: 45, R: 8, scale: 2, p: 0, salt: 0, accumulate: false },
  { dtype: 'bf16', M: 65, N: 130, K: 67, R: 1, scale: 0.5, p: 0.3, salt: 5, accumulate: true },
  { dtype: 'f16', M: 1, N: 29, K: 45, R: 8, scale: 1.5, p: 0.1, salt: 0, accumulate: false },
  // K ≥ 512: xa takes the split-K path with the mask on its A operand.
  { dtype: 'f32', M: 24, N: 20, K: 520, R: 4, scale: 1.25, p: 0.2, salt: 3, accumulate: true },
];

describe('lora linear', () => {
  for (const c of cases) {
    const { dtype, M, N, K, R, scale, p, salt, accumulate } = c;
    it(`${dtype} M=${M} N=${N} K=${K} R=${R} scale=${scale} dropout=${p} accumulate=${accumulate}`, async () => {
      const gpu = await getTestGpu();
      const rng = new Rng(M * 1000 + K);
      const inp = roundF32(randomArray(rng, M * K));
      const w = roundWeight(randomArray(rng, N * K), dtype);
      const A = roundF32(randomArray(rng, R * K)), B = roundF32(randomArray(rng, N * R));
      const dout = roundF32(randomArray(rng, M * N));
      const prevDinp = roundF32(randomArray(rng, M * K)), prevDA = roundF32(randomArray(rng, R * K)), prevDB = roundF32(randomArray(rng, N * R));

      const inpB = f32Buffer(gpu, 'inp', inp), wB = weightBuffer(gpu, w, N, K, dtype), aB = f32Buffer(gpu, 'loraA', A), bB = f32Buffer(gpu, 'loraB', B);
      const doutB = f32Buffer(gpu, 'dout', dout), seedB = u32Buffer(gpu, 'seed', [0]);
      const out = createStorage(gpu, 'out', M * N * 4), xa = createStorage(gpu, 'xa', M * R * 4), ws = createStorage(gpu, 'workspace', M * R * 4);
      const dinp = createStorage(gpu, 'dinp', M * K * 4), dA = createStorage(gpu, 'dloraA', R * K * 4), dB = createStorage(gpu, 'dloraB', N * R * 4);
      const dropout = p > 0 || c === cases[0] ? { p, seed: seedB, salt } : undefined; // case 0: p = 0 given explicitly
      const kernels = [
        loraForward(gpu, out, xa, inpB, wB, aB, bB, M, N, K, R, scale, { weightDtype: dtype, dropout }),
        loraBackward(gpu, dinp, dA, dB, ws, doutB, inpB, xa, wB, aB, bB, M, N, K, R, scale, { weightDtype: dtype, dropout, accumulate }),
      ];
      if (p === 0) expect(kernels.flatMap((k) => k.dispatches).every((d) => !d.pipeline.label.includes('dropout')), 'p = 0 runs no mask code').toBe(true);

      // Two training steps with different seeds through the same planned kernels: the mask must follow the seed
      // buffer, and forward and backward must agree on it.
      for (const seed of p > 0 ? [12345, 0xdeadbeef] : [0]) {
        writeBuffer(gpu, seedB, Uint32Array.of(seed));
        writeBuffer(gpu, dinp, Float32Array.from(prevDinp));
        writeBuffer(gpu, dA, Float32Array.from(prevDA));
        writeBuffer(gpu, dB, Float32Array.from(prevDB));
        await runKernels(gpu, kernels);

        const mask = p > 0 ? dropoutMaskRef(seed, salt, p, M, K) : null;
        const outRef = new Float64Array(M * N), xaRef = new Float64Array(M * R), outMag = new Float64Array(M * N), xaMag = new Float64Array(M * R);
        loraForwardRef(outRef, xaRef, inp, w, A, B, M, N, K, R, scale, mask);
        loraForwardRef(outMag, xaMag, abs(inp), abs(w), abs(A), abs(B), M, N, K, R, Math.abs(scale), mask);
        const xaGpu = Float64Array.from(await readF32(gpu, xa));
        expectClose(`xa (seed ${seed})`, xaGpu, xaRef, tolFor(K, xaMag));
        expectClose(`out (seed ${seed})`, await readF32(gpu, out), outRef, tolFor(K + R, outMag));

        const dinpRef = Float64Array.from(prevDinp), dARef = Float64Array.from(prevDA), dBRef = Float64Array.from(prevDB);
        loraBackwardRef(dinpRef, dARef, dBRef, dout, inp, xaGpu, w, A, B, M, N, K, R, scale, mask, accumulate);
        const dinpMag = new Float64Array(M * K), dAMag = new Float64Array(R * K), dBMag = new Float64Array(N * R);
        loraBackwardRef(dinpMag, dAMag, dBMag, abs(dout), abs(inp), abs(xaGpu), abs(w), abs(A), abs(B), M, N, K, R, Math.abs(scale), mask);
        expectClose(`dinp (seed ${seed})`, await readF32(gpu, dinp), dinpRef, tolFor(N + R, dinpMag));
        expectClose(`dloraA (seed ${seed})`, await readF32(gpu, dA), dARef, tolFor(M + N, dAMag));
        expectClose(`dloraB (seed ${seed})`, await readF32(gpu, dB), dBRef, tolFor(M, dBMag));
      }
    });
  }

  // C (M,N) = alpha·(X∘mask)·(Y∘mask)ᵀ with the mask on X (stored (M,K)), on Y (stored (K,N): not K-contiguous) or
  // on the result C (accumulated); mask element index = the element's index in its own buffer.
  for (const on of ['a', 'b', 'c'] as const) {
    for (const splitK of [1, 2]) {
      it(`generic product: dropout on ${on}, splitK=${splitK}`, async () => {
        const gpu = await getTestGpu();
        const [M, N, K, p, seed, salt, alpha] = [13, 11, 21, 0.35, 777, 9, 0.75];
        const rng = new Rng(31);
        const X = roundF32(randomArray(rng, M * K)), Y = roundF32(randomArray(rng, K * N)), prev = roundF32(randomArray(rng, M * N));
        const cB = f32Buffer(gpu, 'c', prev), seedB = u32Buffer(gpu, 'seed', [seed]);
        await runKernels(gpu, [gemmKernel(gpu, {
          label: `gemm_drop_${on}`, c: cB, ldc: N, M, N, K, alpha, accumulate: on === 'c', splitK, dropout: { on, p, seed: seedB, salt },
          a: { buffer: f32Buffer(gpu, 'x', X), kContig: true, ld: K }, b: { buffer: f32Buffer(gpu, 'y', Y), kContig: false, ld: N },
        })]);
        const mul = (e: number) => dropoutMultiplier(seed, salt, p, e);
        const ref = new Float64Array(M * N), mag = new Float64Array(M * N);
        for (let m = 0; m < M; m++) {
          for (let n = 0; n < N; n++) {
            let s = 0, sa = 0;
            for (let k = 0; k < K; k++) {
              const t = X[m * K + k] * (on === 'a' ? mul(m * K + k) : 1) * Y[k * N + n] * (on === 'b' ? mul(k * N + n) : 1);
              s += t;
              sa += Math.abs(t);
            }
            const e = m * N + n;
            const cm = on === 'c' ? mul(e) : 1;
            ref[e] = (on === 'c' ? prev[e] : 0) + alpha * s * cm;
            mag[e] = alpha * sa * cm;
          }
        }
        expectClose(`c (mask on ${on})`, await readF32(gpu, cB), ref, tolFor(K, mag));
      });
    }
  }

  it('dropout hash: keep rate 1−p, seeds and salts give unrelated masks', () => {
    const n = 200_000, p = 0.3, thr = dropoutThreshold(p);
    let kept = 0, sameSeed = 0, sameSalt = 0;
    for (let e = 0; e < n; e++) {
      const k0 = dropoutHash(1, 0, e) >= thr, k1 = dropoutHash(2, 0, e) >= thr, k2 = dropoutHash(1, 1, e) >= thr;
      kept += +k0;
      sameSeed += +(k0 === k1);
      sameSalt += +(k0 === k2);
    }
    // Binomial: σ ≤ 0.5/√n ≈ 0.0011; allow 5σ.
    const tol = 5 * 0.5 / Math.sqrt(n);
    expect(Math.abs(kept / n - (1 - p))).toBeLessThan(tol);
    const indep = p * p + (1 - p) * (1 - p); // agreement rate of two independent masks
    expect(Math.abs(sameSeed / n - indep)).toBeLessThan(tol);
    expect(Math.abs(sameSalt / n - indep)).toBeLessThan(tol);
    expect(dropoutThreshold(0)).toBe(0);
    expect(() => dropoutThreshold(1)).toThrow(/lora_dropout/);
  });

  it('reference backward matches finite differences (dropout mask fixed)', () => {
    const [M, N, K, R, scale] = [3, 4, 6, 2, 1.7];
    const rng = new Rng(9);
    const inp = randomArray(rng, M * K), w = randomArray(rng, N * K), A = randomArray(rng, R * K), B = randomArray(rng, N * R), dout = randomArray(rng, M * N);
    const mask = dropoutMaskRef(42, 1, 0.4, M, K);
    expect(mask.some((v) => v === 0) && mask.some((v) => v > 1), 'mask has dropped and kept elements').toBe(true);
    const out = new Float64Array(M * N), xa = new Float64Array(M * R);
    loraForwardRef(out, xa, inp, w, A, B, M, N, K, R, scale, mask);
    const dinp = new Float64Array(M * K), dA = new Float64Array(R * K), dB = new Float64Array(N * R);
    loraBackwardRef(dinp, dA, dB, dout, inp, xa, w, A, B, M, N, K, R, scale, mask);
    const loss = (x: Float64Array, a: Float64Array, b: Float64Array) => (loraForwardRef(out, xa, x, w, a, b, M, N, K, R, scale, mask), dot(out, dout));
    checkGradFD('dinp', (x) => loss(x, A, B), inp, dinp);
    checkGradFD('dloraA', (a) => loss(inp, a, B), A, dA);
    checkGradFD('dloraB', (b) => loss(inp, A, b), B, dB);
  });
});
