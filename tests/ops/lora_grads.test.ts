// The grouped LoRA backward products (ws = dout_g·B_g of every part, one launch; dB of every part + dA, one launch) against the float64 reference at awkward shapes:
// parts of unequal width, ranks that are not a multiple of the 16-wide tile (3, 20), row counts that leave partial
// slices and quarters, a dout column offset and row stride, dropout with a salt per part, accumulate on and off,
// and run-to-run bit identity.
import { describe, expect, it } from 'vitest';
import { loraDoutB, loraGrads } from '../../src/ops/lora_grads.ts';
import { loraDoutBRef, loraGradsRef } from '../../src/ops/lora_grads.ref.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { dropoutMaskRef } from '../../src/ops/lora.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { writeBuffer } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32, u32Buffer } from '../helpers/gpu.ts';
import { type Tol, expectClose, roundF32 } from '../helpers/check.ts';

// f32 dot products of length M (Higham §3.1): atol = (M+8)·2⁻²⁴·max Σ|terms|, rtol 2⁻²¹ for scale/accumulate.
function tolFor(L: number, mag: ArrayLike<number>): Tol {
  let mx = 0;
  for (let i = 0; i < mag.length; i++) mx = Math.max(mx, Math.abs(mag[i]));
  return { atol: (L + 8) * 2 ** -24 * mx, rtol: 2 ** -21 };
}
const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);

interface Case { M: number; K: number; R: number; partN: number[]; ldo: number; dcol: number; scale: number; p: number; salts: number[]; accumulate: boolean; glu?: boolean }
const cases: Case[] = [
  { M: 37, K: 70, R: 3, partN: [70, 33, 33], ldo: 141, dcol: 5, scale: 2, p: 0, salts: [0, 0, 0], accumulate: false },
  { M: 130, K: 65, R: 20, partN: [40, 40], ldo: 80, dcol: 0, scale: 0.5, p: 0.3, salts: [7, 8], accumulate: true },
  { M: 1, K: 1, R: 16, partN: [1], ldo: 1, dcol: 0, scale: 1.25, p: 0.2, salts: [3], accumulate: true },
  // down_proj without a stored h: inp given as [gate | up] rows, the input is silu(gate)·up
  { M: 21, K: 30, R: 5, partN: [19], ldo: 19, dcol: 0, scale: 0.75, p: 0.15, salts: [4], accumulate: false, glu: true },
];

describe('lora grads (grouped ws, dB + dA)', () => {
  for (const c of cases) {
    const { M, K, R, partN, ldo, dcol, scale, p, salts, accumulate, glu } = c;
    const G = partN.length;
    const N = partN.reduce((a, b) => a + b, 0);
    it(`M=${M} K=${K} R=${R} parts=${partN.join('|')} dropout=${p} accumulate=${accumulate}${glu ? ' glu' : ''}`, async () => {
      const gpu = await getTestGpu();
      const rng = new Rng(M * 31 + K);
      const dout = roundF32(randomArray(rng, M * ldo));
      const xa = roundF32(randomArray(rng, M * G * R)), ws = roundF32(randomArray(rng, M * G * R));
      // glu: the buffer holds [gate | up] rows; the reference input is h = silu(gate)·up in float64
      const stored = roundF32(randomArray(rng, M * K * (glu ? 2 : 1)));
      const inp = glu ? Float64Array.from({ length: M * K }, (_, e) => {
        const m = Math.floor(e / K), k = e % K, g = stored[m * 2 * K + k];
        return (g / (1 + Math.exp(-g))) * stored[m * 2 * K + K + k];
      }) : stored;
      const prevDB = roundF32(randomArray(rng, N * R)), prevDA = roundF32(randomArray(rng, G * R * K));
      const seed = 0xc0ffee;
      const dBB = f32Buffer(gpu, 'dB', prevDB), dAB = f32Buffer(gpu, 'dA', prevDA);
      const k = loraGrads(gpu, {
        dB: dBB, dA: dAB, dout: f32Buffer(gpu, 'dout', dout), ldo, dcol, xa: f32Buffer(gpu, 'xa', xa), ws: f32Buffer(gpu, 'ws', ws),
        inp: f32Buffer(gpu, 'inp', stored), M, K, R, partN, scale, accumulate, seed: u32Buffer(gpu, 'seed', [seed]),
        dropout: p > 0 ? { p, salts } : undefined, inpGlu: glu,
      });
      expect(k.dispatches.length, 'one launch for every part').toBe(1);
      await runKernels(gpu, [k]);
      const masks = partN.map((_, g) => (p > 0 ? dropoutMaskRef(seed, salts[g], p, M, K) : null));
      const dBRef = Float64Array.from(prevDB), dARef = Float64Array.from(prevDA);
      loraGradsRef(dBRef, dARef, dout, ldo, dcol, xa, ws, inp, M, K, R, partN, scale, accumulate, masks);
      const dBMag = new Float64Array(N * R), dAMag = new Float64Array(G * R * K);
      loraGradsRef(dBMag, dAMag, abs(dout), ldo, dcol, abs(xa), abs(ws), abs(inp), M, K, R, partN, Math.abs(scale), false, masks);
      const gotB = await readF32(gpu, dBB), gotA = await readF32(gpu, dAB);
      expectClose('dB', gotB, dBRef, tolFor(M, dBMag));
      // ws = dout_g·B_g for every part in one launch (the product before dinp and dA)
      const Bm = roundF32(randomArray(rng, N * R));
      const wsB = createStorage(gpu, 'ws.out', M * G * R * 4);
      const kw = loraDoutB(gpu, wsB, f32Buffer(gpu, 'dout2', dout), ldo, dcol, f32Buffer(gpu, 'B', Bm), M, R, partN);
      expect(kw.dispatches.length).toBe(1);
      await runKernels(gpu, [kw]);
      const wsRef = new Float64Array(M * G * R), wsMag = new Float64Array(M * G * R);
      loraDoutBRef(wsRef, dout, ldo, dcol, Bm, M, R, partN);
      loraDoutBRef(wsMag, abs(dout), ldo, dcol, abs(Bm), M, R, partN);
      expectClose('ws', await readF32(gpu, wsB), wsRef, tolFor(Math.max(...partN), wsMag));
      expectClose('dA', gotA, dARef, tolFor(M, dAMag));

      // The same launch again from the same inputs: bit-identical (fixed summation order, no atomics).
      writeBuffer(gpu, dBB, Float32Array.from(prevDB));
      writeBuffer(gpu, dAB, Float32Array.from(prevDA));
      await runKernels(gpu, [k]);
      expect(Array.from(await readF32(gpu, dBB))).toEqual(Array.from(gotB));
      expect(Array.from(await readF32(gpu, dAB))).toEqual(Array.from(gotA));
    });
  }
});
