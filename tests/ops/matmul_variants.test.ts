// The GPU variants of shaders/matmul.wgsl (vec4 / packed-word loads, register prefetch, layouts and dtype as
// pipeline constants) against the float64 reference gemmRef. SwiftShader runs the CPU variant by default, so every
// test here forces a variant through the tile's switches. Shapes straddle the tile edges (a 32×16 tile for most
// cases, the real 128×64 / 128×128 / 64×64 / 128×16 / 16×128 tiles for one product each) with odd M/N/K, row
// strides padded to multiples of 4 (vector loads with partial vectors at the edges) or not (scalar fallback), every
// layout the layers use (kk forward, kt backward-input, tt weight gradient) and every B dtype, split-K, batched,
// accumulate, alpha and the three dropout placements.
import { describe, expect, it } from 'vitest';
import { type GemmOperand, type TileConfig, type WeightDtype, TILES, dropoutMultiplier, gemmKernel, toHalfBits, fromHalfBits } from '../../src/ops/matmul.ts';
import { type GemmRefOperand, gemmRef } from '../../src/ops/matmul.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { type Tol, expectClose, roundF32 } from '../helpers/check.ts';

// Same bound as tests/ops/matmul.test.ts: (L+8)·2⁻²⁴·max Σ|ab| absolute, 2⁻²¹ relative.
function tolFor(L: number, absRef: ArrayLike<number>): Tol {
  let mx = 0;
  for (let i = 0; i < absRef.length; i++) mx = Math.max(mx, Math.abs(absRef[i]));
  return { atol: (L + 8) * 2 ** -24 * mx, rtol: 2 ** -21 };
}

/** The GPU variant on a small tile (32×16, 16 threads, 8-wide slices): 4 vec4 A loads, ≤ 2 B loads per thread. */
const SMALL: TileConfig = { wgM: 4, wgN: 4, tm: 8, tn: 4, bk: 8, vector: true, prefetch: true, specialize: true };
const gpuVariant = (t: TileConfig): TileConfig => ({ ...t, vector: true, prefetch: true, specialize: true });

type Layout = 'kk' | 'kt' | 'tt';
const round4 = (x: number) => Math.ceil(x / 4) * 4;

interface Case {
  layout: Layout; dtype: WeightDtype; M: number; N: number; K: number;
  /** Pad row strides to multiples of 4 (vector loads) or to +1 (odd: scalar fallback). */
  aligned: boolean;
  tile: TileConfig; splitK?: number; batch?: number; accumulate?: boolean; alpha?: number;
  dropout?: 'a' | 'b' | 'c';
}

/**
 * Storage of `batch` (rows × ld) items at `off` + z·bs, random where the logical (rows × cols) matrix is and NaN
 * everywhere else (row padding, gaps, offsets): a kernel that lets one element from outside the view into a sum
 * turns that result into NaN. Values are those the GPU sees (f32, or 16-bit rounded).
 */
function operand(rng: Rng, rows: number, cols: number, ld: number, batch: number, off: number, bs: number, dtype: WeightDtype): Float64Array {
  const v = new Float64Array(off + batch * bs).fill(NaN);
  for (let z = 0; z < batch; z++)
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const x = rng.range(-1, 1);
        v[off + z * bs + r * ld + c] = dtype === 'f32' ? Math.fround(x) : fromHalfBits(toHalfBits(x, dtype), dtype);
      }
  return v;
}

function packRows(v: Float64Array, dtype: 'f16' | 'bf16'): Uint32Array {
  const out = new Uint32Array(Math.ceil(v.length / 2));
  for (let e = 0; e < v.length; e++) out[e >> 1] |= (e & 1 ? toHalfBits(v[e], dtype) << 16 : toHalfBits(v[e], dtype)) >>> 0;
  return out;
}

