// Reward head of Qwen3ForSequenceClassification (transformers GenericForSequenceClassification, num_labels = 1):
// pool the hidden state of the rightmost non-pad token of each sequence and project it with score (C -> 1, no bias).
// Rows are packed (padding-free): sequence b is rows [cu[b], cu[b+1]) of hidden and ids (cu_seqlens; a right-padded
// (B,T) batch is the case cu[b] = b·T).
//   p_b        = cu[b] + argmax_t(t * (ids[cu[b]+t] != pad))  — the row of the rightmost non-pad token; only pad → cu[b]
//   rewards[b] = Σ_c hidden[h_b,c] * scoreW[c]      h_b = p_b, or b when `compact` (hidden holds the B pooled rows)
// Backward:
//   dhidden[m,c] = (m == p_b for the sequence b holding row m) ? drewards[b] * scoreW[c] : 0   (assigned, zeros too;
//                  compact: dhidden (B,C), row b = drewards[b] * scoreW)
//   dscoreW[c]  += Σ_b drewards[b] * hidden[h_b,c]                   (b in increasing order, one thread per c)
// The pooled rows are defined here once (poolRow, pooledSeq) and also serve the last decoder layer, which computes
// everything after K/V for the pooled rows only (src/model/qwen3.ts):
//   pool_index:   pool_out[b] = p_b, and rows_out[1 + b] = p_b (the LoRA dropout row map: word 0 is the seed)
//   gather_rows:  dst (B,W)   dst[b,c] = src[p_b, c]
//   scatter_rows: dst (M,W)   dst[m,c] = (m == p_b) ? src[b, c] : 0   (assigned)
// Legend: B sequences, M rows, C hidden (the row width W for gather/scatter). hidden (M,C) f32, ids (M,) u32,
// cu (B+1,) u32, scoreW (C,), rewards (B,), poolIdx (B,) u32 (absolute rows). All reductions are fixed-shape
// (deterministic): sequential per thread, then a tree.

override WG: u32 = 256;   // power of two (tree reductions)

struct Params { B: u32, M: u32, C: u32, pad_id: u32, compact: u32 }

@group(0) @binding(0) var<storage, read_write> rewards: array<f32>;     // (B,)        forward out
@group(0) @binding(1) var<storage, read_write> pool_out: array<u32>;    // (B,)        forward saved
@group(0) @binding(2) var<storage, read> hidden: array<f32>;            // (M,C) or compact (B,C)
@group(0) @binding(3) var<storage, read> ids: array<u32>;               // (M,)
@group(0) @binding(4) var<storage, read> score_w: array<f32>;           // (C,)
@group(0) @binding(5) var<storage, read_write> dhidden: array<f32>;     // (M,C) or compact (B,C)   backward out (=)
@group(0) @binding(6) var<storage, read_write> dscore_w: array<f32>;    // (C,)       backward out (+=)
@group(0) @binding(7) var<storage, read> drewards: array<f32>;          // (B,)
@group(0) @binding(8) var<storage, read> pool_in: array<u32>;           // (B,)       saved by forward / pool_index
@group(0) @binding(9) var<uniform> p: Params;
@group(0) @binding(10) var<storage, read> cu: array<u32>;              // (B+1,)      sequence starts
@group(0) @binding(11) var<storage, read> src: array<f32>;             // gather (M,W) / scatter (B,W)
@group(0) @binding(12) var<storage, read_write> dst: array<f32>;       // gather (B,W) / scatter (M,W)
@group(0) @binding(13) var<storage, read_write> rows_out: array<u32>;  // (1+B,) pool_index: [seed (kept), p_0, …]

var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_f: array<f32, WG>;

// The pooled row of sequence b (uniform per workgroup: every thread calls it, returns the same value).
fn poolRow(b: u32, tid: u32) -> u32 {
  // rightmost non-pad position: max over t of (ids != pad ? t : 0).
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
  workgroupBarrier(); // red_u is reused by the next call
  return pb;
}

// The sequence whose pooled row is row m, or B when m is not pooled (binary search of cu, then pool_in).
fn pooledSeq(m: u32) -> u32 {
  var lo = 0u;                 // last b with cu[b] ≤ m
  var hi = p.B;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (cu[mid] <= m) { lo = mid; } else { hi = mid; }
  }
  if (lo < p.B && m == pool_in[lo]) { return lo; }
  return p.B;
}

// One workgroup per sequence b.
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let b = wid.x;   // uniform per workgroup; B ≤ 65535 is checked on the host
  let pb = poolRow(b, tid);
  // dot(hidden[h_b,:], scoreW): thread-strided partial sums, then a tree.
  let row = select(pb, b, p.compact == 1u) * p.C;
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

// One workgroup per sequence b: the pooled rows alone (before the last decoder layer needs them).
@compute @workgroup_size(WG)
fn pool_index(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let b = wid.x;
  let pb = poolRow(b, tid);
  if (tid == 0u) {
    pool_out[b] = pb;
    rows_out[1u + b] = pb;
  }
}

// Elementwise over M*C (compact: B*C): writes every element of dhidden.
@compute @workgroup_size(WG)
fn backward_dhidden(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.M * p.C) { return; }
  let m = i / p.C;
  let c = i % p.C;
  var b = m;
  if (p.compact == 0u) { b = pooledSeq(m); }
  var d = 0.0;
  if (b < p.B) { d = drewards[b] * score_w[c]; }
  dhidden[i] = d;
}

// One thread per c, fixed order over b.
@compute @workgroup_size(WG)
fn backward_dscore(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var b = 0u; b < p.B; b++) {
    let row = select(pool_in[b], b, p.compact == 1u);
    acc += drewards[b] * hidden[row * p.C + c];
  }
  dscore_w[c] += acc;
}

// Elementwise over B*W.
@compute @workgroup_size(WG)
fn gather_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.B * p.C) { return; }
  let b = i / p.C;
  dst[i] = src[pool_in[b] * p.C + i % p.C];
}

// Elementwise over M*W: writes every element of dst.
@compute @workgroup_size(WG)
fn scatter_rows(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.M * p.C) { return; }
  let b = pooledSeq(i / p.C);
  var v = 0.0;
  if (b < p.B) { v = src[b * p.C + i % p.C]; }
  dst[i] = v;
}
