// Dtype conversions on raw bits (no float arithmetic, so no flushing of subnormals, no NaN canonicalisation, no
// implementation-defined rounding). 16-bit inputs and outputs are packed two per u32, element k in bits
// [16·(k&1), 16·(k&1)+16) of word k>>1 (little-endian, as safetensors bytes uploaded as u32 words).
//   bf16_to_f32: f32 bits = bf16 << 16 (exact, NaN payload kept)
//   f16_to_f32:  exact (f16_to_f32_bits: shaders/half_bits.wgsl, appended by src/ops/convert.ts)
//   bf16_to_f16: round to nearest even; |x| ≥ 65520 → ±Inf (IEEE overflow); |x| < 2^-25 → ±0; below 2^-14 the f16
//                result is subnormal and rounded as such; NaN → quiet NaN with the top payload bits, sign kept.
//   f32_to_bf16: round to nearest even, exactly torch's c10::BFloat16 conversion (NaN → 0x7fc0).
// Unpacked outputs: one thread per element. Packed outputs: one thread per output word (two elements; the high half
// of the last word is 0 when count is odd).

override WG: u32 = 256;

struct Params { count: u32, in_offset: u32, out_offset: u32, _pad: u32 }  // offsets in elements of in / words of out

@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<storage, read> inp: array<u32>;
@group(0) @binding(2) var<uniform> p: Params;

fn half_at(k: u32) -> u32 {
  return (inp[k >> 1u] >> ((k & 1u) * 16u)) & 0xffffu;
}

fn bf16_to_f16_bits(b: u32) -> u32 {
  let s = b & 0x8000u;
  let e = (b >> 7u) & 0xffu;
  let mant = b & 0x7fu;
  if (e == 0xffu) {
    if (mant != 0u) { return s | 0x7e00u | (mant << 3u); }             // NaN, quiet
    return s | 0x7c00u;                                                 // Inf
  }
  if (e == 0u) { return s; }                                            // bf16 zero / subnormal (< 2^-126) → ±0
  let E = i32(e) - 127;
  if (E > 15) { return s | 0x7c00u; }                                   // ≥ 65536 → Inf (bf16 has no value in (65280, 65536))
  if (E >= -14) { return s | (u32(E + 15) << 10u) | (mant << 3u); }     // normal f16: exact
  // f16 subnormal: |x| / 2^-24 = (128 + mant) · 2^(E+17), E + 17 ≤ 2; round half to even when shifting right.
  let full = 128u + mant;
  let sh = E + 17;
  if (sh >= 0) { return s | (full << u32(sh)); }
  let k = u32(-sh);
  if (k > 9u) { return s; }                                             // < 2^-25 (half of the smallest subnormal) → 0
  var q = full >> k;
  let rem = full & ((1u << k) - 1u);
  let half = 1u << (k - 1u);
  if (rem > half || (rem == half && (q & 1u) == 1u)) { q += 1u; }      // may carry into the exponent: correct
  return s | q;
}

fn f32_to_bf16_bits(x: u32) -> u32 {
  if ((x & 0x7fffffffu) > 0x7f800000u) { return 0x7fc0u; }             // NaN (torch drops sign and payload)
  let bias = ((x >> 16u) & 1u) + 0x7fffu;
  return ((x + bias) >> 16u) & 0xffffu;                                 // never wraps: max non-NaN 0xff800000
}

fn thread_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

@compute @workgroup_size(WG)
fn bf16_to_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = thread_index(gid, nwg);
  if (i >= p.count) { return; }
  out[p.out_offset + i] = half_at(p.in_offset + i) << 16u;
}

@compute @workgroup_size(WG)
fn f16_to_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = thread_index(gid, nwg);
  if (i >= p.count) { return; }
  out[p.out_offset + i] = f16_to_f32_bits(half_at(p.in_offset + i));
}

@compute @workgroup_size(WG)
fn bf16_to_f16(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = thread_index(gid, nwg);
  let e0 = 2u * j;
  if (e0 >= p.count) { return; }
  var w = bf16_to_f16_bits(half_at(p.in_offset + e0));
  if (e0 + 1u < p.count) { w |= bf16_to_f16_bits(half_at(p.in_offset + e0 + 1u)) << 16u; }
  out[p.out_offset + j] = w;
}

@compute @workgroup_size(WG)
fn f32_to_bf16(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = thread_index(gid, nwg);
  let e0 = 2u * j;
  if (e0 >= p.count) { return; }
  var w = f32_to_bf16_bits(inp[p.in_offset + e0]);
  if (e0 + 1u < p.count) { w |= f32_to_bf16_bits(inp[p.in_offset + e0 + 1u]) << 16u; }
  out[p.out_offset + j] = w;
}
