// Embedding lookup for f32 / f16 / bf16 tables and the deterministic CSR-plan backward, against the float64
// reference; the plan's structure; the reference backward against finite differences.
import { describe, expect, it } from 'vitest';
import {
  embeddingForward, embeddingBackward, embeddingBackwardPlan, createEmbeddingPlanBuffers, writeEmbeddingPlan,
  embeddingTableBytes, type WeightDtype,
} from '../../src/ops/embedding.ts';
import { embeddingForwardRef, embeddingBackwardRef } from '../../src/ops/embedding.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage, uploadBuffer, writeBuffer } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, u32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';

// Random 16-bit patterns of normal numbers (and zeros), decoded here independently of the shader.
function randomHalf(rng: Rng, dtype: 'f16' | 'bf16'): { bits: number; value: number } {
  const s = rng.int(2);
  if (rng.int(16) === 0) return { bits: s << 15, value: s ? -0 : 0 };
  if (dtype === 'f16') {
    const e = 1 + rng.int(30), m = rng.int(1024);          // normal f16: exponent 1..30
    return { bits: (s << 15) | (e << 10) | m, value: (s ? -1 : 1) * 2 ** (e - 15) * (1 + m / 1024) };
  }
  const e = 100 + rng.int(50), m = rng.int(128);           // bf16 with |x| in about [2^-27, 2^23)
  return { bits: (s << 15) | (e << 7) | m, value: (s ? -1 : 1) * 2 ** (e - 127) * (1 + m / 128) };
}

/** A (V,C) table in `dtype`: the GPU bytes and the decoded float64 values. */
function randomTable(rng: Rng, V: number, C: number, dtype: WeightDtype): { bytes: Uint32Array; values: Float64Array } {
  if (dtype === 'f32') {
    const values = roundF32(randomArray(rng, V * C, -2, 2));
    return { bytes: new Uint32Array(Float32Array.from(values).buffer), values };
  }
  const values = new Float64Array(V * C);
  const bytes = new Uint32Array(embeddingTableBytes(V, C, dtype) / 4);
  for (let e = 0; e < V * C; e++) {
    const h = randomHalf(rng, dtype);
    values[e] = h.value;
    bytes[e >> 1] |= h.bits << ((e & 1) * 16);   // low half first
  }
  return { bytes, values };
}

/** BT ids in [0, V) with many repeats, including 0 and V−1. */
function randomIds(rng: Rng, BT: number, V: number): Uint32Array {
  const ids = new Uint32Array(BT);
  const hot = [0, 3, 7, V - 1].filter((id) => id < V);
  for (let i = 0; i < BT; i++) ids[i] = rng.int(2) ? hot[rng.int(hot.length)] : rng.int(V);
  ids[0] = 0;
  ids[BT - 1] = V - 1;
  return ids;
}

