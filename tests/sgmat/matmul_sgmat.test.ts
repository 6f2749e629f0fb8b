// The GEMM on subgroup matrices (src/ops/matmul_sgmat.ts, shaders/matmul_sgmat.wgsl): f16 matrix products with A split
// into two f16 parts, against a float64 reference at awkward shapes (both B layouts, f16 and bf16 weights with and
// without a scale, A rows spanning 10^-20 … 10^6, non-finite rows) and against the tiled f32 kernel for everything the
// store and loads share (split-K, batches, the LoRA/residual epilogue, the SwiGLU prologue and backward store, dropout
// on A and C with a row map); the gating everywhere.
// npm test runs this directory on lavapipe 26 (tools/lavapipe.mjs), which offers chromium-experimental-subgroup-matrix
// (f16→f32 8×8×8, subgroup size 8); on an adapter without it (SwiftShader) the variant cases say so and are skipped,
// unless REWARD_STUDIO_EXPECT_SGMAT=1 makes that a failure.
import { describe, expect, it, type TestContext } from 'vitest';
import { gemmKernel, fromHalfBits, toHalfBits, type Gemm, type GemmEpilogue } from '../../src/ops/matmul.ts';
import { sgmatBlock, sgmatTile, sgmatUnavailable } from '../../src/ops/matmul_sgmat.ts';
import { sgmatTolerance } from '../../src/ops/sgmat_check.ts';
import { checkGemmVariants } from '../../src/ops/sgmat_check.ts';
import { bf16ScaleRange, recordBf16Range } from '../../src/ops/f16_tiles.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { setFlags } from '../../src/gpu/flags.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { uploadBuffer } from '../../src/gpu/buffers.ts';
import { chooseSgmatConfig } from '../../src/gpu/features.ts';
import { type TuneChoice, autotuneGemm, candidates, clearGemmTuning, loadGemmTuning, parseChoice } from '../../src/ops/matmul_tune.ts';
import { shapeClass } from '../../src/ops/matmul.ts';
import { Rng } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, u32Buffer, readF32 } from '../helpers/gpu.ts';
import { adapterName } from '../helpers/variants.ts';

type Dt = 'f16' | 'bf16';
const told = new Set<string>();

/** The test GPU when it can run the variant; else says so (once) and skips, or fails under REWARD_STUDIO_EXPECT_SGMAT. */
async function sgmatGpu(ctx: TestContext): Promise<Gpu> {
  const gpu = await getTestGpu();
  await checkGemmVariants(gpu);
  const why = sgmatUnavailable(gpu);
  if (why) {
    const line = `subgroup-matrix GEMM not tested on this adapter (${adapterName(gpu)}): ${why}`;
    if (process.env.REWARD_STUDIO_EXPECT_SGMAT) throw new Error(`${line}, but REWARD_STUDIO_EXPECT_SGMAT says this adapter should offer it`);
    if (!told.has(line)) console.log(line);
    told.add(line);
    ctx.skip(line);
  }
  return gpu;
}

const bitsOf = (x: number, dt: Dt) => toHalfBits(x, dt);

/** A 16-bit weight buffer holding `vals` (rows × cols, row stride ld even, offset off elements), recorded for bf16. */
function weightBuffer(gpu: Gpu, vals: number[], rows: number, cols: number, ld: number, off: number, dt: Dt): GPUBuffer {
  const n = off + rows * ld;
  const u16 = new Uint16Array(n + (n % 2));
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) u16[off + r * ld + c] = bitsOf(vals[r * cols + c], dt);
  const buf = uploadBuffer(gpu, `w.${dt}`, new Uint32Array(u16.buffer));
  if (dt === 'bf16') recordBf16Range(buf, 0, buf.size, bf16ScaleRange(u16));
  return buf;
}

/** B values as stored (rounded to dt): U(-1,1)·mag. */
function drawB(rng: Rng, n: number, dt: Dt, mag: number): number[] {
  return Array.from({ length: n }, () => fromHalfBits(bitsOf(rng.range(-1, 1) * mag, dt), dt));
}