async function runCase(gpu: Gpu, cs: Case, seedNo: number): Promise<void> {
  const { layout, dtype, M, N, K, aligned } = cs;
  const batch = cs.batch ?? 1;
  const rng = new Rng(seedNo);
  const aK = layout === 'kk' || layout === 'kt';
  const bK = layout === 'kk';
  const pad = (x: number, packed: boolean) => (aligned ? (packed ? Math.ceil(x / 8) * 8 : round4(x)) : packed ? 2 * Math.ceil(x / 2) + 2 : x + 1);
  const packed = dtype !== 'f32';
  const [aRows, aCols] = aK ? [M, K] : [K, M];
  const [bRows, bCols] = bK ? [N, K] : [K, N];
  const lda = pad(aCols, false), ldb = pad(bCols, packed), ldc = N + (aligned ? 3 : 1);
  const offA = aligned ? 8 : 3, offB = aligned ? 16 : 2, offC = 5;
  const bsA = aRows * lda + (aligned ? 4 : 1), bsB = bRows * ldb + (aligned ? 8 : 2), bsC = M * ldc + 2;
  const aVals = operand(rng, aRows, aCols, lda, batch, offA, bsA, 'f32');
  const bVals = operand(rng, bRows, bCols, ldb, batch, offB, bsB, dtype);
  const cPrev = roundF32(randomArray(rng, offC + batch * bsC));
  const aBuf = f32Buffer(gpu, 'a', aVals);
  const bBuf = packed ? uploadBuffer(gpu, 'b', packRows(bVals, dtype)) : f32Buffer(gpu, 'b', bVals);
  const cBuf = f32Buffer(gpu, 'c', cPrev);
  const seedBuf = uploadBuffer(gpu, 'seed', Uint32Array.of(987654));
  const p = 0.3, salt = 7;
  const mult = (e: number) => dropoutMultiplier(987654, salt, p, e);
  const A: GemmOperand = { buffer: aBuf, kContig: aK, ld: lda, offset: offA, batchStride: bsA };
  const B: GemmOperand & { dtype: WeightDtype } = { buffer: bBuf, kContig: bK, ld: ldb, offset: offB, batchStride: bsB, dtype };
  await runKernels(gpu, [gemmKernel(gpu, {
    label: `gemm ${layout} ${dtype}`, c: cBuf, ldc, cOffset: offC, cBatchStride: bsC, a: A, b: B, M, N, K, batch,
    alpha: cs.alpha, accumulate: cs.accumulate, tile: cs.tile, splitK: cs.splitK ?? 1,
    dropout: cs.dropout ? { on: cs.dropout, p, seed: seedBuf, salt } : undefined,
  })]);
  const refA: GemmRefOperand = { data: aVals, kContig: aK, ld: lda, off: offA, batch: bsA, mult: cs.dropout === 'a' ? mult : undefined };
  const refB: GemmRefOperand = { data: bVals, kContig: bK, ld: ldb, off: offB, batch: bsB, mult: cs.dropout === 'b' ? mult : undefined };
  const ref = Float64Array.from(cPrev), refAbs = new Float64Array(cPrev.length);
  const o = { batch, cOff: offC, cBatch: bsC, alpha: cs.alpha, accumulate: cs.accumulate, cMult: cs.dropout === 'c' ? mult : undefined };
  gemmRef(ref, ldc, refA, refB, M, N, K, o);
  const absOf = (x: GemmRefOperand): GemmRefOperand => ({ ...x, data: Float64Array.from(x.data, Math.abs), mult: x.mult ? (e) => Math.abs(x.mult!(e)) : undefined });
  gemmRef(refAbs, ldc, absOf(refA), absOf(refB), M, N, K, { ...o, accumulate: false, alpha: Math.abs(cs.alpha ?? 1), cMult: undefined });
  const tol = tolFor(K, refAbs);
  // Elements outside the strided C views must keep their previous values (the reference copies them unchanged).
  expectClose(`C ${layout} ${dtype} M=${M} N=${N} K=${K}${aligned ? ' aligned' : ''}`, await readF32(gpu, cBuf), ref, { atol: tol.atol * (cs.dropout ? 1 / (1 - p) : 1) + 1e-30, rtol: tol.rtol });
  for (const b of [aBuf, bBuf, cBuf, seedBuf]) b.destroy();
}

// Tile-edge shapes of the small 32×16 tile (8-wide slices): 1, below, at and past each edge, odd K.
const EDGE_SHAPES: [number, number, number][] = [[1, 1, 1], [3, 17, 9], [33, 15, 17], [31, 33, 63], [64, 16, 8], [65, 7, 3]];

