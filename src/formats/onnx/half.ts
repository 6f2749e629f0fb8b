// float32 → IEEE float16 bits for ONNX FLOAT16 weights: round to nearest, ties to even (what numpy/torch
// `.half()` do); subnormals kept; |x| ≥ 65520 → ±Inf; NaN → quiet NaN with the sign kept.

export function f32ToF16Bits(v: Float32Array): Uint16Array {
  const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
  const out = new Uint16Array(v.length);
  for (let i = 0; i < u.length; i++) out[i] = oneF32ToF16(u[i]);
  return out;
}

function oneF32ToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15; // f16 biased exponent
  if (e >= 31) return sign | 0x7c00; // overflow
  if (e <= 0) {
    // subnormal f16 (or zero): value = m·2^-24 with m = round(full mantissa · 2^(e-1-13))
    if (e < -10) return sign; // below half the smallest subnormal → ±0
    const full = man | 0x800000; // 24-bit significand
    const shift = 14 - e; // 14..24
    const q = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    return sign | (q + (rem > half || (rem === half && (q & 1)) ? 1 : 0));
  }
  const q = man >>> 13;
  const rem = man & 0x1fff;
  let bits = (e << 10) | q;
  if (rem > 0x1000 || (rem === 0x1000 && (q & 1))) bits += 1; // may carry into the exponent (→ Inf at the top)
  return sign | bits;
}
