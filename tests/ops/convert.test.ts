// Dtype conversions on the GPU against value-level CPU references: every bf16 and every f16 bit pattern, and f32 → bf16
// on the patterns of interest (±0, subnormals, ties, largest finite, Inf, NaN) plus random bits. Conversions are
// exact integer functions, so results must match bit for bit (NaN: any NaN with the stated sign rules).
import { describe, expect, it } from 'vitest';
import { bf16ToF16, bf16ToF32, f16ToF32, f32ToBf16 } from '../../src/ops/convert.ts';
import { bf16BitsToNumber, f16BitsToNumber, f32ToBf16BitsRef, numberToF16Bits } from '../../src/ops/convert.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage, readU32, uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng } from '../../src/util/random.ts';
import { getTestGpu } from '../helpers/gpu.ts';
import type { Gpu } from '../../src/gpu/device.ts';

const f32Bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
const bitsF32 = (b: number) => new Float32Array(Uint32Array.of(b).buffer)[0];
const hex = (b: number) => `0x${b.toString(16)}`;

/** All 65536 16-bit patterns, preceded by `lead` junk halfwords (so the tensor starts at halfword `lead`). */
function allHalves(lead: number): Uint16Array {
  const a = new Uint16Array(lead + 65536 + 1).fill(0xabcd);
  for (let i = 0; i < 65536; i++) a[lead + i] = i;
  return a;
}

async function run16to32(gpu: Gpu, fn: typeof bf16ToF32, lead: number, outOffset: number): Promise<Uint32Array> {
  const inp = uploadBuffer(gpu, 'in16', allHalves(lead));
  const out = createStorage(gpu, 'out32', (outOffset + 65536 + 2) * 4);
  await runKernels(gpu, [fn(gpu, out, inp, 65536, { inOffset: lead, outOffset })]);
  const all = await readU32(gpu, out, outOffset + 65536 + 2);
  expect([...all.subarray(0, outOffset), ...all.subarray(outOffset + 65536)].every((x) => x === 0), 'outside untouched').toBe(true);
  return all.subarray(outOffset, outOffset + 65536);
}

/** Unpacks `count` 16-bit elements from u32 words. */
function halves(words: Uint32Array, count: number): number[] {
  return Array.from({ length: count }, (_, k) => (words[k >> 1] >>> ((k & 1) * 16)) & 0xffff);
}

function expectSameBits(name: string, got: ArrayLike<number>, want: (i: number) => number, isNaNCase: (i: number) => boolean,
  nanOk: (bits: number, i: number) => boolean): void {
  const bad: string[] = [];
  for (let i = 0; i < got.length; i++) {
    const ok = isNaNCase(i) ? nanOk(got[i], i) : got[i] === want(i);
    if (!ok && bad.length < 5) bad.push(`[${hex(i)}] got ${hex(got[i])} want ${isNaNCase(i) ? 'NaN' : hex(want(i))}`);
  }
  expect(bad, `${name} mismatches`).toEqual([]);
}

