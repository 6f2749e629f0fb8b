// Reward head of Qwen3ForSequenceClassification (transformers GenericForSequenceClassification, num_labels = 1):
// pool the hidden state of the rightmost non-pad token of each sequence and project it with score (C -> 1, no bias).
// Rows are packed (padding-free): sequence b is rows [cu[b], cu[b+1]) of hidden and ids (cu_seqlens; a right-padded
// (B,T) batch is the case cu[b] = b·T).
//   p_b        = cu[b] + argmax_t(t * (ids[cu[b]+t] != pad))  — the row of the rightmost non-pad token; only pad → cu[b]
//   rewards[b] = Σ_c hidden[p_b,c] * scoreW[c]
// Backward:
//   dhidden[m,c] = (m == p_b for the sequence b holding row m) ? drewards[b] * scoreW[c] : 0   (assigned, zeros too)
//   dscoreW[c]  += Σ_b drewards[b] * hidden[p_b,c]                   (b in increasing order, one thread per c)
// Legend: B sequences, M rows, C hidden. hidden (M,C) f32, ids (M,) u32, cu (B+1,) u32, scoreW (C,), rewards (B,),
// poolIdx (B,) u32 (absolute rows). All reductions are fixed-shape (deterministic): sequential per thread, then a tree.

override WG: u32 = 256;   // power of two (tree reductions)

struct Params { B: u32, M: u32, C: u32, pad_id: u32 }

@group(0) @binding(0) var<storage, read_write> rewards: array<f32>;     // (B,)        forward out
@group(0) @binding(1) var<storage, read_write> pool_out: array<u32>;    // (B,)        forward saved
@group(0) @binding(2) var<storage, read> hidden: array<f32>;            // (B,T,C)
@group(0) @binding(3) var<storage, read> ids: array<u32>;               // (B,T)
@group(0) @binding(4) var<storage, read> score_w: array<f32>;           // (C,)
@group(0) @binding(5) var<storage, read_write> dhidden: array<f32>;     // (B,T,C)    backward out (=)
@group(0) @binding(6) var<storage, read_write> dscore_w: array<f32>;    // (C,)       backward out (+=)
@group(0) @binding(7) var<storage, read> drewards: array<f32>;          // (B,)
@group(0) @binding(8) var<storage, read> pool_in: array<u32>;           // (B,)       saved by forward
@group(0) @binding(9) var<uniform> p: Params;
@group(0) @binding(10) var<storage, read> cu: array<u32>;              // (B+1,)      sequence starts

var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_f: array<f32, WG>;

// One workgroup per sequence b.
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let b = wid.x;   // uniform per workgroup; B ≤ 65535 is checked on the host
  // 1) rightmost non-pad position: max over t of (ids != pad ? t : 0).
  let s0 = cu[b];
  let len = cu[b + 1u] - s0;
  var best = 0u;
  for (var t = tid; t < len; t += WG) {
    if (ids[s0 + t] != p.pad_id) { best = max(best, t); }
  }
  red_u[tid] = best;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red_u[tid] = max(red_u[tid], red_u[tid + s]); }
    workgroupBarrier();
  }
  let pb = s0 + red_u[0];
  // 2) dot(hidden[pb,:], scoreW): thread-strided partial sums, then a tree.
  let row = pb * p.C;
  var acc = 0.0;
  for (var c = tid; c < p.C; c += WG) { acc += hidden[row + c] * score_w[c]; }
  red_f[tid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red_f[tid] += red_f[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u) {
    rewards[b] = red_f[0];
    pool_out[b] = pb;
  }
}

// Elementwise over M*C: writes every element of dhidden. The row's sequence: binary search of cu.
@compute @workgroup_size(WG)
fn backward_dhidden(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.M * p.C) { return; }
  let m = i / p.C;
  let c = i % p.C;
  var lo = 0u;                 // last b with cu[b] ≤ m
  var hi = p.B;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (cu[mid] <= m) { lo = mid; } else { hi = mid; }
  }
  var d = 0.0;
  if (lo < p.B && m == pool_in[lo]) { d = drewards[lo] * score_w[c]; }
  dhidden[i] = d;
}

// One thread per c, fixed order over b.
@compute @workgroup_size(WG)
fn backward_dscore(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var b = 0u; b < p.B; b++) {
    acc += drewards[b] * hidden[pool_in[b] * p.C + c];
  }
  dscore_w[c] += acc;
}
