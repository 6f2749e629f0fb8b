// The GEMM's shader-f16 variant (shaders/matmul.wgsl `// #if F16`: 16-bit weight tiles staged as f16 in workgroup
// memory, src/ops/f16_tiles.ts) against a float64 reference and bit for bit against the f32-staged variant, on
// adapters that offer shader-f16; the gating (when the variant is chosen, refused, or not available) everywhere.
// npm test runs this file twice: in the main pass (SwiftShader on a machine without a GPU: no shader-f16, so the f16
// cases say so and are skipped, the gating cases run) and on lavapipe (tools/lavapipe.mjs), which offers shader-f16.
import { checkF16Tiles } from '../../src/ops/f16_check.ts';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type GemmEpilogue, type TileConfig, TILES, fromHalfBits, gemmKernel, tileSharedBytes, toHalfBits } from '../../src/ops/matmul.ts';
import { type F16ScaleRange, bf16ScaleRange, bf16TileScale, pickScale, recordBf16Range } from '../../src/ops/f16_tiles.ts';
import { runKernels, type Kernel } from '../../src/gpu/kernel.ts';
import { setFlags } from '../../src/gpu/flags.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { adapterName, gpuForVariant } from '../helpers/variants.ts';
import { expectClose } from '../helpers/check.ts';

type Dt = 'f16' | 'bf16';
/** How B's values are drawn: plain U(-1,1); tiny (×2^-30: bf16 needs s > 0) or huge (×2^20: s < 0) magnitudes;
 *  f16 extremes (subnormals, ±65504); a bf16 spread no single scale fits (stays on the f32 tiles). */
type Values = 'plain' | 'tiny' | 'huge' | 'extremes' | 'spread';

const bitsOf = (x: number, dt: Dt) => toHalfBits(x, dt);

function drawB(rng: Rng, n: number, dt: Dt, kind: Values): number[] {
  return Array.from({ length: n }, (_, e) => {
    let x = rng.range(-1, 1);
    if (kind === 'tiny') x *= 2 ** -30;
    if (kind === 'huge') x *= 2 ** 20;
    if (kind === 'extremes' && e % 5 === 0) x = [65504, -65504, 3 * 2 ** -24, -(2 ** -24), 1023 * 2 ** -24, 2 ** -14][(e / 5) % 6];
    if (kind === 'spread' && e % 7 === 0) x = e % 2 ? 3 * 2 ** -40 : 2 ** 12;
    return fromHalfBits(bitsOf(x, dt), dt);
  });
}

function pack(v: number[], dt: Dt): Uint32Array {
  const out = new Uint32Array(Math.ceil(v.length / 2));
  v.forEach((x, e) => (out[e >> 1] |= (e & 1 ? bitsOf(x, dt) << 16 : bitsOf(x, dt)) >>> 0));
  return out;
}

interface Case {
  dt: Dt; values: Values; M: number; N: number; K: number;
  /** B c-contiguous (forward, W (N,K)) or j-contiguous (backward-input, W read as (K,N)). */
  bK: boolean;
  tile: TileConfig; splitK?: number; alpha?: number; accumulate?: boolean; lora?: boolean;
}

/** vec4 loads (4 packed words: the f16 bitcast staging), layouts and dtype from the uniform (one pipeline for both
 * dtypes; as constants they only fold branches away); no register prefetch (it only moves the same loads
 * earlier, and costs ~30 s of compile per pipeline on lavapipe). */
const SMALL: TileConfig = { wgM: 4, wgN: 4, tm: 4, tn: 4, bk: 8, vector: true, prefetch: false, specialize: false };
/** Scalar loads, layouts and B's dtype read from the uniform: one pipeline for every layout and dtype. */
const DYN: TileConfig = { wgM: 4, wgN: 4, tm: 4, tn: 4, bk: 8, vector: false, prefetch: false, specialize: false };

const pipelineOf = (k: Kernel) => k.dispatches[0].pipeline.label;

/**
 * Runs the case twice, f16 tiles (required) and f32 tiles, on the same inputs; checks the f16 result against the
 * float64 reference and bit for bit against the f32-staged one. Returns the scale exponent used (bf16).
 */