describe('matmul GPU variants (vector loads, register prefetch, specialised layouts)', () => {
  // (f16 B: the kt scalar-fallback case, the batched case and the medium tile.)
  const combos: [Layout, WeightDtype][] = [['kk', 'f32'], ['kk', 'bf16'], ['kt', 'f32'], ['kt', 'bf16'], ['tt', 'f32']];
  combos.forEach(([layout, dtype], ci) => {
    it(`${layout} ${dtype}: tile-edge shapes, padded strides (vector loads, partial vectors at the edges)`, async () => {
      const gpu = await getTestGpu();
      for (const [si, [M, N, K]] of EDGE_SHAPES.entries())
        await runCase(gpu, { layout, dtype, M, N, K, aligned: true, tile: SMALL, accumulate: si % 2 === 1, alpha: si === 2 ? -0.75 : undefined }, 100 * ci + si);
    });
  });

  it('kt f16 with odd strides and offsets: scalar fallback of the same variant', async () => {
    const gpu = await getTestGpu();
    for (const [si, [M, N, K]] of EDGE_SHAPES.slice(1, 4).entries())
      await runCase(gpu, { layout: 'kt', dtype: 'f16', M, N, K, aligned: false, tile: SMALL, accumulate: true }, 900 + si);
  });

  it('split-K (3 and 5 splits) with accumulate: tt f32 (weight gradient) and kk bf16', async () => {
    const gpu = await getTestGpu();
    await runCase(gpu, { layout: 'tt', dtype: 'f32', M: 37, N: 19, K: 129, aligned: true, tile: SMALL, splitK: 3, accumulate: true, alpha: 0.5 }, 11);
    await runCase(gpu, { layout: 'kk', dtype: 'bf16', M: 17, N: 33, K: 127, aligned: true, tile: SMALL, splitK: 5 }, 12);
  });

  it('batched (3 items, strided) kk f16 and kt f32, with and without split-K', async () => {
    const gpu = await getTestGpu();
    await runCase(gpu, { layout: 'kk', dtype: 'f16', M: 9, N: 17, K: 21, aligned: true, tile: SMALL, batch: 3, accumulate: true }, 21);
    await runCase(gpu, { layout: 'kt', dtype: 'f32', M: 5, N: 18, K: 70, aligned: true, tile: SMALL, batch: 3, splitK: 2 }, 22);
  });

  it('dropout on A (kk f32), on B (tt f32) and on the result (kk bf16, and through split-K)', async () => {
    const gpu = await getTestGpu();
    await runCase(gpu, { layout: 'kk', dtype: 'f32', M: 33, N: 17, K: 19, aligned: true, tile: SMALL, dropout: 'a' }, 31);
    await runCase(gpu, { layout: 'tt', dtype: 'f32', M: 19, N: 33, K: 17, aligned: true, tile: SMALL, dropout: 'b', accumulate: true }, 32);
    await runCase(gpu, { layout: 'kk', dtype: 'bf16', M: 17, N: 19, K: 33, aligned: true, tile: SMALL, dropout: 'c', accumulate: true }, 33);
    await runCase(gpu, { layout: 'kk', dtype: 'bf16', M: 17, N: 19, K: 40, aligned: true, tile: SMALL, dropout: 'c', splitK: 2 }, 34);
  });

  // Dropout row map (the last decoder layer's pooled rows): a product over some rows of a batch, the seed buffer
  // [seed, batch row of row 0, …], gives exactly the batch product's rows — masks on A, on C, and on C through split-K.
  it('dropout row map: rows of a larger batch keep the batch rows\' masks (A, C, C through split-K)', async () => {
    const gpu = await getTestGpu();
    const M = 13, N = 19, K = 21, rows = [5, 0, 12, 7, 11], Bc = rows.length;
    const rng = new Rng(77);
    const a = Float32Array.from(randomArray(rng, M * K)), w = Float32Array.from(randomArray(rng, N * K));
    const aC = new Float32Array(Bc * K);
    rows.forEach((r, b) => aC.set(a.subarray(r * K, r * K + K), b * K));
    const seed = uploadBuffer(gpu, 'seed', Uint32Array.of(4242)), map = uploadBuffer(gpu, 'seed+rows', Uint32Array.of(4242, ...rows));
    const aB = f32Buffer(gpu, 'a', a), aCB = f32Buffer(gpu, 'a compact', aC), wB = f32Buffer(gpu, 'w', w);
    for (const [on, splitK] of [['a', 1], ['c', 1], ['c', 3]] as const) {
      const full = f32Buffer(gpu, 'c full', new Float32Array(M * N)), compact = f32Buffer(gpu, 'c compact', new Float32Array(Bc * N));
      const gemm = (c: GPUBuffer, inp: GPUBuffer, m: number, s: GPUBuffer, mapped: boolean) => gemmKernel(gpu, {
        label: 'gemm rows', c, ldc: N, M: m, N, K, a: { buffer: inp, kContig: true, ld: K }, b: { buffer: wB, kContig: true, ld: K },
        tile: SMALL, splitK, dropout: { on, p: 0.4, seed: s, salt: 3, rows: mapped },
      });
      await runKernels(gpu, [gemm(full, aB, M, seed, false), gemm(compact, aCB, Bc, map, true)]);
      const f = await readF32(gpu, full, M * N), c = await readF32(gpu, compact, Bc * N);
      const want = Float32Array.from({ length: Bc * N }, (_, i) => f[rows[Math.floor(i / N)] * N + (i % N)]);
      expect([...c], `dropout on ${on}, split-K ${splitK}`).toEqual([...want]);
      let zeros = 0;
      for (const v of want) zeros += v === 0 ? 1 : 0;
      if (on === 'c') expect(zeros, 'some results dropped').toBeGreaterThan(0);
      full.destroy();
      compact.destroy();
    }
    for (const b of [seed, map, aB, aCB, wB]) b.destroy();
  });

  // The real GPU tiles (the autotuner's candidates), each at sizes straddling its own edges.
  const real: [string, TileConfig, Layout, WeightDtype, number, number, number][] = [
    ['big 128×64', TILES.big, 'kk', 'bf16', 129, 65, 35],
    ['big 128×64', TILES.big, 'tt', 'f32', 65, 129, 19],
    ['large 128×128', TILES.large, 'kk', 'bf16', 129, 127, 17],
    ['medium 64×64', TILES.medium, 'kt', 'f16', 65, 63, 21],
    ['tall 128×16', TILES.tall, 'kk', 'f32', 129, 17, 19],
    ['wide 16×128', TILES.wide, 'tt', 'f32', 17, 129, 19],
  ];
  for (const [name, tile, layout, dtype, M, N, K] of real) {
    it(`tile ${name}, ${layout} ${dtype} at M=${M} N=${N} K=${K}`, async () => {
      const gpu = await getTestGpu();
      await runCase(gpu, { layout, dtype, M, N, K, aligned: true, tile: gpuVariant(tile), accumulate: true }, M * N + K);
    });
  }
});