describe('embedding', () => {
  for (const dtype of ['f32', 'f16', 'bf16'] as const) {
    for (const [V, C, BT] of [[50, 33, 40], [17, 64, 9]]) {
      it(`forward gathers exact rows: ${dtype}, V=${V}, C=${C}, BT=${BT}`, async () => {
        const gpu = await getTestGpu();
        const rng = new Rng(V * C + BT);
        const table = randomTable(rng, V, C, dtype);
        const ids = randomIds(rng, BT, V);
        const wte = uploadBuffer(gpu, 'wte', table.bytes), idsB = u32Buffer(gpu, 'ids', ids);
        const out = createStorage(gpu, 'out', BT * C * 4);
        await runKernels(gpu, [embeddingForward(gpu, out, idsB, wte, BT, C, { weightDtype: dtype })]);
        const ref = new Float64Array(BT * C);
        embeddingForwardRef(ref, ids, table.values, BT, C);
        // A copy: exact (16-bit → f32 decoding is exact), including the sign of zero.
        const got = await readF32(gpu, out);
        expectClose('out', got, ref, { atol: 0, rtol: 0 });
        for (let i = 0; i < ref.length; i++) if (Object.is(ref[i], -0)) expect(Object.is(got[i], -0), `out[${i}] is -0`).toBe(true);
      });
    }
  }

  it('backward adds per-id sums of dout rows; the same kernel is reused with a rewritten plan', async () => {
    const gpu = await getTestGpu();
    const V = 50, C = 300, BT = 40;   // C > 256: two column tiles, the second partial
    const rng = new Rng(21);
    const dwte0 = roundF32(randomArray(rng, V * C));
    const dwte = f32Buffer(gpu, 'dwte', dwte0);
    const plan = createEmbeddingPlanBuffers(gpu, BT);
    const dout = f32Buffer(gpu, 'dout', new Float32Array(BT * C));
    const kernel = embeddingBackward(gpu, dwte, dout, plan.uniq, plan.offsets, plan.positions, BT, C);
    const ref = Float64Array.from(dwte0);
    // step 1: all BT positions; step 2: only 25 positions (a shorter batch), other ids.
    for (const n of [BT, 25]) {
      const ids = randomIds(rng, n, V);
      const d = roundF32(randomArray(rng, BT * C));
      writeBuffer(gpu, dout, Float32Array.from(d));
      writeEmbeddingPlan(gpu, plan, embeddingBackwardPlan(ids, V));
      await runKernels(gpu, [kernel]);
      embeddingBackwardRef(ref, d, ids, n, C);
      // f32 sums of ≤ BT+1 terms of size ≤ 1 in a fixed order: error ≲ BT·2⁻²⁴ ≈ 3e-6 absolute.
      expectClose(`dwte after the ${n}-position step`, await readF32(gpu, dwte), ref, { atol: 5e-6, rtol: 1e-6 });
    }
  });

  it('backward is bitwise deterministic across runs', async () => {
    const gpu = await getTestGpu();
    const V = 8, C = 40, BT = 64;
    const rng = new Rng(4);
    const ids = randomIds(rng, BT, V);
    const dout = f32Buffer(gpu, 'dout', roundF32(randomArray(rng, BT * C)));
    const plan = createEmbeddingPlanBuffers(gpu, BT);
    writeEmbeddingPlan(gpu, plan, embeddingBackwardPlan(ids));
    const results: Float32Array[] = [];
    for (let r = 0; r < 2; r++) {
      const dwte = createStorage(gpu, 'dwte', V * C * 4);
      await runKernels(gpu, [embeddingBackward(gpu, dwte, dout, plan.uniq, plan.offsets, plan.positions, BT, C)]);
      results.push(await readF32(gpu, dwte));
    }
    expect(Array.from(results[1])).toEqual(Array.from(results[0]));
  });

  it('plan: unique ids ascending, every position once, grouped by id in ascending order', () => {
    const ids = Uint32Array.from([5, 0, 5, 9, 0, 5, 2]);
    const { uniq, offsets, positions } = embeddingBackwardPlan(ids);
    expect(Array.from(uniq)).toEqual([0, 2, 5, 9]);
    expect(Array.from(offsets)).toEqual([0, 2, 3, 6, 7]);
    expect(Array.from(positions)).toEqual([1, 4, 6, 0, 2, 5, 3]);
    expect(() => embeddingBackwardPlan(Uint32Array.from([1, 151936]), 151936)).toThrow(/id 151936 at position 1 .*V=151936/);
  });

  it('reference backward matches finite differences', () => {
    const V = 6, C = 5, BT = 9;
    const rng = new Rng(2);
    const ids = randomIds(rng, BT, V), wte = randomArray(rng, V * C), dout = randomArray(rng, BT * C);
    const dwte = new Float64Array(V * C), tmp = new Float64Array(BT * C);
    embeddingBackwardRef(dwte, dout, ids, BT, C);
    checkGradFD('dwte', (w) => (embeddingForwardRef(tmp, ids, w, BT, C), dot(tmp, dout)), wte, dwte);
  });
});