describe('convert', () => {
  it('bf16 → f32: all 65536 patterns, exact (payload kept), tensor starting at an odd halfword', async () => {
    const gpu = await getTestGpu();
    const got = await run16to32(gpu, bf16ToF32, 1, 3);
    const nan = (h: number) => Number.isNaN(bf16BitsToNumber(h));
    expectSameBits('bf16→f32', got, (h) => f32Bits(bf16BitsToNumber(h)), nan, (b, h) => b === h << 16 >>> 0);
    expect(got[0x8000]).toBe(0x80000000); // -0 keeps its sign
  });

  it('f16 → f32: all 65536 patterns, exact (subnormals, ±0, ±Inf, NaN)', async () => {
    const gpu = await getTestGpu();
    const got = await run16to32(gpu, f16ToF32, 0, 0);
    const nan = (h: number) => Number.isNaN(f16BitsToNumber(h));
    // NaN: sign kept, payload shifted into the top of the f32 mantissa.
    expectSameBits('f16→f32', got, (h) => f32Bits(f16BitsToNumber(h)), nan,
      (b, h) => b === ((((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13)) >>> 0));
    expect([got[0x0001], got[0x03ff], got[0x7bff], got[0x7c00], got[0xfc00]].map(bitsF32))
      .toEqual([2 ** -24, 1023 * 2 ** -24, 65504, Infinity, -Infinity]);
  });

  for (const [lead, count] of [[0, 65536], [1, 65535]] as const) {
    it(`bf16 → f16: all patterns, round to nearest even, overflow → ±Inf (lead ${lead}, count ${count})`, async () => {
      const gpu = await getTestGpu();
      const inp = uploadBuffer(gpu, 'bf16', allHalves(lead));
      const words = Math.ceil(count / 2);
      const out = createStorage(gpu, 'f16', (words + 2) * 4);
      await runKernels(gpu, [bf16ToF16(gpu, out, inp, count, { inOffset: lead, outOffset: 2 })]);
      const w = await readU32(gpu, out, words + 2);
      expect(w[0], 'word before the range untouched').toBe(0);
      const got = halves(w.subarray(1), count + (count % 2));
      if (count % 2) expect(got[count], 'high half of the last word').toBe(0);
      const src = (i: number) => i; // element i is bf16 pattern i
      const nan = (i: number) => Number.isNaN(bf16BitsToNumber(src(i)));
      expectSameBits('bf16→f16', got.slice(0, count), (i) => numberToF16Bits(bf16BitsToNumber(src(i))), nan,
        (b, i) => (b & 0x7c00) === 0x7c00 && (b & 0x3ff) !== 0 && (b & 0x8000) === (src(i) & 0x8000));
      // From the formats, independent of both implementations: 65280 is the largest bf16 below 65504 (exact in f16),
      // 65536 overflows; 2^-24 is f16's smallest subnormal; 2^-25 ties to even (0); 1.5·2^-25 rounds up to 2^-24.
      const bf = (x: number) => f32Bits(x) >>> 16;
      expect([got[bf(65280)], got[bf(65536)], got[bf(-65536)], got[bf(2 ** -24)], got[bf(2 ** -25)], got[bf(1.5 * 2 ** -25)]])
        .toEqual([0x7bf8, 0x7c00, 0xfc00, 0x0001, 0x0000, 0x0001]);
    });
  }

  it('f32 → bf16: ±0, subnormals, ties, largest finite, Inf, NaN and 200k random patterns, as torch rounds', async () => {
    const gpu = await getTestGpu();
    const special = [
      0x00000000, 0x80000000, 0x00000001, 0x00007fff, 0x00008000, 0x00018000, 0x00008001, 0x007fffff, 0x00800000,
      0x3f800000, 0x3f808000, 0x3f818000, 0x3f807fff, 0x3f808001, 0xbf808000, 0x7f7fffff, 0x7f7f7fff, 0x7f7f8000,
      0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00001, 0x7f800001, 0x7fffffff,
    ];
    const rng = new Rng(77);
    const bits: number[] = [...special];
    for (let i = 0; i < 100000; i++) bits.push(rng.nextU32());
    for (let i = 0; i < 100000; i++) bits.push(((rng.nextU32() & 0xffff0000) | 0x8000) >>> 0); // exact ties
    bits.push(0x3f808000); // odd count
    const count = bits.length;
    const inOffset = 5;
    const inp = uploadBuffer(gpu, 'f32', Uint32Array.from([1, 2, 3, 4, 5, ...bits]));
    const words = Math.ceil(count / 2);
    const out = createStorage(gpu, 'bf16', words * 4);
    await runKernels(gpu, [f32ToBf16(gpu, out, inp, count, { inOffset })]);
    const got = halves(await readU32(gpu, out, words), count + 1);
    expect(got[count], 'high half of the last word').toBe(0);
    expectSameBits('f32→bf16', got.slice(0, count), (i) => f32ToBf16BitsRef(bitsF32(bits[i])), () => false, () => false);
    // Hand-derived: 1 + 2^-8 ties to even → 1.0; 1 + 3·2^-8 ties up to 1 + 2^-6; f32 max rounds up to Inf; NaN → 0x7fc0.
    expect([got[10], got[11], got[15], got[21], got[22]]).toEqual([0x3f80, 0x3f82, 0x7f80, 0x7fc0, 0x7fc0]);
  });

  it('rejects odd packed output offsets and short buffers', async () => {
    const gpu = await getTestGpu();
    const b = createStorage(gpu, 'b', 16);
    expect(() => bf16ToF16(gpu, b, b, 2, { outOffset: 1 })).toThrow(/even/);
    expect(() => bf16ToF32(gpu, b, b, 5)).toThrow(/needs 20 bytes/);
    expect(() => f32ToBf16(gpu, b, b, 5)).toThrow(/needs 20 bytes/);
  });
});
