// Causal self-attention forward/backward on the GPU against the float64 reference; the reference against finite
// differences and against properties of the mask (causality, padding, GQA head mapping).
// B sequences, T tokens, H query heads, Hkv kv heads, D head dim.
import { describe, expect, it } from 'vitest';
import { attentionBackward, attentionBackwardWorkspaceBytes, attentionFlops, attentionForward, attentionTiles, dsTilesPerHead, type AttentionTiles } from '../../src/ops/attention.ts';
import { attentionBackwardRef, attentionForwardRef } from '../../src/ops/attention.ref.ts';
import { destroyKernels, runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, u32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, dot, expectClose, roundF32, type Tol } from '../helpers/check.ts';

// Tolerances. Inputs are in [-1, 1] (×20 for q, k in the large-score case); the reference sees the same
// f32-rounded inputs, so every difference is f32 arithmetic on the GPU:
// - scores are f32 dots of length D (relative error ~ D·2^-24 of Σ|q_d k_d|), softmax uses f32 exp (WGSL allows
//   3 + 2|x| ulp) with an online rescaling per key tile;
// - out and lse are softmax-weighted sums over ≤ T keys of values ≤ 1, so errors stay ~1e-6 absolute;
// - dq, dk, dv sum dS·k, dS·q, P·dout over up to T keys / T·H/Hkv query rows, where dS = P (dP − Δ) subtracts two
//   f32 sums of length D: a few 1e-6 absolute on values of order 0.1–1.
// Observed on SwiftShader: out ≤ 2e-7, lse ≤ 1e-6, grads ≤ 2e-6; the margin leaves room for other GPUs' exp and
// FMA contraction. A wrong mask, head mapping or tile boundary gives errors of order 0.01–1, far outside these.
const TOL_OUT: Tol = { atol: 1e-5, rtol: 1e-4 };
const TOL_LSE: Tol = { atol: 1e-5, rtol: 1e-5 };
const TOL_GRAD: Tol = { atol: 5e-5, rtol: 1e-3 };
// With q, k ×20 the scores reach |s| ~ 100 and their f32 rounding error (~D·2^-24·Σ|q_d k_d|·scale ≈ 1e-4) moves
// the probabilities by that relative amount; the outputs (convex combinations of v) by about as much absolute,
// gradients (scaled by |q|, |k| ~ 20) by ~20× that. (Observed on SwiftShader: out 2e-5, lse 8e-5, grads 1e-4.)
const TOL_OUT_LARGE: Tol = { atol: 5e-4, rtol: 1e-3 };
const TOL_LSE_LARGE: Tol = { atol: 1e-3, rtol: 1e-5 };
const TOL_GRAD_LARGE: Tol = { atol: 2e-3, rtol: 1e-3 };

interface Case {
  B: number; T: number; H: number; Hkv: number; D: number;
  lengths: number[];
  qkScale?: number;
  tiles?: AttentionTiles;
  /** Run forward and backward a second time and require bit-identical results (default true). */
  rerun?: boolean;
}

interface Inputs { q: Float64Array; k: Float64Array; v: Float64Array; dout: Float64Array }

function makeInputs(c: Case, seed: number): Inputs {
  const rng = new Rng(seed);
  const s = c.qkScale ?? 1;
  const nq = c.B * c.T * c.H * c.D, nkv = c.B * c.T * c.Hkv * c.D;
  return {
    q: roundF32(randomArray(rng, nq, -s, s)),
    k: roundF32(randomArray(rng, nkv, -s, s)),
    v: roundF32(randomArray(rng, nkv)),
    dout: roundF32(randomArray(rng, nq)),
  };
}