async function runCase(gpu: Gpu, cs: Case, seed: number): Promise<number | null> {
  const { dt, M, N, K, bK } = cs;
  const rng = new Rng(seed);
  const [bRows, bCols] = bK ? [N, K] : [K, N];
  const ldb = 8 * Math.ceil(bCols / 8) + 8; // packed rows padded to whole vec4s of words (the vec4 loads)
  const offB = 8; // 16-bit elements
  const B = drawB(rng, bRows * bCols, dt, cs.values);
  const stored = new Array<number>(offB + bRows * ldb).fill(0);
  for (let r = 0; r < bRows; r++) for (let c = 0; c < bCols; c++) stored[offB + r * ldb + c] = B[r * bCols + c];
  const bBuf = uploadBuffer(gpu, 'b', pack(stored, dt));
  if (dt === 'bf16') {
    const u16 = new Uint16Array(stored.map((x) => bitsOf(x, dt)));
    recordBf16Range(bBuf, 0, bBuf.size, bf16ScaleRange(u16));
  }
  const lda = K + 3 + ((K + 3) % 4 ? 4 - ((K + 3) % 4) : 0), offA = 4, ldc = N + 1, offC = 3; // A rows vec4-aligned
  const Avals = Array.from({ length: offA + M * lda }, () => Math.fround(rng.range(-1, 1)));
  const prev = Array.from({ length: offC + M * ldc }, () => Math.fround(rng.range(-1, 1)));
  const R = 3;
  const X = Array.from({ length: M * R }, () => Math.fround(rng.range(-1, 1)));
  const Y = Array.from({ length: N * R }, () => Math.fround(rng.range(-1, 1)));
  const scale = 0.625;
  const aBuf = f32Buffer(gpu, 'a', Avals);
  const xBuf = f32Buffer(gpu, 'x', X), yBuf = f32Buffer(gpu, 'y', Y);
  const run = async (f16Tiles: boolean): Promise<{ out: Float32Array; pipeline: string }> => {
    const cBuf = f32Buffer(gpu, 'c', prev);
    const epilogue: GemmEpilogue | undefined = cs.lora ? { lowRank: { x: xBuf, ldx: R, y: yBuf, yJ: R, yR: 1, R, scale } } : undefined;
    const k = gemmKernel(gpu, {
      label: `f16 ${dt} ${cs.values}`, c: cBuf, ldc, cOffset: offC, M, N, K,
      a: { buffer: aBuf, kContig: true, ld: lda, offset: offA },
      b: { buffer: bBuf, kContig: bK, ld: ldb, offset: offB, dtype: dt, f16Tiles },
      alpha: cs.alpha, accumulate: cs.accumulate, tile: cs.tile, splitK: cs.splitK ?? 1, epilogue,
    });
    await runKernels(gpu, [k]);
    const out = await readF32(gpu, cBuf);
    cBuf.destroy();
    return { out, pipeline: pipelineOf(k) };
  };
  const t0 = performance.now();
  const f16 = await run(true);
  const t1 = performance.now();
  const f32 = await run(false);
  if (process.env.F16_TEST_TIMES) console.log(`${dt} ${cs.values} M=${M} N=${N} K=${K}: f16 ${(t1 - t0).toFixed(0)} ms, f32 ${(performance.now() - t1).toFixed(0)} ms`);
  expect(f16.pipeline).toMatch(/^matmul\+f16:/);
  expect(f32.pipeline).toMatch(/^matmul:/);

  // float64 reference: C = alpha·Σ_c A(i,c)·B(j,c) [+ scale·Σ_r X·Y] [+ prev]
  const alpha = cs.alpha ?? 1;
  const ref = Float64Array.from(prev);
  let bound = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0, sa = 0;
      for (let c = 0; c < K; c++) {
        const p = Avals[offA + i * lda + c] * B[bK ? j * K + c : c * N + j];
        s += p; sa += Math.abs(p);
      }
      let v = alpha * s, va = Math.abs(alpha) * sa;
      if (cs.lora) for (let r = 0; r < R; r++) { v += scale * X[i * R + r] * Y[j * R + r]; va += scale * Math.abs(X[i * R + r] * Y[j * R + r]); }
      const e = offC + i * ldc + j;
      ref[e] = (cs.accumulate ? ref[e] : 0) + v;
      bound = Math.max(bound, va + (cs.accumulate ? Math.abs(prev[e]) : 0));
    }
  }
  const name = `${dt} ${cs.values} ${bK ? 'kk' : 'kt'} M=${M} N=${N} K=${K}${cs.splitK ? ` splitK=${cs.splitK}` : ''}`;
  // The bound of tests/ops/matmul.test.ts: (L+8)·2⁻²⁴·max Σ|ab| absolute, 2⁻²¹ relative (L = K + R).
  expectClose(`${name} (f16 tiles vs float64)`, f16.out, ref, { atol: (K + R + 8) * 2 ** -24 * bound, rtol: 2 ** -21 });
  const a = new Uint32Array(f16.out.buffer), b = new Uint32Array(f32.out.buffer);
  const diff = a.findIndex((x, e) => x !== b[e]);
  expect(diff, `${name}: f16 tiles differ from f32 tiles at element ${diff}: ${f16.out[diff]} vs ${f32.out[diff]}`).toBe(-1);
  for (const buf of [aBuf, bBuf, xBuf, yBuf]) buf.destroy();
  return dt === 'bf16' ? bf16TileScale(bBuf) : null;
}

