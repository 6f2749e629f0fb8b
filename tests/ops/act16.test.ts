// 16-bit activation storage (src/ops/act16.ts) against the value-level CPU reference: pack f32 → f16 words and unpack
// f16 → f32 over several segments per dispatch (and more than one dispatch), strided blocks (the v columns of a
// q|k|v row), the rounding cases of interest (ties to even, the largest f16, overflow to Inf, subnormals, ±0) and
// random values over 50 binades. Both directions are exact integer functions: bits must match (NaN: any NaN), and
// nothing outside the segments may change.
import { describe, expect, it } from 'vitest';
import { act16Pack, act16Unpack, type Act16Segment } from '../../src/ops/act16.ts';
import { act16PackRef, act16UnpackRef, type Act16SegmentRef } from '../../src/ops/act16.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { readF32, readU32, uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng } from '../../src/util/random.ts';
import { getTestGpu } from '../helpers/gpu.ts';

const JUNK = 0xdeadbeef;
const SPECIAL = [
  0, -0, 1, -1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, -(1 + 2 ** -11), 65504, 65519.99, 65520, -70000, 2 ** -14,
  2 ** -14 - 2 ** -30, 2 ** -24, 1.5 * 2 ** -24, 2.5 * 2 ** -24, 2 ** -25, 2 ** -25 + 2 ** -40, 2 ** -26, Infinity, -Infinity, NaN,
  1e-8, 3.14159, -2.71828, 1000.5, 2049, 4097,
];

/** Values of every kind: the special cases first, then random signs and binades 2^-30 .. 2^20. */
function values(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a[i] = i < SPECIAL.length ? SPECIAL[i] : (rng.uniform() < 0.5 ? -1 : 1) * (1 + rng.uniform()) * 2 ** (rng.int(51) - 30);
  }
  return a;
}

const halvesOf = (words: Uint32Array) => new Uint16Array(words.buffer, words.byteOffset, words.length * 2);