/** A values (f32): each row i scaled by rowMag(i). */
function drawA(rng: Rng, M: number, K: number, rowMag: (i: number) => number): Float32Array {
  return Float32Array.from({ length: M * K }, (_, e) => rng.range(-1, 1) * rowMag(Math.floor(e / K)));
}

interface Basic {
  dt: Dt; M: number; N: number; K: number; bK: boolean;
  bMag?: number; rowMag?: (i: number) => number; alpha?: number; accumulate?: boolean; lora?: boolean; residual?: boolean;
  /** Offsets and strides that allow vec4 loads of A and 4-word (8-value) loads of B (and so the register prefetch). */
  aligned?: boolean;
  /** f16 B with subnormals and ±65504 among its values (matrix units that flush subnormals would lose them). */
  extremes?: boolean;
}

/** Runs a product on subgroup matrices and checks it against float64: |err| ≤ tol(K)·Σ|ab| (+ the epilogue's f32 terms). */
async function basicCase(gpu: Gpu, cs: Basic, seed: number): Promise<void> {
  const { dt, M, N, K, bK } = cs;
  const rng = new Rng(seed);
  const [bRows, bCols] = bK ? [N, K] : [K, N];
  const ldb = cs.aligned ? 8 * Math.ceil(bCols / 8) + 8 : 2 * Math.ceil(bCols / 2) + 2, offB = cs.aligned ? 8 : 2;
  const B = drawB(rng, bRows * bCols, dt, cs.bMag ?? 1);
  if (cs.extremes) for (let e = 0; e < B.length; e += 5) B[e] = [3 * 2 ** -24, -(2 ** -24), 1023 * 2 ** -24, 65504, -65504, 2 ** -15][(e / 5) % 6];
  const Bof = (j: number, c: number) => (bK ? B[j * K + c] : B[c * N + j]);
  const lda = cs.aligned ? 4 * Math.ceil(K / 4) + 4 : K + 3, offA = cs.aligned ? 4 : 5, ldc = N + 2, offC = 1;
  const A = drawA(rng, M, K, cs.rowMag ?? (() => 1));
  const Abuf = new Float32Array(offA + M * lda);
  for (let i = 0; i < M; i++) Abuf.set(A.subarray(i * K, (i + 1) * K), offA + i * lda);
  const prev = Float32Array.from({ length: offC + M * ldc }, () => rng.range(-1, 1));
  const R = 3, X = Float32Array.from({ length: M * 2 * R }, () => rng.range(-1, 1)), Y = Float32Array.from({ length: N * R }, () => rng.range(-1, 1));
  const res = Float32Array.from({ length: M * N }, () => rng.range(-1, 1));
  const g1 = Math.floor(N / 2);
  const epilogue: GemmEpilogue = {
    ...(cs.lora ? { lowRank: { x: f32Buffer(gpu, 'x', X), ldx: 2 * R, y: f32Buffer(gpu, 'y', Y), yJ: R, yR: 1, R, scale: 0.75, groups: [g1, 0xffffffff] as [number, number] } } : {}),
    ...(cs.residual ? { residual: { buffer: f32Buffer(gpu, 'res', res), ld: N } } : {}),
  };
  const cBuf = f32Buffer(gpu, 'c', prev);
  const k = gemmKernel(gpu, {
    label: `sgmat ${dt}`, c: cBuf, ldc, cOffset: offC, M, N, K, alpha: cs.alpha, accumulate: cs.accumulate, epilogue,
    a: { buffer: f32Buffer(gpu, 'a', Abuf), kContig: true, ld: lda, offset: offA },
    b: { buffer: weightBuffer(gpu, B, bRows, bCols, ldb, offB, dt), kContig: bK, ld: ldb, offset: offB, dtype: dt, sgmat: true },
  });
  expect(k.dispatches[0].pipeline.label).toMatch(/^matmul\+sgmat:matmul_sgmat\[/);
  if (cs.aligned) expect(k.dispatches[0].pipeline.label).toMatch(/UA=4,UB=8\b/); // the vector loads and prefetch ran
  await runKernels(gpu, [k]);
  const out = await readF32(gpu, cBuf);
  const alpha = cs.alpha ?? 1;
  const tol = sgmatTolerance(K);
  let bad = '';
  let worst = 0;
  for (let i = 0; i < M && !bad; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0, sa = 0;
      for (let c = 0; c < K; c++) { const p = A[i * K + c] * Bof(j, c); s += p; sa += Math.abs(p); }
      let v = alpha * s, extra = 0;
      if (cs.lora) {
        let t = 0;
        for (let r = 0; r < R; r++) { const p = X[i * 2 * R + (j >= g1 ? R : 0) + r] * Y[j * R + r]; t += p; extra += Math.abs(p); }
        v += 0.75 * t;
      }
      if (cs.residual) { v += res[i * N + j]; extra += Math.abs(res[i * N + j]); }
      const e = offC + i * ldc + j;
      if (cs.accumulate) { v += prev[e]; extra += Math.abs(prev[e]); }
      const lim = tol * Math.abs(alpha) * sa + (R + 8) * 2 ** -24 * (extra + Math.abs(v)) + 1e-38;
      const err = Math.abs(out[e] - v);
      if (!(err <= lim)) { bad = `(${i}, ${j}): ${out[e]} vs float64 ${v} (error ${err}, allowed ${lim})`; break; }
      worst = Math.max(worst, err / lim);
    }
  }
  expect(bad, `${dt} ${bK ? 'kk' : 'kt'} ${M}×${N}×${K}`).toBe('');
  expect(worst).toBeLessThanOrEqual(1);
  // nothing written outside C's rows
  for (let e = 0; e < offC; e++) expect(out[e]).toBe(prev[e]);
}