/** Rows of the real tokens of a padded (B,T,nh,D) array, packed end to end (the kernels' layout); and back. */
function pack(c: Case, x: Float64Array, nh: number): Float64Array {
  const row = nh * c.D;
  const out = new Float64Array(c.lengths.reduce((a, b) => a + b, 0) * row);
  let m = 0;
  c.lengths.forEach((len, b) => {
    out.set(x.subarray(b * c.T * row, (b * c.T + len) * row), m * row);
    m += len;
  });
  return out;
}
function unpack(c: Case, x: Float32Array, nh: number, row: number): Float32Array {
  const out = new Float32Array(c.B * c.T * nh * row); // padding rows: 0, as the padded reference has them
  let m = 0;
  c.lengths.forEach((len, b) => {
    out.set(x.subarray(m * nh * row, (m + len) * nh * row), b * c.T * nh * row);
    m += len;
  });
  return out;
}
/** (M,H) packed lse → the reference's (B,H,T) layout, 0 at padding. */
function unpackLse(c: Case, x: Float32Array): Float32Array {
  const out = new Float32Array(c.B * c.H * c.T);
  let m = 0;
  c.lengths.forEach((len, b) => {
    for (let i = 0; i < len; i++) for (let h = 0; h < c.H; h++) out[(b * c.H + h) * c.T + i] = x[(m + i) * c.H + h];
    m += len;
  });
  return out;
}

/**
 * Runs forward then backward on the GPU on the packed rows (cu_seqlens); outputs are pre-filled with garbage to
 * check that every element is assigned; results are unpacked to the padded layout of the reference.
 */
async function runGpu(c: Case, x: Inputs) {
  const gpu = await getTestGpu();
  const { B, T, H, Hkv, D } = c;
  const M = c.lengths.reduce((a, b) => a + b, 0);
  const cuArr = [0];
  for (const len of c.lengths) cuArr.push(cuArr[cuArr.length - 1] + len);
  const nq = M * H * D, nkv = M * Hkv * D;
  const garbage = (n: number, label: string) => f32Buffer(gpu, label, new Float32Array(n).fill(12345));
  const q = f32Buffer(gpu, 'q', pack(c, x.q, H)), k = f32Buffer(gpu, 'k', pack(c, x.k, Hkv)), v = f32Buffer(gpu, 'v', pack(c, x.v, Hkv));
  const dout = f32Buffer(gpu, 'dout', pack(c, x.dout, H));
  const cu = u32Buffer(gpu, 'cu', cuArr);
  const out = garbage(nq, 'out'), lse = garbage(M * H, 'lse');
  const dq = garbage(nq, 'dq'), dk = garbage(nkv, 'dk'), dv = garbage(nkv, 'dv');
  const ws = createStorage(gpu, 'attn.ws', attentionBackwardWorkspaceBytes(M, T, B, H, D, c.tiles));
  const kernels = [
    attentionForward(gpu, out, lse, q, k, v, cu, B, T, M, H, Hkv, D, c.tiles),
    attentionBackward(gpu, dq, dk, dv, ws, dout, q, k, v, out, lse, cu, B, T, M, H, Hkv, D, c.tiles),
  ];
  await runKernels(gpu, kernels);
  const res = {
    out: unpack(c, await readF32(gpu, out), H, D), lse: unpackLse(c, await readF32(gpu, lse)),
    dq: unpack(c, await readF32(gpu, dq), H, D), dk: unpack(c, await readF32(gpu, dk), Hkv, D), dv: unpack(c, await readF32(gpu, dv), Hkv, D),
  };
  // Forward and backward again on the same inputs: results must be bit-identical (no atomics, fixed order).
  if (c.rerun !== false) await runKernels(gpu, kernels);
  const again = {
    out: unpack(c, await readF32(gpu, out), H, D), lse: unpackLse(c, await readF32(gpu, lse)),
    dq: unpack(c, await readF32(gpu, dq), H, D), dk: unpack(c, await readF32(gpu, dk), Hkv, D), dv: unpack(c, await readF32(gpu, dv), Hkv, D),
  };
  destroyKernels(kernels);
  for (const b of [q, k, v, dout, cu, out, lse, dq, dk, dv, ws]) b.destroy();
  return { ...res, again };
}