describe('shader-f16 on this adapter', () => {
  it('says plainly what this adapter offers (shader-f16, subgroup matrices)', async () => {
    const gpu = await getTestGpu();
    const name = adapterName(gpu);
    console.log(gpu.hasF16
      ? `shader-f16 offered by this adapter (${name}): the GEMM's f16 weight tiles are tested here`
      : `shader-f16 not offered by this adapter (${name}): f16 variant not tested here`);
    const sm = gpu.info.engine.find((f) => f.name === 'subgroup matrices')!;
    console.log(gpu.info.subgroupMatrixConfigs?.length
      ? `subgroup matrices offered by this adapter (${name}): ${sm.detail} (tested in tests/sgmat)`
      : `subgroup matrices not offered by this adapter (${name}): the subgroup-matrix GEMM is not tested here (tests/sgmat says why)`);
    // the GEMM uses f16 tiles by default only after the device's self-test (src/ops/f16_check.ts) passed
    await checkF16Tiles(gpu);
    const f16 = gpu.info.engine.find((f) => f.name === 'shader-f16')!;
    expect(f16.using).toBe(gpu.hasF16);
    if (gpu.hasF16) {
      console.log(`f16 weight tiles self-test on ${name}: ${gpu.f16Check!.detail}`);
      expect(gpu.f16Check).toEqual({ ok: true, detail: 'bit-identical on 3 products' });
    } else expect(gpu.f16Check).toBeUndefined();
    if (process.env.REWARD_STUDIO_EXPECT_F16) expect(gpu.hasF16, `REWARD_STUDIO_EXPECT_F16: ${name} should offer shader-f16`).toBe(true);
  });
});