describe('subgroup-matrix GEMM on this adapter', () => {
  it('says plainly what this adapter offers, and the self-test decides the default', async () => {
    const gpu = await getTestGpu();
    await checkGemmVariants(gpu);
    const sm = gpu.info.engine.find((f) => f.name === 'subgroup matrices')!;
    const why = sgmatUnavailable(gpu);
    console.log(why
      ? `subgroup matrices on ${adapterName(gpu)}: not used (${why}); status: ${sm.detail}`
      : `subgroup matrices on ${adapterName(gpu)}: ${sm.detail}; tile ${JSON.stringify(sgmatBlock(sgmatTile(gpu)))}`);
    if (process.env.REWARD_STUDIO_EXPECT_SGMAT) expect(why, 'REWARD_STUDIO_EXPECT_SGMAT: this adapter should run the subgroup-matrix GEMM').toBeNull();
    if (!why && gpu.f16Check?.ok) {
      console.log(`subgroup-matrix self-test on ${adapterName(gpu)}: ${gpu.sgmatCheck?.detail}`);
      expect(gpu.sgmatCheck?.ok, gpu.sgmatCheck?.detail).toBe(true);
      expect(sm.using).toBe(true);
    } else expect(sm.using).toBe(false);
  });
});

describe('subgroup-matrix GEMM against float64', () => {
  it('awkward shapes, both B layouts, f16 and bf16 weights (bf16 tiny and huge: scaled into f16)', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const cases: Basic[] = [
      { dt: 'bf16', M: 37, N: 70, K: 96, bK: true, bMag: 0.05 },
      { dt: 'bf16', M: 17, N: 33, K: 40, bK: false, bMag: 2 ** -30 },
      { dt: 'f16', M: 1, N: 9, K: 7, bK: true },
      { dt: 'f16', M: 15, N: 1, K: 130, bK: false },
      { dt: 'bf16', M: 33, N: 17, K: 1, bK: true, bMag: 2 ** 20 },
      // vec4 / 4-word loads and the register prefetch, both B layouts, ragged edges in every dimension
      { dt: 'bf16', M: 45, N: 38, K: 70, bK: true, bMag: 0.05, aligned: true },
      { dt: 'f16', M: 29, N: 41, K: 52, bK: false, aligned: true },
      { dt: 'f16', M: 18, N: 35, K: 45, bK: true, bMag: 1e-3, extremes: true },
    ];
    for (const [n, cs] of cases.entries()) await basicCase(gpu, cs, 100 + n);
  });

  it('A rows from 10^-20 to 10^6 (beyond f16\'s range both ways), alpha, accumulate, the LoRA and residual epilogue', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const mags = [1e-20, 3e-8, 1e-3, 1, 70000, 1e6];
    await basicCase(gpu, { dt: 'bf16', M: 23, N: 19, K: 50, bK: true, bMag: 0.02, rowMag: (i) => mags[i % mags.length], alpha: -0.37, accumulate: true }, 7);
    await basicCase(gpu, { dt: 'f16', M: 21, N: 40, K: 24, bK: false, rowMag: (i) => mags[(i * 5) % mags.length], lora: true, residual: true }, 8);
  });

  it('a row with Inf or NaN gives a NaN row; the other rows are unaffected', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const M = 12, N = 10, K = 20;
    const rng = new Rng(3);
    const A = drawA(rng, M, K, () => 1);
    A[2 * K + 5] = Infinity;
    A[7 * K + 19] = NaN;
    const B = drawB(rng, N * K, 'f16', 1);
    const cBuf = f32Buffer(gpu, 'c', new Float32Array(M * N));
    const k = gemmKernel(gpu, { label: 'nonfinite', c: cBuf, ldc: N, M, N, K, a: { buffer: f32Buffer(gpu, 'a', A), kContig: true, ld: K }, b: { buffer: weightBuffer(gpu, B, N, K, K, 0, 'f16'), kContig: true, ld: K, dtype: 'f16', sgmat: true } });
    await runKernels(gpu, [k]);
    const out = await readF32(gpu, cBuf);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        if (i === 2 || i === 7) expect(Number.isNaN(out[i * N + j]), `row ${i}`).toBe(true);
        else {
          let s = 0;
          for (let c = 0; c < K; c++) s += A[i * K + c] * B[j * K + c];
          expect(Math.abs(out[i * N + j] - s)).toBeLessThan(1e-5);
        }
      }
    }
  });
});