function runRef(c: Case, x: Inputs) {
  const { B, T, H, Hkv, D } = c;
  const nq = B * T * H * D, nkv = B * T * Hkv * D;
  const out = new Float64Array(nq), lse = new Float64Array(B * H * T);
  const dq = new Float64Array(nq), dk = new Float64Array(nkv), dv = new Float64Array(nkv);
  attentionForwardRef(out, lse, x.q, x.k, x.v, c.lengths, B, T, H, Hkv, D);
  attentionBackwardRef(dq, dk, dv, x.dout, x.q, x.k, x.v, c.lengths, B, T, H, Hkv, D);
  return { out, lse, dq, dk, dv };
}

const name = (c: Case) =>
  `B=${c.B} T=${c.T} H=${c.H} Hkv=${c.Hkv} D=${c.D} lengths=[${c.lengths}]` +
  (c.qkScale ? ` q,k×${c.qkScale}` : '') + (c.tiles ? ' custom tiles' : '');

// Small tiles with D not a multiple of threads-per-row: exercises clamped lanes and many tile boundaries.
const SMALL_TILES: AttentionTiles = {
  forward: { BQ: 4, BK: 8 },
  backward: { BQ: 4, BK: 8, TPR: 8, TPRq: 4 },
};

const CASES: Case[] = [
  { B: 1, T: 1, H: 2, Hkv: 1, D: 32, lengths: [1] },
  { B: 2, T: 5, H: 4, Hkv: 2, D: 32, lengths: [5, 1] },                  // second sequence: one token, rest padding
  { B: 2, T: 37, H: 2, Hkv: 2, D: 32, lengths: [37, 20] },               // GQA ratio 1, T not a tile multiple
  { B: 2, T: 70, H: 8, Hkv: 2, D: 32, lengths: [33, 70] },               // GQA ratio 4
  { B: 4, T: 20, H: 6, Hkv: 2, D: 128, lengths: [17, 1, 15, 20] },       // Qwen3 head dim, GQA ratio 3
  { B: 2, T: 128, H: 2, Hkv: 1, D: 32, lengths: [128, 100] },            // longest test sequence (D=32 reuses pipelines)
  { B: 2, T: 37, H: 4, Hkv: 2, D: 32, lengths: [37, 30], qkScale: 20 },  // large scores: stability
  { B: 2, T: 37, H: 4, Hkv: 2, D: 20, lengths: [37, 23], tiles: SMALL_TILES },
  { B: 3, T: 40, H: 4, Hkv: 2, D: 32, lengths: [17, 40, 1] },            // packed: unequal lengths end to end
  // Awkward shapes (issue 10): GQA ratio 3, head dims 16 / 64 / 128, lengths 1, 15, 17, 1023 in one packed batch.
  { B: 4, T: 1023, H: 3, Hkv: 1, D: 16, lengths: [1, 15, 17, 1023], rerun: false }, // rerun: the other cases
  { B: 4, T: 40, H: 6, Hkv: 2, D: 64, lengths: [15, 1, 40, 17] },
];

