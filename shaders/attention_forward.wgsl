// Causal self-attention forward, flash style (FlashAttention-2 loop order): one workgroup owns BQ query rows of one
// (sequence b, query head h) and streams key/value tiles of BK rows through workgroup memory with an online
// softmax, so nothing of size T×T is ever stored.
// Padding-free (packed) layout: B sequences laid end to end in M rows, sequence b at rows [cu[b], cu[b+1])
// (cu_seqlens, (B+1,) u32); T ≥ the longest sequence (sizes the grid). H query heads, Hkv kv heads, D head dim.
// GQA: head h reads kv head g = h / (H / Hkv).
//   q, out are (M,H,D); k, v are (M,Hkv,D); lse is (M,H).
//   s_ij = scale · q_i·k_j, visible iff j ≤ i (both in sequence b); out_i = Σ_j softmax_j(s_i)_j v_j;
//   lse_i = log Σ_j exp(s_ij) (saved for the backward pass).
// Rows are read as vec4 (D % 4 == 0; D4 = D / 4). Threads: WG = BQ·TPR; TPR threads share one query row, thread t
// owning the vec4s d4 = t + TPR·c (c < DPT). Key tiles past the diagonal or past len are never loaded.

override D: u32 = 128;        // head dim, a multiple of 4
override BQ: u32 = 16;        // query rows per workgroup
override BK: u32 = 16;        // key rows per tile
override TPR: u32 = 16;       // threads per query row
override WG: u32 = BQ * TPR;
override D4: u32 = D / 4u;
override DPT: u32 = (D4 + TPR - 1u) / TPR;  // vec4s per thread, ≤ MAX_DPT
override DS: u32 = D4 + 1u;   // row stride (vec4) in workgroup memory: the pad spreads strided rows over banks

const MAX_DPT: u32 = 4u;
const MASKED: f32 = -1.0e30;  // running max before any visible key; exp(MASKED - finite) = 0

struct Params { B: u32, T: u32, H: u32, Hkv: u32, scale: f32, M: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> lse: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> cu: array<u32>;    // (B+1,) sequence starts
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> qs: array<vec4<f32>, BQ * DS>;   // (BQ, D) query tile
var<workgroup> ks: array<vec4<f32>, BK * DS>;   // (BK, D) key tile
var<workgroup> vs: array<vec4<f32>, BK * DS>;   // (BK, D) value tile
var<workgroup> ss: array<f32, BQ * BK>;   // (BQ, BK) scaled scores of this tile

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let h = wid.y;
  let q0 = wid.x * BQ;
  let T = p.T;
  let H = p.H;
  let Hkv = p.Hkv;
  let g = h / (H / Hkv);
  let s0 = cu[b];
  let len = cu[b + 1u] - s0;
  let r = lid / TPR;          // this thread's query row in the tile
  let t = lid % TPR;
  let i = q0 + r;

  if (q0 >= len) { return; }  // past the end of this sequence (uniform across the workgroup)

  for (var e = lid; e < BQ * D4; e += WG) {
    let rr = e / D4;
    let d = e % D4;
    let ii = q0 + rr;
    var x = vec4(0.0);
    if (ii < len) { x = q[((s0 + ii) * H + h) * D4 + d]; }
    qs[rr * DS + d] = x;
  }

  var m = MASKED;             // running max of visible scores of row i
  var l = 0.0;                // running Σ exp(s − m)
  var o: array<vec4<f32>, MAX_DPT>;  // running Σ exp(s − m) v, vec4s t + TPR·c
  for (var c = 0u; c < DPT; c++) { o[c] = vec4(0.0); }

  let kEnd = min(q0 + BQ, len);  // keys ≥ kEnd are masked for every row of the tile
  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    workgroupBarrier();       // previous tile fully consumed (and qs written, first time)
    for (var e = lid; e < BK * D4; e += WG) {
      let jj = e / D4;
      let d = e % D4;
      let j = k0 + jj;
      var kx = vec4(0.0);
      var vx = vec4(0.0);
      if (j < len) {
        let o2 = ((s0 + j) * Hkv + g) * D4 + d;
        kx = k[o2];
        vx = v[o2];
      }
      ks[jj * DS + d] = kx;
      vs[jj * DS + d] = vx;
    }
    workgroupBarrier();
    for (var e = lid; e < BQ * BK; e += WG) {
      let rr = e / BK;
      let jj = e % BK;
      var s = 0.0;
      for (var d = 0u; d < D4; d++) { s += dot(qs[rr * DS + d], ks[jj * DS + d]); }
      ss[e] = s * p.scale;
    }
    workgroupBarrier();

    // Online softmax update of row i (every thread of the row does the same, in the same order).
    var mt = MASKED;
    for (var jj = 0u; jj < BK; jj++) {
      let j = k0 + jj;
      if (j <= i && j < len) { mt = max(mt, ss[r * BK + jj]); }
    }
    let mNew = max(m, mt);
    let alpha = exp(m - mNew);
    l *= alpha;
    for (var c = 0u; c < DPT; c++) { o[c] *= alpha; }
    for (var jj = 0u; jj < BK; jj++) {
      let j = k0 + jj;
      if (j <= i && j < len) {
        let pj = exp(ss[r * BK + jj] - mNew);
        l += pj;
        for (var c = 0u; c < DPT; c++) {
          let d = min(t + TPR * c, D4 - 1u);  // d ≥ D4 only when D4 % TPR ≠ 0; that lane is never written
          o[c] += pj * vs[jj * DS + d];
        }
      }
    }
    m = mNew;
  }

  if (i >= len) { return; }   // rows of the sequence saw key 0, so l ≥ 1
  for (var c = 0u; c < DPT; c++) {
    let d = t + TPR * c;
    if (d < D4) { out[((s0 + i) * H + h) * D4 + d] = o[c] / l; }
  }
  if (t == 0u) { lse[(s0 + i) * H + h] = m + log(l); }
}
