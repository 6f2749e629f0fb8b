// Global gradient 2-norm and clip coefficient, as torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=2):
//   total_norm = sqrt(Σ g²) over every trainable gradient,  clip_coef = min(max_norm / (total_norm + 1e-6), 1).
// Two stages, both fixed-shape (bit-identical run to run; no atomics):
//   sum_squares: workgroup w of one gradient range sums the squares of elements [w·CHUNK, (w+1)·CHUNK), CHUNK = WG·EPT:
//                each thread adds EPT squares sequentially (stride WG, coalesced), then a tree over WG threads →
//                partials[partials_offset + w]. Several ranges ("blocks") write consecutive slices of `partials`.
//   finalize:    one workgroup sums partials[0..n): thread tid takes partials tid, tid+WG, ... in sub-blocks of
//                SUB terms (sequential inside a sub-block, then added to the thread total), then a tree.
// Error: every square passes through at most EPT + log2(WG) + SUB + n/(WG·SUB) + log2(WG) f32 roundings; all terms
// are ≥ 0, so the relative error of the sum is ≤ that count · 2^-24 (≈ 82 · 6e-8 ≈ 5e-6 at N = 6e8).
// A NaN or ±Inf anywhere (checked on the bits, which compilers may not fold away) makes norm[0] NaN / +Inf; the
// AdamW kernel then skips the update. norm is written as u32 bits for the same reason.

override WG: u32 = 256;   // power of two
override EPT: u32 = 16;   // elements per thread in sum_squares
override SUB: u32 = 32;   // sub-block length in finalize

struct SumParams { offset: u32, count: u32, partials_offset: u32, num_groups: u32 }
struct FinParams { num_partials: u32, clip: u32, max_norm: f32, _pad: u32 }

@group(0) @binding(0) var<storage, read_write> partials_out: array<f32>;  // sum_squares: (≥ partials_offset + groups,)
@group(0) @binding(1) var<storage, read> grad: array<f32>;                // sum_squares: (≥ offset + count,)
@group(0) @binding(2) var<uniform> sp: SumParams;
@group(0) @binding(3) var<storage, read_write> norm: array<u32>;          // finalize: (2,) f32 bits [total_norm, clip_coef]
@group(0) @binding(4) var<storage, read> partials: array<f32>;            // finalize: (n,)
@group(0) @binding(5) var<uniform> fp: FinParams;

var<workgroup> red: array<f32, WG>;
var<workgroup> red_flags: array<u32, WG>;

@compute @workgroup_size(WG)
fn sum_squares(@builtin(workgroup_id) wgid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) tid: u32) {
  let w = wgid.x + wgid.y * nwg.x;   // uniform per workgroup
  if (w >= sp.num_groups) { return; }
  let base = w * (WG * EPT);
  var acc = 0.0;
  for (var j = 0u; j < EPT; j++) {
    let e = base + j * WG + tid;
    if (e < sp.count) {
      let g = grad[sp.offset + e];
      acc += g * g;
    }
  }
  red[tid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u) { partials_out[sp.partials_offset + w] = red[0]; }
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
  if (tid == 0u) {
    let total = red[0];
    let f = red_flags[0] | classify(total);   // finite partials can still overflow when added
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
