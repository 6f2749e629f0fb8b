// The subgroup-matrix GEMM's self-test (./matmul_sgmat.ts): before gemmKernel runs products on subgroup matrices by
// default on a device, a few products run there and must match a float64 reference to f32-level accuracy. The
// variant is tested on lavapipe (tests/sgmat), but matrix units differ by vendor (accumulation rounding, how f16
// subnormals are treated, a driver's cooperative-matrix compiler) and browsers differ in the WGSL they accept: a
// device that compiles it differently, mis-rounds or rejects it keeps the tiled f32 kernel, and the GPU status says
// why. Runs once per device (gpu.sgmatCheck), after the f16 tiles' self-test (the variant stages B the same way).
import { refreshEngineFeatures, checked, type Gpu } from '../gpu/device.ts';
import { flags } from '../gpu/flags.ts';
import { runKernels, destroyKernels } from '../gpu/kernel.ts';
import { readF32, uploadBuffer, createStorage } from '../gpu/buffers.ts';
import { gemmKernel, fromHalfBits } from './matmul.ts';
import { bf16ScaleRange, recordBf16Range } from './f16_tiles.ts';
import { sgmatUnavailable } from './matmul_sgmat.ts';
import { Rng } from '../util/random.ts';
import { checkF16Tiles, weightBits } from './f16_check.ts';

/** Allowed |error| of element (i, j), relative to Σ_c |A(i,c)·B(j,c)|: f32 accumulation over K terms plus the
 *  split's ~2^-22 per term. A kernel that drops the lo part (f16-accurate A) misses it by ~100×. */
export const sgmatTolerance = (K: number) => K * 2 ** -23 + 2 ** -19;

/** The GEMM variants' self-tests, once per device, in order: the f16 weight tiles, then the subgroup-matrix GEMM
 *  (which stages B the same way). Call it before planning a model's products on a new device. */
export async function checkGemmVariants(gpu: Gpu): Promise<void> {
  await checkF16Tiles(gpu);
  await checkSgmat(gpu);
}

export async function checkSgmat(gpu: Gpu): Promise<void> {
  if (gpu.sgmatCheck || flags.noSubgroupMatrix || sgmatUnavailable(gpu) !== null) return;
  // B is staged as f16 only where the f16 tiles are in use: without them the variant never runs
  if (gpu.f16Check?.ok !== true) return;
  let result: { ok: boolean; detail: string };
  try {
    result = await compare(gpu);
  } catch (e) {
    result = { ok: false, detail: `error: ${(e as Error).message}` };
  }
  gpu.sgmatCheck = result;
  refreshEngineFeatures(gpu);
  if (!result.ok) console.warn(`[gpu] subgroup-matrix GEMM not used: ${result.detail}`);
}

async function compare(gpu: Gpu): Promise<{ ok: boolean; detail: string }> {
  const rng = new Rng(0x5e4a7);
  // awkward shapes, both B layouts, bf16 with a scale ≠ 0 and f16; A rows spanning 10^-6 … 10^4
  // (f16 extremes: subnormal weights, which matrix units that flush them to zero would lose, and ±65504)
  const cases = [
    { dtype: 'bf16', M: 37, N: 70, K: 96, kContig: true, scale: 0.02, extremes: false },
    { dtype: 'bf16', M: 19, N: 24, K: 40, kContig: false, scale: 1e-5, extremes: false },
    { dtype: 'f16', M: 33, N: 48, K: 72, kContig: true, scale: 0.05, extremes: false },
    { dtype: 'f16', M: 21, N: 40, K: 64, kContig: false, scale: 1e-4, extremes: true },
  ] as const;
  let worst = 0;
  for (const c of cases) {
    const rows = c.kContig ? c.N : c.K, cols = c.kContig ? c.K : c.N;
    const bits = weightBits(rng, rows * cols, c.dtype, c.scale);
    if (c.extremes) for (let e = 0; e < bits.length; e += 5) bits[e] = [0x0003, 0x8001, 0x03ff, 0x7bff, 0xfbff, 0x0200][(e / 5) % 6];
    const b = uploadBuffer(gpu, 'sgmatcheck.b', new Uint32Array(bits.buffer, 0, bits.length / 2));
    if (c.dtype === 'bf16') recordBf16Range(b, 0, b.size, bf16ScaleRange(bits));
    const rowScale = Array.from({ length: c.M }, () => 10 ** rng.range(-6, 4));
    const A = Float32Array.from({ length: c.M * c.K }, (_, e) => rng.normal() * rowScale[Math.floor(e / c.K)]);
    const a = uploadBuffer(gpu, 'sgmatcheck.a', A);
    const out = createStorage(gpu, 'sgmatcheck.c', c.M * c.N * 4);
    const k = gemmKernel(gpu, {
      label: `sgmatcheck.${c.dtype}`, c: out, ldc: c.N, M: c.M, N: c.N, K: c.K,
      a: { buffer: a, kContig: true, ld: c.K }, b: { buffer: b, kContig: c.kContig, ld: cols, dtype: c.dtype, f16Tiles: true, sgmat: true },
    });
    try {
      await checked(gpu, 'sgmatcheck', () => runKernels(gpu, [k], 'sgmatcheck'));
      const y = await readF32(gpu, out, c.M * c.N);
      const B = Array.from(bits, (x) => fromHalfBits(x, c.dtype));
      for (let i = 0; i < c.M; i++) {
        for (let j = 0; j < c.N; j++) {
          let s = 0, sa = 0;
          for (let q = 0; q < c.K; q++) {
            const p = A[i * c.K + q] * B[c.kContig ? j * c.K + q : q * c.N + j];
            s += p;
            sa += Math.abs(p);
          }
          const err = Math.abs(y[i * c.N + j] - s);
          if (!(err <= sgmatTolerance(c.K) * sa))
            return { ok: false, detail: `${c.dtype} ${c.M}×${c.N}×${c.K}: element (${i}, ${j}) is ${y[i * c.N + j]}, float64 says ${s}` };
          if (sa > 0) worst = Math.max(worst, err / sa);
        }
      }
    } finally {
      destroyKernels([k]);
      for (const buf of [a, b, out]) buf.destroy();
    }
  }
  return { ok: true, detail: `${cases.length} products within f32 accuracy of float64 (worst ${worst.toExponential(1)} of Σ|ab|)` };
}
