// The f16 weight tiles' self-test (shaders/matmul.wgsl `// #if F16`, ./f16_tiles.ts): before the GEMM stages any
// weight tile as f16 by default on a device, it runs a few products both ways on that device and requires the same
// bits. The variant is bit-identical by construction and tested on lavapipe (tests/f16), but it has not met every
// driver: a driver that widens f16 differently, flushes f16 subnormals or mis-compiles the variant is caught here, and
// the engine then keeps the f32 tiles (the GPU status says why). Runs once per device (gpu.f16Check).
import type { Gpu } from '../gpu/device.ts';
import { flags } from '../gpu/flags.ts';
import { refreshEngineFeatures } from '../gpu/device.ts';
import { runKernels, destroyKernels } from '../gpu/kernel.ts';
import { readF32, uploadBuffer, createStorage } from '../gpu/buffers.ts';
import { gemmKernel, type WeightDtype } from './matmul.ts';
import { bf16ScaleRange, recordBf16Range } from './f16_tiles.ts';
import { Rng } from '../util/random.ts';

/** bf16 and f16 bits of random weights ~ N(0, scale) (round toward zero: any bits will do, the test is A/B). */
export function weightBits(rng: Rng, n: number, dtype: 'bf16' | 'f16', scale: number): Uint16Array {
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  return Uint16Array.from({ length: n }, () => {
    f[0] = rng.normal() * scale;
    if (dtype === 'bf16') return u[0] >>> 16;
    // f16 of a normal value in range (|x| < 1: exponent fits), truncated mantissa
    const e = ((u[0] >>> 23) & 0xff) - 127 + 15;
    return e <= 0 ? (u[0] >>> 16) & 0x8000 : ((u[0] >>> 16) & 0x8000) | (e << 10) | ((u[0] >>> 13) & 0x3ff);
  });
}

/** Runs the self-test once on `gpu` (no-op without shader-f16 or with flag noF16) and records it in gpu.f16Check
 *  and the GPU status. Never throws for a failed comparison: the engine then stays on f32 tiles. */
export async function checkF16Tiles(gpu: Gpu): Promise<void> {
  if (gpu.f16Check || !gpu.hasF16 || flags.noF16) return;
  let result: { ok: boolean; detail: string };
  try {
    result = await compareTiles(gpu);
  } catch (e) {
    result = { ok: false, detail: `error: ${(e as Error).message}` };
  }
  gpu.f16Check = result;
  refreshEngineFeatures(gpu);
  if (!result.ok) console.warn(`[gpu] shader-f16 weight tiles not used: ${result.detail}`);
}

async function compareTiles(gpu: Gpu): Promise<{ ok: boolean; detail: string }> {
  const rng = new Rng(0xf16);
  // awkward shapes, both B layouts, bf16 with a scale ≠ 0 (tiny weights) and f16
  const cases: { dtype: WeightDtype & ('bf16' | 'f16'); M: number; N: number; K: number; kContig: boolean; scale: number }[] = [
    { dtype: 'bf16', M: 37, N: 70, K: 96, kContig: true, scale: 0.02 },
    { dtype: 'bf16', M: 19, N: 24, K: 40, kContig: false, scale: 1e-5 },
    { dtype: 'f16', M: 33, N: 48, K: 72, kContig: true, scale: 0.05 },
  ];
  for (const c of cases) {
    const rows = c.kContig ? c.N : c.K, cols = c.kContig ? c.K : c.N;
    const bits = weightBits(rng, rows * cols, c.dtype, c.scale);
    const b = uploadBuffer(gpu, 'f16check.b', new Uint32Array(bits.buffer, 0, bits.length / 2));
    if (c.dtype === 'bf16') recordBf16Range(b, 0, b.size, bf16ScaleRange(bits));
    const a = uploadBuffer(gpu, 'f16check.a', Float32Array.from({ length: c.M * c.K }, () => rng.normal()));
    const out = [createStorage(gpu, 'f16check.c0', c.M * c.N * 4), createStorage(gpu, 'f16check.c1', c.M * c.N * 4)];
    const ks = [false, true].map((f16Tiles, i) => gemmKernel(gpu, {
      label: `f16check.${c.dtype}`, c: out[i], ldc: c.N, M: c.M, N: c.N, K: c.K,
      a: { buffer: a, kContig: true, ld: c.K }, b: { buffer: b, kContig: c.kContig, ld: cols, dtype: c.dtype, f16Tiles, sgmat: false },
    }));
    try {
      await runKernels(gpu, ks, 'f16check');
      const [x, y] = await Promise.all(out.map((o) => readF32(gpu, o, c.M * c.N)));
      const xb = new Uint32Array(x.buffer), yb = new Uint32Array(y.buffer);
      for (let i = 0; i < xb.length; i++) {
        if (xb[i] !== yb[i]) return { ok: false, detail: `${c.dtype} ${c.M}×${c.N}×${c.K}: element ${i} is ${y[i]} with f16 tiles, ${x[i]} with f32 tiles` };
      }
    } finally {
      destroyKernels(ks);
      for (const buf of [a, b, ...out]) buf.destroy();
    }
  }
  return { ok: true, detail: `bit-identical on ${cases.length} products` };
}