describe('f16 weight tiles: gating (every adapter)', () => {
  it('bf16ScaleRange: which powers of two make every bf16 value an exact f16', () => {
    const u16 = (xs: number[]) => Uint16Array.from(xs, (x) => toHalfBits(x, 'bf16'));
    // 1 and 0.5: top 2^0, lsb 2^-1 → s ∈ [-23, 15]; zeros ignored
    expect(bf16ScaleRange(u16([1, 0.5, 0, -0]))).toEqual({ lo: -23, hi: 15 });
    // 2^-24 is f16's smallest subnormal: s ≥ 0; 3·2^-25 (top 2^-24, lsb 2^-25) needs s ≥ 1
    expect(bf16ScaleRange(u16([2 ** -24]))).toEqual({ lo: 0, hi: 39 });
    expect(bf16ScaleRange(u16([3 * 2 ** -25]))).toEqual({ lo: 1, hi: 39 });
    // 255·2^8 = 65280 (8 significant bits, top 2^15): fits as is; 2^16 needs s ≤ -1
    expect(bf16ScaleRange(u16([65280]))).toEqual({ lo: -32, hi: 0 });
    expect(bf16ScaleRange(u16([2 ** 16, 1]))).toEqual({ lo: -24, hi: -1 });
    // a bf16 subnormal (2^-133) with a normal 1: 2^-133·2^s ≥ 2^-24 needs s ≥ 109, 1·2^s ≤ 2^15 needs s ≤ 15: none
    expect(bf16ScaleRange(Uint16Array.of(0x0001, toHalfBits(1, 'bf16')))).toBe('none');
    expect(bf16ScaleRange(Uint16Array.of(0x7f80))).toBe('none'); // +inf
    expect(bf16ScaleRange(Uint16Array.of(0x7fc0))).toBe('none'); // NaN
    // chunks narrow the range as the loader streams them
    const r1 = bf16ScaleRange(u16([2 ** -30])) as F16ScaleRange;
    expect(r1).toEqual({ lo: 6, hi: 40 });
    expect(bf16ScaleRange(u16([2 ** 10]), r1)).toBe('none'); // needs s ≤ 5
    expect(bf16ScaleRange(u16([1]), 'none')).toBe('none');
    expect(bf16ScaleRange(u16([2 ** 8]), r1)).toEqual({ lo: 6, hi: 7 });
    expect(pickScale({ lo: -3, hi: 5 })).toBe(0);
    expect(pickScale({ lo: 6, hi: 7 })).toBe(6);
    expect(pickScale({ lo: -9, hi: -2 })).toBe(-2);
    // the exactness claim itself, value by value: x·2^s survives f16 round trips for every s of the range
    for (const x of [1.5, 3 * 2 ** -25, 65280, -(2 ** -20) * 255 / 128]) {
      const r = bf16ScaleRange(u16([x])) as F16ScaleRange;
      for (const s of [r.lo, r.hi]) expect(fromHalfBits(toHalfBits(x * 2 ** s, 'f16'), 'f16')).toBe(x * 2 ** s);
      expect(fromHalfBits(toHalfBits(x * 2 ** (r.lo - 1), 'f16'), 'f16') === x * 2 ** (r.lo - 1) && r.lo > -40).toBe(false);
    }
  });

  it('bf16TileScale: a product over recorded tensors intersects their ranges; gaps and unfit tensors → null', async () => {
    const gpu = await getTestGpu();
    const buf = gpu.device.createBuffer({ label: 'frozen', size: 64, usage: GPUBufferUsage.STORAGE });
    expect(bf16TileScale(buf)).toBeNull(); // nothing recorded
    recordBf16Range(buf, 0, 16, { lo: -3, hi: 10 });
    recordBf16Range(buf, 16, 16, { lo: 2, hi: 12 });
    expect(bf16TileScale({ buffer: buf, offset: 0, size: 16 })).toBe(0);
    expect(bf16TileScale({ buffer: buf, offset: 0, size: 32 })).toBe(2); // q|k spans intersect to [2, 10]
    expect(bf16TileScale({ buffer: buf, offset: 0, size: 48 })).toBeNull(); // bytes 32–48 never recorded
    recordBf16Range(buf, 32, 32, 'none');
    expect(bf16TileScale({ buffer: buf, offset: 16, size: 48 })).toBeNull();
    recordBf16Range(buf, 32, 32, { lo: 11, hi: 20 }); // re-recorded (a new load)
    expect(bf16TileScale({ buffer: buf, offset: 16, size: 48 })).toBe(11);
    expect(bf16TileScale(buf)).toBeNull(); // [-3,10] ∩ [11,20] is empty
    buf.destroy();
  });

  it('the variant is chosen only where it can run; f16 tiles take half of B\'s workgroup bytes', async () => {
    const gpu = await getTestGpu();
    await checkF16Tiles(gpu);
    // the tiled kernel's gating: products with f16-staged B would otherwise run on subgroup matrices where their
    // self-test passed (tests/sgmat, same worker on lavapipe 26)
    setFlags({ noSubgroupMatrix: true });
    onTestFinished(() => setFlags({ noSubgroupMatrix: false }));
    expect(tileSharedBytes(TILES.big)).toBe(2 * 16 * (33 + 17) * 16);
    expect(tileSharedBytes(TILES.big, true)).toBe(2 * 16 * (33 * 16 + 17 * 8));
    const a = f32Buffer(gpu, 'a', new Float32Array(8 * 8));
    const b16 = uploadBuffer(gpu, 'b16', new Uint32Array(8 * 4));
    const c = f32Buffer(gpu, 'c', new Float32Array(64));
    const plan = (dtype: 'f16' | 'bf16' | 'f32', f16Tiles?: boolean) => gemmKernel(gpu, {
      label: 'gate', c, ldc: 8, M: 8, N: 8, K: 8, a: { buffer: a, kContig: true, ld: 8 }, b: { buffer: dtype === 'f32' ? a : b16, kContig: true, ld: 8, dtype, f16Tiles },
    });
    expect(() => plan('f32', true)).toThrow(/f16 tiles were requested for an f32 B/);
    expect(pipelineOf(plan('f16', false))).toMatch(/^matmul:/);
    if (!gpu.hasF16) {
      console.log(`shader-f16 not offered by this adapter (${adapterName(gpu)}): the GEMM plans the f32 tiles, and a request for f16 tiles fails`);
      expect(pipelineOf(plan('f16'))).toMatch(/^matmul:/);
      expect(() => plan('f16', true)).toThrow(/no 'shader-f16' feature/);
    } else {
      expect(pipelineOf(plan('f16'))).toMatch(/^matmul\+f16:/);
      expect(pipelineOf(plan('bf16'))).toMatch(/^matmul:/); // bf16 bytes never checked: f32 tiles
      expect(() => plan('bf16', true)).toThrow(/not recorded as exact in f16/);
      recordBf16Range(b16, 0, b16.size, { lo: 0, hi: 15 });
      expect(pipelineOf(plan('bf16'))).toMatch(/^matmul\+f16:/);
      setFlags({ noF16: true });
      try {
        expect(pipelineOf(plan('f16'))).toMatch(/^matmul:/);
      } finally {
        setFlags({ noF16: false });
      }
      // a device whose self-test failed keeps the f32 tiles by default (an explicit request still gets f16 tiles)
      const passed = gpu.f16Check;
      gpu.f16Check = { ok: false, detail: 'simulated' };
      try {
        expect(pipelineOf(plan('f16'))).toMatch(/^matmul:/);
        expect(pipelineOf(plan('f16', true))).toMatch(/^matmul\+f16:/);
      } finally {
        gpu.f16Check = passed;
      }
    }
    for (const x of [a, b16, c]) x.destroy();
  });
});

