// Global gradient 2-norm and clip coefficient, as torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=2):
//   total_norm = sqrt(Σ g²) over every trainable gradient,  clip_coef = min(max_norm / (total_norm + 1e-6), 1).
// Two stages, both fixed-shape (bit-identical run to run; no atomics):
//   sum_squares: workgroup w of one gradient range sums the squares of elements [w·CHUNK, (w+1)·CHUNK),
//                CHUNK = SUM_WG·EPT = 4096: thread t takes elements w·CHUNK + k·SUM_WG + t, k < EPT (coalesced),
//                into 8 accumulators (k mod 8; EPT/8 terms each, sequential), adds them pairwise (3 levels), then
//                the workgroup adds its SUM_WG = 64 thread sums in two radix-8 rounds (8 threads each add 8 sums
//                pairwise, then one thread adds those 8 pairwise) → partials[partials_offset + w]. Two barriers
//                per workgroup: barriers and invocation counts are what cost on CPU Vulkan (SwiftShader).
//                Several ranges ("blocks") write consecutive slices of `partials`.
//   finalize:    one workgroup sums partials[0..n): thread tid takes partials tid, tid+WG, ... in sub-blocks of
//                SUB terms (sequential inside a sub-block, then added to the thread total), then a tree.
// The `subgroups` variant (src/gpu/variants.ts) replaces both workgroup stages with subgroupAdd / subgroupOr and the
// subgroup results added in a fixed order (shaders/subgroup_reduce.wgsl): same determinism, other rounding, an error
// bound no larger (each stage ≤ log2(S) + SG_SLOTS/S + log2(S) roundings instead of 6 and 8).
// Error: every square passes through at most EPT/8 + 3 + 6 (sum_squares) + SUB + n/(WG·SUB) + log2(WG) (finalize)
// f32 roundings; all terms are ≥ 0, so the relative error of the sum is ≤ that count · 2^-24
// (≈ 75 · 6e-8 ≈ 4.5e-6 at N = 6e8, n = 146485 partials).
// A NaN or ±Inf anywhere (checked on the bits, which compilers may not fold away) makes norm[0] NaN / +Inf; the
// AdamW kernel then skips the update. norm is written as u32 bits for the same reason.

override WG: u32 = 256;      // finalize: threads, power of two
override EPT: u32 = 64;      // sum_squares: elements per thread, a multiple of 8
override SUB: u32 = 32;      // finalize: sub-block length
const SUM_WG = 64u;          // sum_squares: threads (8·8, for the two radix-8 rounds)

struct SumParams { offset: u32, count: u32, partials_offset: u32, num_groups: u32 }
struct FinParams { num_partials: u32, clip: u32, max_norm: f32, _pad: u32 }

@group(0) @binding(0) var<storage, read_write> partials_out: array<f32>;  // sum_squares: (≥ partials_offset + groups,)
@group(0) @binding(1) var<storage, read> grad: array<f32>;                // sum_squares: (≥ offset + count,)
@group(0) @binding(2) var<uniform> sp: SumParams;
@group(0) @binding(3) var<storage, read_write> norm: array<u32>;          // finalize: (2,) f32 bits [total_norm, clip_coef]
@group(0) @binding(4) var<storage, read> partials: array<f32>;            // finalize: (n,)
@group(0) @binding(5) var<uniform> fp: FinParams;

var<workgroup> red: array<f32, WG>;        // finalize
var<workgroup> red_flags: array<u32, WG>;  // finalize
var<workgroup> sums: array<f32, SUM_WG>;   // sum_squares: thread sums
var<workgroup> sums8: array<f32, 8>;       // sum_squares: after the first radix-8 round

// Square of element e of this chunk (element chunk_start + e of the range); 0 past the range's end in the last chunk.
fn sq(chunk_start: u32, e: u32, rem: u32, full: bool) -> f32 {
  if (full || e < rem) {
    let g = grad[sp.offset + chunk_start + e];
    return g * g;
  }
  return 0.0;
}