describe('attention', () => {
  CASES.forEach((c, n) => {
    it(`forward and backward match float64, ${name(c)}`, async () => {
      const x = makeInputs(c, 1000 + n);
      const g = await runGpu(c, x);
      const r = runRef(c, x);
      const large = (c.qkScale ?? 1) > 1;
      for (const [key, arr] of Object.entries(g)) {
        if (key === 'again') continue;
        for (const val of arr as Float32Array) expect(Number.isFinite(val), `${key} has a non-finite value`).toBe(true);
      }
      expectClose('out', g.out, r.out, large ? TOL_OUT_LARGE : TOL_OUT);
      expectClose('lse', g.lse, r.lse, large ? TOL_LSE_LARGE : TOL_LSE);
      expectClose('dq', g.dq, r.dq, large ? TOL_GRAD_LARGE : TOL_GRAD);
      expectClose('dk', g.dk, r.dk, large ? TOL_GRAD_LARGE : TOL_GRAD);
      expectClose('dv', g.dv, r.dv, large ? TOL_GRAD_LARGE : TOL_GRAD);
      expect(g.again.out).toEqual(g.out);
      expect(g.again.lse).toEqual(g.lse);
      expect(g.again.dq).toEqual(g.dq);
      expect(g.again.dk).toEqual(g.dk);
      expect(g.again.dv).toEqual(g.dv);
    });
  });

  it('rejects shapes the kernels cannot run, naming the dimension', async () => {
    const gpu = await getTestGpu();
    const buf = createStorage(gpu, 'any', 1 << 16);
    expect(() => attentionForward(gpu, buf, buf, buf, buf, buf, buf, 1, 4, 4, 3, 2, 32)).toThrow(/H = 3 is not a multiple of Hkv = 2/);
    expect(() => attentionForward(gpu, buf, buf, buf, buf, buf, buf, 1, 4, 4, 2, 1, 30)).toThrow(/D = 30 must be a multiple of 4/);
    expect(() => attentionBackward(gpu, buf, buf, buf, buf, buf, buf, buf, buf, buf, buf, buf, 1, 4, 4, 2, 1, 256))
      .toThrow(/D = 256 is over 128/);
    const bad: AttentionTiles = { forward: { BQ: 4, BK: 8 }, backward: { BQ: 8, BK: 12, TPR: 4, TPRq: 4 } };
    expect(() => attentionBackward(gpu, buf, buf, buf, buf, buf, buf, buf, buf, buf, buf, buf, 1, 4, 4, 2, 1, 32, bad))
      .toThrow(/BK = 12 must be a multiple of the query tile BQ = 8/);
    // The workspace (header + dS tiles) is checked against the bound for M, T and the sequence count: 4 bytes short fails.
    const need = attentionBackwardWorkspaceBytes(128, 64, 2, 2, 32);
    const ws = createStorage(gpu, 'ws.short', need - 4), big = createStorage(gpu, 'big', 1 << 20);
    expect(() => attentionBackward(gpu, big, big, big, ws, big, big, big, big, big, big, big, 2, 64, 128, 2, 1, 32))
      .toThrow(new RegExp(`buffer workspace \\(ws.short\\) has ${need - 4} bytes, needs ${need}`));
    ws.destroy();
    big.destroy();
    const small = createStorage(gpu, 'small', 16);
    expect(() => attentionForward(gpu, buf, buf, small, buf, buf, buf, 1, 4, 4, 2, 1, 32)).toThrow(/buffer q \(small\) has 16 bytes, needs 1024/);
    buf.destroy();
    small.destroy();
  });

  it('workspace bound covers every packing and is exact for full-length sequences', () => {
    // Exact bytes for a packing: header (M,H,2) + H · Σ_b TILES(ceil(len_b / BQ)) tiles of BQ·BK floats.
    const exact = (lengths: number[], H: number, D: number, tiles = attentionTiles(D)) => {
      const { BQ, BK } = tiles.backward;
      const M = lengths.reduce((a, b) => a + b, 0);
      return 4 * (M * H * 2 + H * BQ * BK * lengths.reduce((s, n) => s + dsTilesPerHead(Math.ceil(n / BQ), BK / BQ), 0));
    };
    const rng = new Rng(3);
    for (let trial = 0; trial < 300; trial++) {
      const D = [16, 64, 128][trial % 3], H = 1 + rng.int(4), T = 1 + rng.int(300), S = 1 + rng.int(6);
      const lengths = Array.from({ length: S }, () => rng.int(T + 1)); // 0-length sequences allowed
      const M = Math.max(1, lengths.reduce((a, b) => a + b, 0));
      expect(attentionBackwardWorkspaceBytes(M, T, S, H, D)).toBeGreaterThanOrEqual(exact(lengths, H, D));
    }
    // Full sequences (the model's worst case): the bound is the exact size. 8 × 1024 tokens, 16 heads, D = 128.
    expect(attentionBackwardWorkspaceBytes(8 * 1024, 1024, 8, 16, 128)).toBe(exact(Array(8).fill(1024), 16, 128));
    expect(exact(Array(8).fill(1024), 16, 128)).toBe(4 * 8 * 1024 * 16 * 2 + 4 * 8 * 16 * 4160 * 128); // 4160 tiles of 8×16
    // dS 272.6 MB + header 1 MB at this shape, about half the full T×T (536.9 MB).
    expect(attentionBackwardWorkspaceBytes(8 * 1024, 1024, 8, 16, 128) / 2 ** 20).toBeCloseTo(261, 0);
    // Model-counted FLOPs: backward 10·D per visible pair + 2·D per row (Δ): ≤ 2.6× the forward's 4·D.
    const f = attentionFlops([1, 15, 17, 1023], 3, 16);
    expect(f.forward).toBe(4 * 16 * 3 * (1 + 120 + 153 + 523776));
    expect(f.backward / f.forward).toBeLessThanOrEqual(2.6);
  });

  it('reference backward matches finite differences (with padding and GQA)', () => {
    const c: Case = { B: 2, T: 6, H: 4, Hkv: 2, D: 8, lengths: [6, 3] };
    const { B, T, H, Hkv, D } = c;
    const x = makeInputs({ ...c, qkScale: 2 }, 7);
    const r = runRef(c, x);
    const out = new Float64Array(B * T * H * D), lse = new Float64Array(B * H * T);
    const loss = (q: Float64Array, k: Float64Array, v: Float64Array) => {
      attentionForwardRef(out, lse, q, k, v, c.lengths, B, T, H, Hkv, D);
      return dot(out, x.dout);
    };
    const opts = { maxChecks: 200 };
    checkGradFD('dq', (q) => loss(q, x.k, x.v), x.q, r.dq, opts);
    checkGradFD('dk', (k) => loss(x.q, k, x.v), x.k, r.dk, opts);
    checkGradFD('dv', (v) => loss(x.q, x.k, v), x.v, r.dv, opts);
  });

  it('reference forward: causal, padding-aware, GQA mapping and lse', () => {
    const c: Case = { B: 2, T: 7, H: 4, Hkv: 2, D: 4, lengths: [7, 4] };
    const { B, T, H, Hkv, D } = c;
    const x = makeInputs(c, 11);
    const base = runRef(c, x);
    const idx = (b: number, t: number, h: number, nh: number) => ((b * T + t) * nh + h) * D;
    // Changing k, v at position 5 of sequence 0 (kv head 1) changes only rows ≥ 5 of query heads 2, 3.
    // Changing k, v at position 5 of sequence 1 (padding, length 4) changes nothing.
    for (const [b, pos] of [[0, 5], [1, 5]]) {
      const k2 = x.k.slice(), v2 = x.v.slice();
      for (let d = 0; d < D; d++) { k2[idx(b, pos, 1, Hkv) + d] += 0.5; v2[idx(b, pos, 1, Hkv) + d] -= 0.7; }
      const r2 = runRef(c, { ...x, k: k2, v: v2 });
      for (let bb = 0; bb < B; bb++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) {
        const o = idx(bb, t, h, H);
        const changed = r2.out.slice(o, o + D).some((val, d) => val !== base.out[o + d]);
        expect(changed, `b=${bb} t=${t} h=${h}`).toBe(bb === b && b === 0 && t >= pos && h >= 2);
      }
    }
    // Padding rows are zero; row 0 attends only to key 0 (out = v_0 of its kv head, lse = s_00).
    for (let h = 0; h < H; h++) {
      for (let t = 4; t < T; t++) for (let d = 0; d < D; d++) expect(base.out[idx(1, t, h, H) + d]).toBe(0);
      const g = Math.floor(h / (H / Hkv));
      let s = 0;
      for (let d = 0; d < D; d++) {
        expect(base.out[idx(0, 0, h, H) + d]).toBeCloseTo(x.v[idx(0, 0, g, Hkv) + d], 12);
        s += x.q[idx(0, 0, h, H) + d] * x.k[idx(0, 0, g, Hkv) + d];
      }
      expect(base.lse[(0 * H + h) * T + 0]).toBeCloseTo(s / Math.sqrt(D), 12);
    }
  });
});
