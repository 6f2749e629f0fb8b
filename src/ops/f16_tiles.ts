// When the GEMM may stage a 16-bit weight tile as f16 in workgroup memory (shaders/matmul.wgsl, `// #if F16`) and
// still give the bits of the f32-staged kernel. Accumulation stays f32 either way; only the staged copy of B shrinks.
//   f16 weights: always (f16 → f16 is the identity).
//   bf16 weights: when every value times one power of two 2^s is exactly an f16. bf16 keeps 8 significant bits over
//   an 8-bit exponent; f16 keeps 11 over a 5-bit one (normals 2^-14…65504, subnormals down to 2^-24). A value
//   m·2^e (m odd, ≤ 8 bits) times 2^s is an f16 iff its top bit stays ≤ 2^15 and its lowest set bit ≥ 2^-24. The
//   weight loader (src/model/weights.ts) computes, per tensor on the CPU while it streams the bytes, the range of s
//   that works for every value (bf16ScaleRange) and records it here by buffer range; a product over adjacent
//   tensors (q|k|v) intersects their ranges. The kernel multiplies each staged bf16 value by 2^s (exact in f32) and
//   the result by alpha·2^-s: every partial sum is exactly 2^s times the f32-staged kernel's, so the output has the
//   same bits, as long as no partial sum of the product falls into f32's subnormal range (|x| < 2^-126, where GPUs
//   may flush to zero anyway) or overflows. A tensor no s fits (a value below ~2^-24 next to one near 2^15, ±inf or
//   NaN) keeps the f32 tile.
import type { Buf } from '../gpu/kernel.ts';
import { isRange } from '../gpu/kernel.ts';

/** The powers of two s with value·2^s exactly an f16 for every value of a tensor: lo ≤ s ≤ hi. */
export interface F16ScaleRange {
  lo: number;
  hi: number;
}

/** Largest |s| used: keeps alpha·2^-s far from f32's subnormal and overflow ranges. */
const S_LIMIT = 40;

const ctz8 = (x: number) => 31 - Math.clz32(x & -x);

/**
 * Narrows `prev` (null: no value seen yet → the full range) to the scales under which every bf16 value of `bits`
 * is exactly an f16 times 2^-s; returns 'none' when no scale fits (then the tensor keeps the f32 tile).
 */
export function bf16ScaleRange(bits: Uint16Array, prev: F16ScaleRange | null | 'none' = null): F16ScaleRange | 'none' {
  if (prev === 'none') return 'none';
  // Over the nonzero values: the highest top-bit exponent and the lowest lowest-set-bit exponent.
  let maxTop = -Infinity;
  let minLsb = Infinity;
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] & 0x7fff;
    if (b === 0) continue;
    const e = b >> 7;
    if (e === 0xff) return 'none'; // ±inf, NaN
    let top: number, lsb: number;
    if (e === 0) { // subnormal bf16: m·2^-133
      const m = b & 0x7f;
      top = 31 - Math.clz32(m) - 133;
      lsb = ctz8(m) - 133;
    } else { // (128 + m)·2^(e - 134)
      top = e - 127;
      lsb = ctz8(128 + (b & 0x7f)) + e - 134;
    }
    if (top > maxTop) maxTop = top;
    if (lsb < minLsb) minLsb = lsb;
  }
  const lo = Math.max(prev?.lo ?? -S_LIMIT, minLsb === Infinity ? -S_LIMIT : -24 - minLsb);
  const hi = Math.min(prev?.hi ?? S_LIMIT, maxTop === -Infinity ? S_LIMIT : 15 - maxTop);
  return lo <= hi ? { lo, hi } : 'none';
}

/** The scale exponent a product uses from a range: 0 when allowed (no scaling), else the end nearest 0. */
export function pickScale(r: F16ScaleRange): number {
  return r.lo > 0 ? r.lo : r.hi < 0 ? r.hi : 0;
}

interface Rec {
  offset: number;
  end: number;
  range: F16ScaleRange | 'none';
}
const records = new WeakMap<GPUBuffer, Rec[]>();

/** Records bytes [offset, offset + bytes) of `buffer` as bf16 weights with the given f16 scale range. */
export function recordBf16Range(buffer: GPUBuffer, offset: number, bytes: number, range: F16ScaleRange | 'none'): void {
  let list = records.get(buffer);
  if (!list) records.set(buffer, (list = []));
  const end = offset + bytes;
  const kept = list.filter((r) => r.end <= offset || r.offset >= end);
  kept.push({ offset, end, range });
  kept.sort((a, b) => a.offset - b.offset);
  records.set(buffer, kept);
}

/**
 * The scale exponent s for staging bf16 operand `b` (the whole binding) as f16, or null when some of its bytes were
 * never recorded or no single s fits all of them.
 */
export function bf16TileScale(b: Buf): number | null {
  const buffer = isRange(b) ? b.buffer : b;
  const start = isRange(b) ? (b.offset ?? 0) : 0;
  const end = isRange(b) ? start + (b.size ?? buffer.size - start) : buffer.size;
  const list = records.get(buffer);
  if (!list) return null;
  let at = start;
  let lo = -S_LIMIT;
  let hi = S_LIMIT;
  for (const r of list) {
    if (r.end <= at || r.offset >= end) continue;
    if (r.offset > at) return null; // a gap
    if (r.range === 'none') return null;
    lo = Math.max(lo, r.range.lo);
    hi = Math.min(hi, r.range.hi);
    at = r.end;
    if (at >= end) break;
  }
  if (at < end || lo > hi) return null;
  return pickScale({ lo, hi });
}