/** The same product on subgroup matrices and on the tiled f32 kernel: |sgmat − tiled| ≤ 2·tol(K)·bound(i, j). */
async function againstTiled(gpu: Gpu, name: string, g: (sgmat: boolean, c: GPUBuffer) => Gemm, cInit: Float32Array, bound: (i: number, j: number) => number, M: number, N: number, ldc: number, K: number, batch = 1): Promise<void> {
  const outs: Float32Array[] = [];
  const labels: string[] = [];
  for (const sgmat of [true, false]) {
    const cBuf = f32Buffer(gpu, 'c', cInit);
    const k = gemmKernel(gpu, g(sgmat, cBuf));
    labels.push(k.dispatches[0].pipeline.label);
    await runKernels(gpu, [k]);
    outs.push(await readF32(gpu, cBuf));
  }
  expect(labels[0], name).toMatch(/^matmul\+sgmat:matmul_sgmat/);
  expect(labels[1], name).toMatch(/^matmul(\+f16)?:matmul/);
  const [x, y] = outs;
  const cols = ldc;
  for (let z = 0; z < batch; z++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < cols; j++) {
        const e = z * M * ldc + i * ldc + j;
        const lim = 2 * sgmatTolerance(K) * bound(i, j % N) + 1e-30;
        if (!(Math.abs(x[e] - y[e]) <= lim)) expect.fail(`${name}: element (${z}, ${i}, ${j}): sgmat ${x[e]}, tiled ${y[e]} (allowed ${lim})`);
      }
    }
  }
}

