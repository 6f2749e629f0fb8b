// Reward head of Qwen3ForSequenceClassification (transformers GenericForSequenceClassification, num_labels = 1):
// pool the hidden state of the rightmost non-pad token of each sequence and project it with score (C -> 1, no bias).
//   p_b        = argmax_t(t * (ids[b,t] != pad))  — rightmost non-pad position; a row of only pad tokens → 0
//   rewards[b] = Σ_c hidden[b,p_b,c] * scoreW[c]
// Backward:
//   dhidden[b,t,c] = (t == p_b) ? drewards[b] * scoreW[c] : 0        (assigned, zeros written too)
//   dscoreW[c]    += Σ_b drewards[b] * hidden[b,p_b,c]               (b in increasing order, one thread per c)
// Legend: B sequences, T tokens, C hidden. hidden (B,T,C) f32, ids (B,T) u32, scoreW (C,), rewards (B,),
// poolIdx (B,) u32. All reductions are fixed-shape (deterministic): sequential per thread, then a tree.

override WG: u32 = 256;   // power of two (tree reductions)

struct Params { B: u32, T: u32, C: u32, pad_id: u32 }

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

var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_f: array<f32, WG>;

// One workgroup per sequence b.
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let b = wid.x;   // uniform per workgroup; B ≤ 65535 is checked on the host
  // 1) rightmost non-pad position: max over t of (ids != pad ? t : 0).
  var best = 0u;
  for (var t = tid; t < p.T; t += WG) {
    if (ids[b * p.T + t] != p.pad_id) { best = max(best, t); }
  }
  red_u[tid] = best;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red_u[tid] = max(red_u[tid], red_u[tid + s]); }
    workgroupBarrier();
  }
  let pb = red_u[0];
  // 2) dot(hidden[b,pb,:], scoreW): thread-strided partial sums, then a tree.
  let row = (b * p.T + pb) * p.C;
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

// Elementwise over B*T*C: writes every element of dhidden.
@compute @workgroup_size(WG)
fn backward_dhidden(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  let TC = p.T * p.C;
  if (i >= p.B * TC) { return; }
  let b = i / TC;
  let t = (i % TC) / p.C;
  let c = i % p.C;
  var d = 0.0;
  if (t == pool_in[b]) { d = drewards[b] * score_w[c]; }
  dhidden[i] = d;
}

// One thread per c, fixed order over b.
@compute @workgroup_size(WG)
fn backward_dscore(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var b = 0u; b < p.B; b++) {
    acc += drewards[b] * hidden[(b * p.T + pool_in[b]) * p.C + c];
  }
  dscore_w[c] += acc;
}
