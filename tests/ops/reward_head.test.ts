// Reward head (pooling of the rightmost non-pad token + score projection) on the GPU against the float64 reference;
// the reference backward against finite differences; pooling-index edge cases.
import { describe, expect, it } from 'vitest';
import { rewardHeadForward, rewardHeadBackward } from '../../src/ops/reward_head.ts';
import { rewardHeadForwardRef, rewardHeadBackwardRef } from '../../src/ops/reward_head.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage, readU32 } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, u32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';

// rewards: a C-term f32 dot product of values in [-2,2]×[-1,1] (partial sums then a tree): error ≲ C·2^-24·Σ|terms|,
// about 1e-5 for C ≤ 96; dscoreW: B-term sums of products, same order. dhidden is a single product (exact-ish).
const TOL = { atol: 2e-5, rtol: 1e-5 };
const PAD = 151643;

// Legend: B sequences, T tokens, C hidden.
function makeIds(rng: Rng, B: number, T: number, rows?: number[][]): Uint32Array {
  const ids = new Uint32Array(B * T);
  for (let b = 0; b < B; b++) {
    if (rows && rows[b]) { ids.set(rows[b], b * T); continue; }
    const len = rng.int(T + 1); // 0..T real tokens, right padded
    for (let t = 0; t < T; t++) ids[b * T + t] = t < len ? rng.int(151000) : PAD;
  }
  return ids;
}

async function runCase(B: number, T: number, C: number, seed: number, rows?: number[][], withDscore = true) {
  const gpu = await getTestGpu();
  const rng = new Rng(seed);
  const hidden = roundF32(randomArray(rng, B * T * C, -2, 2));
  const scoreW = roundF32(randomArray(rng, C));
  const drewards = roundF32(randomArray(rng, B));
  const dscore0 = roundF32(randomArray(rng, C)); // dscoreW accumulates onto existing values
  const ids = makeIds(rng, B, T, rows);

  const hB = f32Buffer(gpu, 'hidden', hidden), wB = f32Buffer(gpu, 'scoreW', scoreW), iB = u32Buffer(gpu, 'ids', ids);
  const drB = f32Buffer(gpu, 'drewards', drewards), dsB = f32Buffer(gpu, 'dscoreW', dscore0);
  const rB = createStorage(gpu, 'rewards', B * 4), pB = createStorage(gpu, 'poolIdx', B * 4);
  const dhB = f32Buffer(gpu, 'dhidden', new Float32Array(B * T * C).fill(7)); // stale values must be overwritten
  const cu = u32Buffer(gpu, 'cu', Array.from({ length: B + 1 }, (_, b) => b * T)); // padded rows = sequences of length T
  await runKernels(gpu, [
    rewardHeadForward(gpu, rB, pB, hB, iB, cu, wB, B, B * T, C, PAD),
    rewardHeadBackward(gpu, dhB, withDscore ? dsB : null, drB, hB, wB, pB, cu, B, B * T, C),
  ]);

  const rRef = new Float64Array(B), pRef = new Uint32Array(B);
  rewardHeadForwardRef(rRef, pRef, hidden, ids, scoreW, B, T, C, PAD);
  const dhRef = new Float64Array(B * T * C), dsRef = Float64Array.from(dscore0);
  rewardHeadBackwardRef(dhRef, dsRef, drewards, hidden, scoreW, pRef, B, T, C);

  expect(Array.from(await readU32(gpu, pB, B)), 'poolIdx (absolute rows)').toEqual(Array.from(pRef, (p, b) => b * T + p));
  expectClose('rewards', await readF32(gpu, rB, B), rRef, TOL);
  expectClose('dhidden', await readF32(gpu, dhB, B * T * C), dhRef, TOL);
  expectClose('dscoreW', await readF32(gpu, dsB, C), withDscore ? dsRef : dscore0, TOL);
  return pRef;
}