describe('subgroup-matrix GEMM against the tiled kernel (loads and store it shares)', () => {
  const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

  it('split-K and batches', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const rng = new Rng(11);
    const M = 19, N = 26, K = 600, batch = 2;
    const A = drawA(rng, batch * M, K, () => 1), B = drawB(rng, batch * N * K, 'bf16', 0.03);
    const aBuf = f32Buffer(gpu, 'a', A), bBuf = weightBuffer(gpu, B, batch * N, K, K, 0, 'bf16');
    const sa = (z: number, i: number, j: number) => { let s = 0; for (let c = 0; c < K; c++) s += Math.abs(A[(z * M + i) * K + c] * B[(z * N + j) * K + c]); return s; };
    const init = new Float32Array(batch * M * N);
    await againstTiled(gpu, 'splitK 3', (sgmat, c) => ({ label: 'split', c, ldc: N, M, N, K, splitK: 3, a: { buffer: aBuf, kContig: true, ld: K }, b: { buffer: bBuf, kContig: true, ld: K, dtype: 'bf16', sgmat } }), init, (i, j) => sa(0, i, j), M, N, N, K);
    await againstTiled(gpu, 'batch 2', (sgmat, c) => ({ label: 'batch', c, ldc: N, cBatchStride: M * N, M, N, K, batch, splitK: 1, a: { buffer: aBuf, kContig: true, ld: K, batchStride: M * K }, b: { buffer: bBuf, kContig: true, ld: K, batchStride: N * K, dtype: 'bf16', sgmat } }), init, (i, j) => Math.max(sa(0, i, j), sa(1, i, j)), M, N, N, K, batch);
  });

  it('the SwiGLU prologue (down_proj forward) with dropout on A through a row map', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const rng = new Rng(12);
    const M = 21, N = 18, K = 44, p = 0.3;
    const gu = Float32Array.from({ length: M * 2 * K }, () => rng.range(-3, 3));
    const B = drawB(rng, N * K, 'bf16', 0.05);
    const rows = Array.from({ length: M }, (_, i) => (i * 7 + 3) % 40);
    const seed = u32Buffer(gpu, 'seed', [12345, ...rows]);
    const guBuf = f32Buffer(gpu, 'gu', gu), bBuf = weightBuffer(gpu, B, N, K, K, 0, 'bf16');
    const h = (i: number, c: number) => { const g = gu[i * 2 * K + c]; return g * sigmoid(g) * gu[i * 2 * K + K + c]; };
    const bound = (i: number, j: number) => { let s = 0; for (let c = 0; c < K; c++) s += Math.abs(h(i, c) * B[j * K + c]) / (1 - p); return s; };
    await againstTiled(gpu, 'glu + dropout(a, rows)', (sgmat, c) => ({
      label: 'glu', c, ldc: N, M, N, K, a: { buffer: guBuf, kContig: true, ld: 2 * K, glu: true }, b: { buffer: bBuf, kContig: true, ld: K, dtype: 'bf16', sgmat },
      dropout: { on: 'a', p, seed, salt: 5, rows: true },
    }), new Float32Array(M * N), bound, M, N, N, K);
  });

  it('the SwiGLU backward store (down_proj dinp, B j-contiguous) and dropout on C', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const rng = new Rng(13);
    const M = 13, F = 20, H = 36; // dh (M, F) = dout (M, H) · W_down (H, F)
    const dout = drawA(rng, M, H, () => 1e-4);
    const W = drawB(rng, H * F, 'f16', 0.1);
    const gu = Float32Array.from({ length: M * 2 * F }, () => rng.range(-3, 3));
    const dBuf = f32Buffer(gpu, 'dout', dout), wBuf = weightBuffer(gpu, W, H, F, F, 0, 'f16');
    const sa = (i: number, j: number) => { let s = 0; for (let c = 0; c < H; c++) s += Math.abs(dout[i * H + c] * W[c * F + j]); return s; };
    const factor = (i: number, j: number) => { const g = gu[i * 2 * F + j], u = gu[i * 2 * F + F + j]; return Math.max(Math.abs(u) * 1.2 * (1 + Math.abs(g)), Math.abs(g)); };
    await againstTiled(gpu, 'swiglu backward', (sgmat, c) => ({
      label: 'swb', c, ldc: 2 * F, M, N: F, K: H, a: { buffer: dBuf, kContig: true, ld: H }, b: { buffer: wBuf, kContig: false, ld: F, dtype: 'f16', sgmat },
      epilogue: { swigluBackward: { gu: f32Buffer(gpu, 'gu', gu), ld: 2 * F } },
    }), new Float32Array(M * 2 * F), (i, j) => sa(i, j) * factor(i, j), M, F, 2 * F, H);
    const seed = u32Buffer(gpu, 'seed', [777]);
    await againstTiled(gpu, 'dropout on c', (sgmat, c) => ({
      label: 'dropc', c, ldc: F, M, N: F, K: H, accumulate: true, a: { buffer: dBuf, kContig: true, ld: H }, b: { buffer: wBuf, kContig: false, ld: F, dtype: 'f16', sgmat },
      dropout: { on: 'c', p: 0.25, seed, salt: 9 },
    }), Float32Array.from({ length: M * F }, () => 1e-3), (i, j) => sa(i, j) / 0.75 + 1e-3, M, F, F, H);
  });

  it('bit-identical run to run', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const rng = new Rng(14);
    const M = 29, N = 31, K = 77;
    const aBuf = f32Buffer(gpu, 'a', drawA(rng, M, K, () => 1)), bBuf = weightBuffer(gpu, drawB(rng, N * K, 'bf16', 0.1), N, K, K + 1, 0, 'bf16');
    const runOnce = async () => {
      const c = f32Buffer(gpu, 'c', new Float32Array(M * N));
      await runKernels(gpu, [gemmKernel(gpu, { label: 'det', c, ldc: N, M, N, K, a: { buffer: aBuf, kContig: true, ld: K }, b: { buffer: bBuf, kContig: true, ld: K + 1, dtype: 'bf16', sgmat: true } })]);
      return new Uint32Array((await readF32(gpu, c)).buffer);
    };
    expect(Array.from(await runOnce())).toEqual(Array.from(await runOnce()));
  });
});