describe('act16 pack / unpack', () => {
  it('five segments (two dispatches), strided and offset, bit-exact both ways; nothing else written', async () => {
    const gpu = await getTestGpu();
    const rng = new Rng(16);
    // three f32 tensors: a (7, 10), b (13, 6) used as two column blocks (strided), c (5, 34)
    const a = values(rng, 7 * 10), b = values(rng, 13 * 6), c = values(rng, 5 * 34 + 4);
    const segsRef = (ta: Float32Array, tb: Float32Array, tc: Float32Array): Act16SegmentRef[] => [
      { f32: ta, rows: 7, cols: 10, hOffset: 0 },
      { f32: tb, rows: 13, cols: 2, fStride: 6, hOffset: 70, hStride: 8 }, // b's first 2 columns, a wider packed row
      { f32: tb, rows: 13, cols: 4, fStride: 6, fOffset: 2, hOffset: 72, hStride: 8 }, // and its last 4
      { f32: tc, rows: 5, cols: 34, fOffset: 4, hOffset: 176 },
      { f32: ta, rows: 2, cols: 4, fStride: 10, fOffset: 52, hOffset: 346 }, // a's rows 5 and 6 again, columns 2..5
    ];
    const words = 346 / 2 + 4 + 3; // + 3 words past the end stay junk
    const packed = uploadBuffer(gpu, 'packed', new Uint32Array(words).fill(JUNK));
    const ga = uploadBuffer(gpu, 'a', a), gb = uploadBuffer(gpu, 'b', b), gc = uploadBuffer(gpu, 'c', c);
    const segs = (xa: GPUBuffer, xb: GPUBuffer, xc: GPUBuffer): Act16Segment[] =>
      segsRef(a, b, c).map((s, i) => ({ ...s, f32: [xa, xb, xb, xc, xa][i] }));
    const pack = act16Pack(gpu, packed, segs(ga, gb, gc));
    expect(pack.dispatches.length).toBe(2);
    await runKernels(gpu, [pack]);
    const got = halvesOf(await readU32(gpu, packed, words));
    const want = halvesOf(new Uint32Array(words).fill(JUNK));
    act16PackRef(want, segsRef(a, b, c));
    const bad: string[] = [];
    for (let h = 0; h < want.length; h++) {
      const nan = (want[h] & 0x7c00) === 0x7c00 && (want[h] & 0x3ff) !== 0;
      const ok = nan ? (got[h] & 0x7c00) === 0x7c00 && (got[h] & 0x3ff) !== 0 : got[h] === want[h];
      if (!ok && bad.length < 5) bad.push(`half ${h}: got 0x${got[h].toString(16)} want 0x${want[h].toString(16)}`);
    }
    expect(bad).toEqual([]);
    // spot checks of the rounding rules themselves (independent of the reference)
    expect(got[2]).toBe(0x3c00); // 1
    expect(got[4]).toBe(0x3c00); // 1 + 2^-11: tie → even (1)
    expect(got[5]).toBe(0x3c02); // 1 + 3·2^-11: tie → even (1 + 2^-9)
    expect(got[7]).toBe(0x7bff); // 65504
    expect(got[8]).toBe(0x7bff); // 65519.99
    expect(got[9]).toBe(0x7c00); // 65520 → Inf

    // unpack into junk-filled tensors: the segments get the f16 values, everything else stays junk
    const junkF = (n: number) => new Float32Array(new Uint32Array(n).fill(JUNK).buffer);
    const ua = uploadBuffer(gpu, 'ua', junkF(a.length)), ub = uploadBuffer(gpu, 'ub', junkF(b.length)), uc = uploadBuffer(gpu, 'uc', junkF(c.length));
    await runKernels(gpu, [act16Unpack(gpu, packed, segs(ua, ub, uc))]);
    const ra = junkF(a.length), rb = junkF(b.length), rc = junkF(c.length);
    act16UnpackRef(got, segsRef(ra, rb, rc));
    for (const [name, buf, ref] of [['a', ua, ra], ['b', ub, rb], ['c', uc, rc]] as const) {
      const g = new Uint32Array((await readF32(gpu, buf, ref.length)).buffer), w = new Uint32Array(ref.buffer);
      const diff = [...w.keys()].filter((i) => g[i] !== w[i] && !(Number.isNaN(ref[i]) && ((g[i] >>> 23) & 0xff) === 0xff && (g[i] & 0x7fffff) !== 0));
      expect(diff.slice(0, 5).map((i) => `${name}[${i}] got 0x${g[i].toString(16)} want 0x${w[i].toString(16)}`)).toEqual([]);
    }
  });

  it('the v columns of a packed q|k|v row unpack into their own tensor (the backward restores v from qkv)', async () => {
    const gpu = await getTestGpu();
    const rng = new Rng(3);
    const M = 37, NQ = 12, NK = 6, N = NQ + 2 * NK; // q|k|v columns
    const qkv = values(rng, M * N);
    const packed = uploadBuffer(gpu, 'packed', new Uint32Array(M * N / 2).fill(JUNK));
    await runKernels(gpu, [act16Pack(gpu, packed, [{ f32: uploadBuffer(gpu, 'qkv', qkv), rows: M, cols: N, hOffset: 0 }])]);
    const v = uploadBuffer(gpu, 'v', new Float32Array(M * NK).fill(7));
    await runKernels(gpu, [act16Unpack(gpu, packed, [{ f32: v, rows: M, cols: NK, hOffset: NQ + NK, hStride: N }])]);
    const got = await readF32(gpu, v, M * NK);
    const want = new Float32Array(M * NK);
    const h = halvesOf(await readU32(gpu, packed, M * N / 2));
    act16UnpackRef(h, [{ f32: want, rows: M, cols: NK, hOffset: NQ + NK, hStride: N }]);
    for (let i = 0; i < M * NK; i++) {
      const ref = qkv[Math.floor(i / NK) * N + NQ + NK + (i % NK)];
      if (Number.isNaN(ref)) expect(Number.isNaN(got[i])).toBe(true);
      else expect(Object.is(got[i], want[i]), `v[${i}] ${got[i]} vs ${want[i]}`).toBe(true);
    }
  });

  it('rejects odd widths, odd offsets and blocks past a buffer, naming the segment', async () => {
    const gpu = await getTestGpu();
    const t = uploadBuffer(gpu, 't', new Float32Array(16));
    const p = uploadBuffer(gpu, 'p', new Uint32Array(8));
    expect(() => act16Pack(gpu, p, [{ f32: t, rows: 2, cols: 3, hOffset: 0 }])).toThrow(/segment 0 cols 3 must be even/);
    expect(() => act16Pack(gpu, p, [{ f32: t, rows: 2, cols: 4, hOffset: 0 }, { f32: t, rows: 1, cols: 2, hOffset: 9 }])).toThrow(/segment 1 hOffset 9 must be even/);
    expect(() => act16Unpack(gpu, p, [{ f32: t, rows: 5, cols: 4, hOffset: 0 }])).toThrow(/segment 0 needs 80 bytes of t/);
  });
});