describe('f16 weight tiles: float64 reference and bit-identity with the f32 tiles (adapters with shader-f16)', () => {
  // Few pipelines (a cold compile of this kernel takes 5–20 s on lavapipe): most cases share the scalar tile whose
  // layouts and dtype are uniforms (DYN), the vec4 / register-prefetch / specialised variant runs once per dtype.
  it('f16 weights: awkward shapes, both B layouts, extremes (subnormals, ±65504), vec4 loads of packed words', async (ctx) => {
    const gpu = await gpuForVariant(ctx, { f16: true });
    await runCase(gpu, { dt: 'f16', values: 'plain', M: 37, N: 29, K: 45, bK: true, tile: DYN }, 1);
    await runCase(gpu, { dt: 'f16', values: 'extremes', M: 19, N: 35, K: 21, bK: false, tile: DYN, accumulate: true, alpha: -0.75 }, 2);
    await runCase(gpu, { dt: 'f16', values: 'plain', M: 1, N: 3, K: 1, bK: true, tile: DYN }, 3);
    await runCase(gpu, { dt: 'f16', values: 'extremes', M: 33, N: 17, K: 63, bK: true, tile: SMALL, accumulate: true }, 4);
  });

  it('bf16 weights: as they are (s = 0), tiny (s > 0) and huge (s < 0) values; split-K; the LoRA epilogue', async (ctx) => {
    const gpu = await gpuForVariant(ctx, { f16: true });
    expect(await runCase(gpu, { dt: 'bf16', values: 'plain', M: 37, N: 29, K: 45, bK: true, tile: DYN, lora: true }, 11)).toBe(0);
    expect(await runCase(gpu, { dt: 'bf16', values: 'tiny', M: 17, N: 33, K: 127, bK: true, tile: DYN, splitK: 3, alpha: 0.5 }, 12)).toBeGreaterThan(0);
    expect(await runCase(gpu, { dt: 'bf16', values: 'huge', M: 21, N: 19, K: 33, bK: false, tile: DYN, accumulate: true, lora: true }, 13)).toBeLessThan(0);
    expect(await runCase(gpu, { dt: 'bf16', values: 'tiny', M: 65, N: 66, K: 19, bK: false, tile: SMALL }, 14)).toBeGreaterThan(0);
  });

  it('a bf16 tensor no scale fits stays on the f32 tiles by default (and refuses f16 tiles)', async (ctx) => {
    const gpu = await gpuForVariant(ctx, { f16: true });
    const rng = new Rng(31);
    const vals = drawB(rng, 16 * 8, 'bf16', 'spread');
    const b = uploadBuffer(gpu, 'spread', pack(vals, 'bf16'));
    recordBf16Range(b, 0, b.size, bf16ScaleRange(Uint16Array.from(vals, (x) => toHalfBits(x, 'bf16'))));
    expect(bf16TileScale(b)).toBeNull();
    const a = f32Buffer(gpu, 'a', new Float32Array(4 * 8)), c = f32Buffer(gpu, 'c', new Float32Array(4 * 16));
    const plan = (f16Tiles?: boolean) => gemmKernel(gpu, { label: 'spread', c, ldc: 16, M: 4, N: 16, K: 8, a: { buffer: a, kContig: true, ld: 8 }, b: { buffer: b, kContig: true, ld: 8, dtype: 'bf16', f16Tiles } });
    expect(pipelineOf(plan())).toMatch(/^matmul:/);
    expect(() => plan(true)).toThrow(/not recorded as exact in f16/);
    for (const x of [a, b, c]) x.destroy();
  });
});