describe('subgroup-matrix GEMM: gating (every adapter)', () => {
  it('largest f16→f32 configuration; refused for f32 weights; explicit tiles and the flag keep the tiled kernel', async () => {
    expect(chooseSgmatConfig(null)).toBeNull();
    expect(chooseSgmatConfig([{ componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 }])).toBeNull();
    expect(chooseSgmatConfig([
      { componentType: 'f16', resultComponentType: 'f32', M: 8, N: 8, K: 8 },
      { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 },
      { componentType: 'f32', resultComponentType: 'f32', M: 32, N: 32, K: 32 },
    ])).toEqual({ componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 });
    const gpu = await getTestGpu();
    await checkGemmVariants(gpu);
    const buf = f32Buffer(gpu, 'x', new Float32Array(64));
    const g = (b: Partial<Gemm['b']>, extra: Partial<Gemm> = {}): Gemm => ({ label: 'gate', c: buf, ldc: 4, M: 4, N: 4, K: 4, a: { buffer: buf, kContig: true, ld: 4 }, b: { buffer: buf, kContig: true, ld: 4, ...b }, ...extra });
    expect(() => gemmKernel(gpu, g({ dtype: 'f32', sgmat: true }))).toThrow(/subgroup-matrix GEMM was requested, but B is not a 16-bit weight/);
    const why = sgmatUnavailable(gpu);
    const f16w = weightBuffer(gpu, [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8], 4, 4, 4, 0, 'f16');
    if (why) {
      expect(() => gemmKernel(gpu, g({ buffer: f16w, dtype: 'f16', sgmat: true }))).toThrow(why === null ? /never/ : /subgroup-matrix GEMM was requested/);
      expect(gemmKernel(gpu, g({ buffer: f16w, dtype: 'f16' })).dispatches[0].pipeline.label).not.toMatch(/sgmat/);
      return;
    }
    expect(gemmKernel(gpu, g({ buffer: f16w, dtype: 'f16' })).dispatches[0].pipeline.label).toMatch(/^matmul\+sgmat:/);
    expect(gemmKernel(gpu, g({ buffer: f16w, dtype: 'f16' }, { tile: { wgM: 4, wgN: 4, tm: 4, tn: 4, bk: 8 } })).dispatches[0].pipeline.label).not.toMatch(/sgmat/);
    setFlags({ noSubgroupMatrix: true });
    try {
      expect(gemmKernel(gpu, g({ buffer: f16w, dtype: 'f16' })).dispatches[0].pipeline.label).not.toMatch(/sgmat/);
    } finally {
      setFlags({ noSubgroupMatrix: false });
    }
  });
});

