// IEEE binary16 (f16) ↔ binary32 on raw bits: no float arithmetic, so the result does not depend on the GPU's
// rounding, subnormal flushing or NaN handling, and no shader-f16 is needed. Appended by src/ops/convert.ts and
// src/ops/act16.ts. CPU references: src/ops/convert.ref.ts (from the formats' definitions, not bit tricks).

// f16 bits → f32 bits. Exact: f16 subnormals become f32 normals; Inf/NaN kept with their payload.
fn f16_to_f32_bits(h: u32) -> u32 {
  let s = (h & 0x8000u) << 16u;
  let e = (h >> 10u) & 0x1fu;
  let mant = h & 0x3ffu;
  if (e == 0x1fu) { return s | 0x7f800000u | (mant << 13u); }          // Inf / NaN
  if (e != 0u) { return s | ((e + 112u) << 23u) | (mant << 13u); }     // normal: rebias 15 → 127
  if (mant == 0u) { return s; }                                         // ±0
  // subnormal mant·2^-24 = 1.f · 2^(k-24), k = index of the top set bit
  let k = 31u - countLeadingZeros(mant);
  return s | ((k + 103u) << 23u) | ((mant << (23u - k)) & 0x7fffffu);
}

// f32 bits → f16 bits, round to nearest even. |x| ≥ 65520 (half an ulp past 65504) → ±Inf, as IEEE overflow;
// |x| ≤ 2^-25 → ±0; below 2^-14 a subnormal, rounded as such; NaN → quiet NaN (sign and top payload bits kept).
fn f32_to_f16_bits(x: u32) -> u32 {
  let s = (x >> 16u) & 0x8000u;
  let a = x & 0x7fffffffu;
  if (a > 0x7f800000u) { return s | 0x7e00u | ((a >> 13u) & 0x3ffu); } // NaN
  if (a >= 0x477ff000u) { return s | 0x7c00u; }                         // ≥ 65520 (and Inf) → Inf
  if (a >= 0x38800000u) {                                               // ≥ 2^-14: normal f16
    let r = a - 0x38000000u;                                            // rebias 127 → 15 (112 << 23)
    return s | ((r + 0xfffu + ((r >> 13u) & 1u)) >> 13u);              // ties to even; a carry bumps the exponent
  }
  if (a < 0x33000000u) { return s; }                                    // < 2^-25 → ±0
  // subnormal: |x| / 2^-24 = m · 2^(e-126), m the 24-bit significand, e ∈ [102, 112] → shift right by 126 - e
  let e = a >> 23u;
  let m = (a & 0x7fffffu) | 0x800000u;
  let k = 126u - e;
  var q = m >> k;
  let rem = m & ((1u << k) - 1u);
  let half = 1u << (k - 1u);
  if (rem > half || (rem == half && (q & 1u) == 1u)) { q += 1u; }      // may carry into the exponent: correct
  return s | q;
}
