// Fused q_norm/k_norm + RoPE (+ v copy) forward and backward on the GPU against the float64 reference, at awkward
// shapes (odd head count, D/2 odd, a single row, GQA), with the norm-weight gradients (full fine-tuning).
import { describe, expect, it } from 'vitest';
import { qkNormRopeBackward, qkNormRopeForward, qkNormRopeWorkspaceBytes } from '../../src/ops/qk_norm_rope.ts';
import { qkNormRopeBackwardRef, qkNormRopeForwardRef } from '../../src/ops/qk_norm_rope.ref.ts';
import { ropeTable } from '../../src/ops/rope.ts';
import { destroyKernels, runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, u32Buffer, readF32 } from '../helpers/gpu.ts';
import { expectClose, roundF32 } from '../helpers/check.ts';

// f32 sums of D ≤ 32 squares and products, rstd by inverseSqrt (a few ulp): ~1e-6 relative on outputs of order 1;
// the backward subtracts two such terms. A wrong pair, position, head mapping or norm term is off by 0.1–1.
const TOL = { atol: 2e-5, rtol: 1e-4 };
const TOL_DW = { atol: 1e-4, rtol: 1e-4 };

/** Ranges of one buffer, each starting on a 256-byte boundary (as parameters in blocks are placed). */
function packed(gpu: Awaited<ReturnType<typeof getTestGpu>>, label: string, parts: ArrayLike<number>[]) {
  const offs: number[] = [];
  let n = 0;
  for (const p of parts) { offs.push(n); n = Math.ceil((n + p.length) / 64) * 64; }
  const all = new Float32Array(n);
  parts.forEach((p, i) => all.set(Array.from(p), offs[i]));
  const buffer = f32Buffer(gpu, label, all);
  return { buffer, ranges: parts.map((p, i) => ({ buffer, offset: offs[i] * 4, size: p.length * 4 })) };
}

const CASES = [
  { M: 1, H: 1, Hkv: 1, D: 2 },
  { M: 7, H: 3, Hkv: 1, D: 6 },       // D/2 odd, GQA 3
  { M: 37, H: 4, Hkv: 2, D: 32 },
];

describe('qk_norm_rope', () => {
  for (const c of CASES) {
    it(`forward and backward (with norm weight gradients) match float64, M=${c.M} H=${c.H} Hkv=${c.Hkv} D=${c.D}`, async () => {
      const gpu = await getTestGpu();
      const { M, H, Hkv, D } = c;
      const eps = 1e-6, maxT = 50, U = H + 2 * Hkv;
      const rng = new Rng(M * 100 + D);
      const qkv = roundF32(randomArray(rng, M * U * D, -2, 2));
      const qw = roundF32(randomArray(rng, D, 0.5, 1.5)), kw = roundF32(randomArray(rng, D, 0.5, 1.5));
      const dq = roundF32(randomArray(rng, M * H * D)), dk = roundF32(randomArray(rng, M * Hkv * D)), dv = roundF32(randomArray(rng, M * Hkv * D));
      const positions = Array.from({ length: M }, () => rng.int(maxT));
      const { cos, sin } = ropeTable(maxT, D, 1e6);
      const dqw0 = roundF32(randomArray(rng, D)), dkw0 = roundF32(randomArray(rng, D));

      const norms = packed(gpu, 'norms', [qw, kw]);
      const tab = packed(gpu, 'rope', [cos, sin]);
      const d3 = packed(gpu, 'd3', [dq, dk, dv]);
      const grads = packed(gpu, 'grads', [dqw0, dkw0]);
      const qkvB = f32Buffer(gpu, 'qkv', qkv), pos = u32Buffer(gpu, 'pos', positions);
      const garbage = (n: number, l: string) => f32Buffer(gpu, l, new Float32Array(n).fill(777));
      const qr = garbage(M * H * D, 'qr'), kr = garbage(M * Hkv * D, 'kr'), v = garbage(M * Hkv * D, 'v'), rstd = garbage(M * (H + Hkv), 'rstd');
      const dqkv = garbage(M * U * D, 'dqkv'), ws = createStorage(gpu, 'ws', qkNormRopeWorkspaceBytes(M, D));
      const a = { qNorm: norms.ranges[0], kNorm: norms.ranges[1], cos: tab.ranges[0], sin: tab.ranges[1], positions: pos, M, H, Hkv, D, eps };
      const ks = [
        qkNormRopeForward(gpu, qr, kr, v, rstd, qkvB, a),
        qkNormRopeBackward(gpu, dqkv, grads.ranges[0], grads.ranges[1], ws, d3.ranges[0], d3.ranges[1], d3.ranges[2], qkvB, rstd, a),
      ];
      await runKernels(gpu, ks);

      const rq = new Float64Array(M * H * D), rk = new Float64Array(M * Hkv * D), rv = new Float64Array(M * Hkv * D), rr = new Float64Array(M * (H + Hkv));
      qkNormRopeForwardRef(rq, rk, rv, rr, qkv, qw, kw, cos, sin, positions, M, H, Hkv, D, eps);
      const rdqkv = new Float64Array(M * U * D), rdqw = Float64Array.from(dqw0), rdkw = Float64Array.from(dkw0);
      qkNormRopeBackwardRef(rdqkv, rdqw, rdkw, dq, dk, dv, qkv, qw, kw, cos, sin, positions, M, H, Hkv, D, eps);

      expectClose('qr', await readF32(gpu, qr), rq, TOL);
      expectClose('kr', await readF32(gpu, kr), rk, TOL);
      expect(Array.from(await readF32(gpu, v)), 'v copied exactly').toEqual(Array.from(rv));
      expectClose('rstd', await readF32(gpu, rstd), rr, TOL);
      expectClose('dqkv', await readF32(gpu, dqkv), rdqkv, TOL);
      const g = await readF32(gpu, grads.buffer);
      expectClose('dq_norm', g.subarray(0, D), rdqw, TOL_DW);
      expectClose('dk_norm', g.subarray(grads.ranges[1].offset / 4, grads.ranges[1].offset / 4 + D), rdkw, TOL_DW);
      destroyKernels(ks);
    });
  }
});