describe('subgroup-matrix GEMM and the autotuner', () => {
  it('choices: a tile, the variant, or a tile timed faster than the variant (every adapter)', () => {
    expect(parseChoice('big')).toEqual({ tile: 'big', sgmat: null });
    expect(parseChoice('sgmat')).toEqual({ tile: null, sgmat: true });
    expect(parseChoice('medium+nosgmat')).toEqual({ tile: 'medium', sgmat: false });
    expect(parseChoice('huge')).toBeNull();
    expect(parseChoice('big+fast')).toBeNull();
  });

  it('the variant is a candidate for 16-bit B; a stored verdict decides the default; a timed run records one', async (ctx) => {
    const gpu = await sgmatGpu(ctx);
    const M = 40, N = 24, K = 32;
    const shape = { M, N, K, aKContig: true, bKContig: true, dtype: 'bf16' as const };
    expect(candidates(gpu, shape)).toContain('sgmat');
    expect(candidates(gpu, { ...shape, dtype: 'f32' })).not.toContain('sgmat');
    const cls = shapeClass(M, N, K, 1, true, true, 'bf16');
    const a = f32Buffer(gpu, 'a', new Float32Array(M * K)), c = f32Buffer(gpu, 'c', new Float32Array(M * N));
    const b = weightBuffer(gpu, new Array(N * K).fill(0.5), N, K, K, 0, 'bf16');
    const planned = () => gemmKernel(gpu, { label: 'tuned', c, ldc: N, M, N, K, a: { buffer: a, kContig: true, ld: K }, b: { buffer: b, kContig: true, ld: K, dtype: 'bf16' } }).dispatches[0].pipeline.label;
    const store = (choice: TuneChoice) => ({ load: async () => ({ [cls]: choice }), save: async () => {} });
    try {
      expect(planned()).toMatch(/^matmul\+sgmat:/); // untuned: the variant wherever it can run
      await loadGemmTuning(gpu, store('medium+nosgmat'));
      expect(planned()).toMatch(/^matmul\+f16:/); // a tile was timed faster here
      setFlags({ noGemmAutotune: true });
      expect(planned()).toMatch(/^matmul\+sgmat:/); // tuned choices ignored
      setFlags({ noGemmAutotune: false });
      await loadGemmTuning(gpu, store('sgmat'));
      expect(planned()).toMatch(/^matmul\+sgmat:/);
      clearGemmTuning(gpu);
      const saved: Record<string, TuneChoice>[] = [];
      const [r] = await autotuneGemm(gpu, [shape], { allowCpu: true, reps: 1, candidates: ['medium', 'sgmat'], store: { load: async () => null, save: async (_k, v) => void saved.push(v) } });
      expect(Object.keys(r.timings ?? {}).sort()).toEqual(['medium', 'sgmat']);
      expect(['sgmat', 'medium+nosgmat']).toContain(r.choice);
      expect(saved[0][cls]).toBe(r.choice);
      expect(planned()).toMatch(r.choice === 'sgmat' ? /^matmul\+sgmat:/ : /^matmul\+f16:/);
      // a stored plain tile choice (no verdict on the variant) is timed again; one with a verdict is kept
      clearGemmTuning(gpu);
      const [again] = await autotuneGemm(gpu, [shape], { allowCpu: true, reps: 1, candidates: ['medium', 'sgmat'], store: store('medium') });
      expect(again.timings, 'timed again').toBeDefined();
      clearGemmTuning(gpu);
      const [kept] = await autotuneGemm(gpu, [shape], { allowCpu: true, reps: 1, candidates: ['medium', 'sgmat'], store: store('medium+nosgmat') });
      expect(kept).toEqual({ shapeClass: cls, choice: 'medium+nosgmat' });
    } finally {
      setFlags({ noGemmAutotune: false });
      clearGemmTuning(gpu);
    }
  });
});