describe('reward_head', () => {
  for (const [B, T, C] of [[1, 1, 1], [3, 1, 32], [5, 17, 33], [4, 300, 64], [2, 7, 600]] as const) {
    it(`forward and backward match float64, B=${B} T=${T} C=${C}`, async () => {
      await runCase(B, T, C, B * 1000 + T * 10 + C);
    });
  }

  it('pooling index edge cases (first token only, all pad, pad in the middle, no pad)', async () => {
    const P = PAD;
    const rows = [
      [5, P, P, P, P],    // only the first token real → 0
      [P, P, P, P, P],    // all pad → 0
      [5, P, 7, P, P],    // pad in the middle then a real token → 2
      [P, 9, P, P, P],    // leading pad → 1
      [1, 2, 3, 4, 5],    // no pad → T-1
      [1, 2, 3, 4, P],    // ordinary right padding → 3
    ];
    const pool = await runCase(rows.length, 5, 40, 11, rows);
    expect(Array.from(pool)).toEqual([0, 0, 2, 1, 4, 3]); // from the rule itself, not from the code
  });

  it('frozen head (dscoreW null) leaves no trace and still writes dhidden', async () => {
    await runCase(3, 6, 48, 5, undefined, false);
  });

  it('score weight and its gradient as ranges of larger blocks (Buf), as the model binds them', async () => {
    const gpu = await getTestGpu();
    const B = 2, T = 3, C = 40, OFF = 64; // 64 floats = 256 bytes, the storage offset alignment
    const rng = new Rng(21);
    const hidden = roundF32(randomArray(rng, B * T * C)), scoreW = roundF32(randomArray(rng, C)), drewards = roundF32(randomArray(rng, B));
    const ids = makeIds(rng, B, T, [[1, 2, PAD], [3, PAD, PAD]]);
    const block = new Float32Array(OFF + C + 10).fill(9);
    block.set(scoreW, OFF);
    const wBlock = f32Buffer(gpu, 'params', block), gBlock = f32Buffer(gpu, 'grads', new Float32Array(OFF + C + 10));
    const wR = { buffer: wBlock, offset: OFF * 4, size: C * 4 }, gR = { buffer: gBlock, offset: OFF * 4, size: C * 4 };
    const rB = createStorage(gpu, 'rewards', B * 4), pB = createStorage(gpu, 'poolIdx', B * 4), dhB = createStorage(gpu, 'dh', B * T * C * 4);
    const hB = f32Buffer(gpu, 'hidden', hidden);
    const cu = u32Buffer(gpu, 'cu', [0, T, 2 * T]);
    await runKernels(gpu, [
      rewardHeadForward(gpu, rB, pB, hB, u32Buffer(gpu, 'ids', ids), cu, wR, B, B * T, C, PAD),
      rewardHeadBackward(gpu, dhB, gR, f32Buffer(gpu, 'dr', drewards), hB, wR, pB, cu, B, B * T, C),
    ]);
    const rRef = new Float64Array(B), pRef = new Uint32Array(B), dhRef = new Float64Array(B * T * C), dsRef = new Float64Array(C);
    rewardHeadForwardRef(rRef, pRef, hidden, ids, scoreW, B, T, C, PAD);
    rewardHeadBackwardRef(dhRef, dsRef, drewards, hidden, scoreW, pRef, B, T, C);
    expectClose('rewards', await readF32(gpu, rB, B), rRef, TOL);
    const g = await readF32(gpu, gBlock);
    expectClose('dscoreW in block', g.subarray(OFF, OFF + C), dsRef, TOL);
    expect([...g.subarray(0, OFF), ...g.subarray(OFF + C)].every((x) => x === 0), 'rest of the grad block untouched').toBe(true);
  });

  it('reference backward matches finite differences', () => {
    const B = 3, T = 4, C = 5;
    const rng = new Rng(3);
    const hidden = randomArray(rng, B * T * C, -2, 2), scoreW = randomArray(rng, C), w = randomArray(rng, B);
    const ids = makeIds(rng, B, T, [[1, 2, PAD, PAD], [PAD, PAD, PAD, PAD], [1, PAD, 3, PAD]]);
    const r = new Float64Array(B), pool = new Uint32Array(B);
    rewardHeadForwardRef(r, pool, hidden, ids, scoreW, B, T, C, PAD);
    const dh = new Float64Array(B * T * C), ds = new Float64Array(C);
    rewardHeadBackwardRef(dh, ds, w, hidden, scoreW, pool, B, T, C);
    const loss = (h: Float64Array, s: Float64Array) => (rewardHeadForwardRef(r, pool, h, ids, s, B, T, C, PAD), dot(r, w));
    checkGradFD('dhidden', (h) => loss(h, scoreW), hidden, dh);
    checkGradFD('dscoreW', (s) => loss(hidden, s), scoreW, ds);
  });
});
