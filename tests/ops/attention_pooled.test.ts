// Attention of one query row per sequence (the pooled row) against its sequence's full K/V (the last decoder layer:
// src/ops/attention_pooled.ts) against a float64 reference on the packed batch: sequences of 1, 15, 17 (and 1023)
// tokens packed with a pad-only tail, pooled rows not always a sequence's last row, GQA 3:1 and 1:1, head dims 16,
// 64, 128; dk/dv of every row (0 past a pooled row and in the tail); a second run is bit-identical.
import { describe, expect, it } from 'vitest';
import { attentionPooledBackward, attentionPooledForward } from '../../src/ops/attention_pooled.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, u32Buffer, readF32 } from '../helpers/gpu.ts';
import { type Tol, expectClose, roundF32 } from '../helpers/check.ts';

// Same bounds as tests/ops/attention.test.ts (observed errors there: out ≤ 2e-7, lse ≤ 1e-6, grads ≤ 2e-6).
const TOL_OUT: Tol = { atol: 1e-5, rtol: 1e-4 };
const TOL_LSE: Tol = { atol: 1e-5, rtol: 1e-5 };
const TOL_GRAD: Tol = { atol: 5e-5, rtol: 1e-3 };

interface Case { lengths: number[]; tail: number; H: number; Hkv: number; D: number; back: number[] }

function reference(c: Case, cu: number[], pool: number[], q: Float64Array, k: Float64Array, v: Float64Array, dout: Float64Array, M: number) {
  const { H, Hkv, D } = c;
  const B = c.lengths.length, G = H / Hkv, scale = 1 / Math.sqrt(D);
  const out = new Float64Array(B * H * D), lse = new Float64Array(B * H), dq = new Float64Array(B * H * D);
  const dk = new Float64Array(M * Hkv * D), dv = new Float64Array(M * Hkv * D);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / G), qo = (pool[b] * H + h) * D, oo = (b * H + h) * D;
      const keys = Array.from({ length: pool[b] - cu[b] + 1 }, (_, i) => cu[b] + i);
      const s = keys.map((j) => { let t = 0; for (let d = 0; d < D; d++) t += q[qo + d] * k[(j * Hkv + kvh) * D + d]; return t * scale; });
      const m = Math.max(...s);
      const sum = s.reduce((a, x) => a + Math.exp(x - m), 0);
      lse[b * H + h] = m + Math.log(sum);
      const P = s.map((x) => Math.exp(x - lse[b * H + h]));
      keys.forEach((j, i) => { for (let d = 0; d < D; d++) out[oo + d] += P[i] * v[(j * Hkv + kvh) * D + d]; });
      let delta = 0;
      for (let d = 0; d < D; d++) delta += dout[oo + d] * out[oo + d];
      keys.forEach((j, i) => {
        let dp = 0;
        for (let d = 0; d < D; d++) dp += dout[oo + d] * v[(j * Hkv + kvh) * D + d];
        const ds = P[i] * (dp - delta);
        for (let d = 0; d < D; d++) {
          const kv = (j * Hkv + kvh) * D + d;
          dq[oo + d] += scale * ds * k[kv];
          dk[kv] += scale * ds * q[qo + d];
          dv[kv] += P[i] * dout[oo + d];
        }
      });
    }
  return { out, lse, dq, dk, dv };
}