@compute @workgroup_size(SUM_WG)
fn sum_squares(@builtin(workgroup_id) wgid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) tid: u32) {
  let w = wgid.x + wgid.y * nwg.x;   // uniform per workgroup
  if (w >= sp.num_groups) { return; }
  let start = w * (SUM_WG * EPT);
  let rem = sp.count - start;          // elements left from this chunk's start
  let full = rem >= SUM_WG * EPT;      // uniform: full chunks skip the bounds tests
  var a0 = 0.0; var a1 = 0.0; var a2 = 0.0; var a3 = 0.0;
  var a4 = 0.0; var a5 = 0.0; var a6 = 0.0; var a7 = 0.0;
  for (var k = 0u; k < EPT; k += 8u) {
    let e = k * SUM_WG + tid;
    a0 += sq(start, e, rem, full);
    a1 += sq(start, e + SUM_WG, rem, full);
    a2 += sq(start, e + 2u * SUM_WG, rem, full);
    a3 += sq(start, e + 3u * SUM_WG, rem, full);
    a4 += sq(start, e + 4u * SUM_WG, rem, full);
    a5 += sq(start, e + 5u * SUM_WG, rem, full);
    a6 += sq(start, e + 6u * SUM_WG, rem, full);
    a7 += sq(start, e + 7u * SUM_WG, rem, full);
  }
  let t = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  // #if SUBGROUPS
  let total = sg_workgroup_sum(tid, SUM_WG, t);
  if (tid == 0u) { partials_out[sp.partials_offset + w] = total; }
  // #else
  sums[tid] = t;
  workgroupBarrier();
  if (tid < 8u) {
    let q = SUM_WG / 8u;
    sums8[tid] = ((sums[tid] + sums[tid + q]) + (sums[tid + 2u * q] + sums[tid + 3u * q])) +
                 ((sums[tid + 4u * q] + sums[tid + 5u * q]) + (sums[tid + 6u * q] + sums[tid + 7u * q]));
  }
  workgroupBarrier();
  if (tid == 0u) {
    partials_out[sp.partials_offset + w] = ((sums8[0] + sums8[1]) + (sums8[2] + sums8[3])) +
                                           ((sums8[4] + sums8[5]) + (sums8[6] + sums8[7]));
  }
  // #endif
}

// 1: +Inf seen, 2: NaN seen.
fn classify(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7f800000u) != 0x7f800000u) { return 0u; }
  if ((b & 0x007fffffu) != 0u) { return 2u; }
  return 1u;
}

@compute @workgroup_size(WG)
fn finalize(@builtin(local_invocation_index) tid: u32) {
  let n = fp.num_partials;
  var acc = 0.0;
  var flags = 0u;
  var k = tid;
  while (k < n) {
    var sub = 0.0;
    for (var j = 0u; j < SUB && k < n; j++) {
      let x = partials[k];
      flags |= classify(x);
      sub += x;
      k += WG;
    }
    acc += sub;
  }
  // #if SUBGROUPS
  let total = sg_workgroup_sum(tid, WG, acc);
  let all_flags = sg_workgroup_or(tid, WG, flags);
  // #else
  red[tid] = acc;
  red_flags[tid] = flags;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      red[tid] += red[tid + s];
      red_flags[tid] |= red_flags[tid + s];
    }
    workgroupBarrier();
  }
  let total = red[0];
  let all_flags = red_flags[0];
  // #endif
  if (tid == 0u) {
    let f = all_flags | classify(total);   // finite partials can still overflow when added
    if ((f & 2u) != 0u) {
      norm[0] = 0x7fc00000u;                  // NaN norm, NaN coefficient (torch: max_norm / NaN)
      norm[1] = 0x7fc00000u;
    } else if (f != 0u) {
      norm[0] = 0x7f800000u;                  // +Inf norm; torch's coefficient would be max_norm / Inf = 0
      norm[1] = 0u;
    } else {
      let total_norm = sqrt(total);
      var coef = 1.0;
      if (fp.clip != 0u) { coef = min(fp.max_norm / (total_norm + 1e-6), 1.0); }
      norm[0] = bitcast<u32>(total_norm);
      norm[1] = bitcast<u32>(coef);
    }
  }
}