async function runCase(c: Case, seed: number) {
  const gpu = await getTestGpu();
  const rng = new Rng(seed);
  const { H, Hkv, D } = c;
  const B = c.lengths.length;
  const cu = [0];
  for (const n of c.lengths) cu.push(cu[cu.length - 1] + n);
  const M = cu[B] + c.tail;
  cu.push(M);
  const pool = c.lengths.map((n, b) => cu[b] + Math.max(0, n - 1 - c.back[b]));
  const q = roundF32(randomArray(rng, M * H * D)), k = roundF32(randomArray(rng, M * Hkv * D)), v = roundF32(randomArray(rng, M * Hkv * D));
  const dout = roundF32(randomArray(rng, B * H * D));
  const kvB = Math.ceil((M * Hkv * D * 4) / 256) * 256;
  const bufs = {
    q: f32Buffer(gpu, 'q', q), k: f32Buffer(gpu, 'k', k), v: f32Buffer(gpu, 'v', v), dout: f32Buffer(gpu, 'dout', dout),
    pool: u32Buffer(gpu, 'pool', pool), cu: u32Buffer(gpu, 'cu', cu),
    out: createStorage(gpu, 'out', B * H * D * 4), stats: createStorage(gpu, 'stats', B * H * 8), dq: createStorage(gpu, 'dq', B * H * D * 4),
    dkv: f32Buffer(gpu, 'dkv', new Float32Array((2 * kvB) / 4).fill(7)), // stale values must be overwritten
  };
  const dk = { buffer: bufs.dkv, offset: 0, size: M * Hkv * D * 4 }, dv = { buffer: bufs.dkv, offset: kvB, size: M * Hkv * D * 4 };
  const ks = [
    attentionPooledForward(gpu, bufs.out, bufs.stats, bufs.q, bufs.k, bufs.v, bufs.pool, bufs.cu, B, M, H, Hkv, D),
    attentionPooledBackward(gpu, bufs.dq, dk, dv, bufs.dout, bufs.q, bufs.k, bufs.v, bufs.out, bufs.stats, bufs.pool, bufs.cu, B, M, H, Hkv, D),
  ];
  const read = async () => {
    await runKernels(gpu, ks);
    const stats = await readF32(gpu, bufs.stats, B * H * 2);
    const dkv = await readF32(gpu, bufs.dkv, (2 * kvB) / 4);
    return {
      out: await readF32(gpu, bufs.out, B * H * D), lse: stats.filter((_, i) => i % 2 === 0), dq: await readF32(gpu, bufs.dq, B * H * D),
      dk: dkv.slice(0, M * Hkv * D), dv: dkv.slice(kvB / 4, kvB / 4 + M * Hkv * D),
    };
  };
  const g = await read();
  const r = reference(c, cu, pool, q, k, v, dout, M);
  const name = `lengths ${c.lengths.join(',')} H=${H} Hkv=${Hkv} D=${D}`;
  expectClose(`${name} out`, g.out, r.out, TOL_OUT);
  expectClose(`${name} lse`, g.lse, r.lse, TOL_LSE);
  expectClose(`${name} dq`, g.dq, r.dq, TOL_GRAD);
  expectClose(`${name} dk`, g.dk, r.dk, TOL_GRAD);
  expectClose(`${name} dv`, g.dv, r.dv, TOL_GRAD);
  const again = await read();
  for (const key of ['out', 'lse', 'dq', 'dk', 'dv'] as const) expect([...again[key]], `${name} ${key}: rerun`).toEqual([...g[key]]);
  for (const b of Object.values(bufs)) b.destroy();
}

describe('attention_pooled (one query per sequence, full K/V)', () => {
  it('lengths 1, 15, 17 + tail: GQA 3:1 at D = 16 and 64, 1:1 at D = 128; pooled rows before a sequence end', async () => {
    await runCase({ lengths: [1, 15, 17, 9], tail: 5, H: 6, Hkv: 2, D: 16, back: [0, 2, 0, 4] }, 1);
    await runCase({ lengths: [17, 1, 15, 2], tail: 0, H: 6, Hkv: 2, D: 64, back: [16, 0, 0, 1] }, 2);
    await runCase({ lengths: [15, 17], tail: 3, H: 2, Hkv: 2, D: 128, back: [0, 3] }, 3);
  });
  it('a 1023-token sequence with 1, 15, 17 (several key chunks), GQA 3:1, D = 128', async () => {
    await runCase({ lengths: [1, 15, 17, 1023], tail: 8, H: 3, Hkv: 1, D: 128, back: [0, 0, 1, 5] }, 4);
  });
});
