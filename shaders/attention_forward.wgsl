// Causal self-attention forward, flash style (FlashAttention-2 loop order): one thread owns one query row, with
// its q row and output accumulator in registers; key/value tiles of BK rows stream through workgroup
// memory and every thread reads the same key/value row at the same time (a broadcast), so each score and each
// exponential is computed exactly once. Online softmax; nothing of size T×T is stored.
// GQA: one workgroup owns BQ query rows of ALL G = H / Hkv query heads of kv head g (WG = G·BQ threads, thread
// lid = hh·BQ + r is row q0 + r of head g·G + hh), so the group's heads share every staged K/V tile.
// Padding-free (packed) layout: B sequences laid end to end in M rows, sequence b at rows [cu[b], cu[b+1])
// (cu_seqlens, (B+1,) u32); T ≥ the longest sequence (sizes the grid). H query heads, Hkv kv heads, D head dim.
//   q, out are (M,H,D); k, v are (M,Hkv,D); lse is (M,H).
//   s_ij = scale · q_i·k_j, visible iff j ≤ i (both in sequence b); out_i = Σ_j softmax_j(s_i)_j v_j;
//   lse_i = log Σ_j exp(s_ij) (saved for the backward pass).
// Rows are read as vec4 (D % 4 == 0, D ≤ 4·MAX_D4). Key tiles past the block's last row or past len are never
// loaded; inside the diagonal tile the mask is per element.
// Registers: the private arrays have the const maximum size; every loop over them is bounded by the override D4,
// a constant once the pipeline is created, so the backend unrolls them and keeps only D4 (and BK) live entries.

override D: u32 = 128;        // head dim, a multiple of 4, ≤ 128
override G: u32 = 1;          // query heads per kv head
override BQ: u32 = 64;        // query rows per workgroup (per head)
override BK: u32 = 16;        // key rows per tile, ≤ MAX_BK
override WG: u32 = G * BQ;
override D4: u32 = D / 4u;

const MAX_D4: u32 = 32u;
const MAX_BK: u32 = 32u;
const MASKED: f32 = -1.0e30;  // score of a masked key; exp(MASKED - finite) = 0

struct Params { B: u32, T: u32, H: u32, Hkv: u32, scale: f32, M: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> lse: array<f32>;
@group(0) @binding(2) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> cu: array<u32>;    // (B+1,) sequence starts
@group(0) @binding(6) var<uniform> p: Params;

var<workgroup> ks: array<vec4<f32>, BK * D4>;   // (BK, D) key tile
var<workgroup> vs: array<vec4<f32>, BK * D4>;   // (BK, D) value tile

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let q0 = wid.x * BQ;
  let H = p.H;
  let Hkv = p.Hkv;
  let s0 = cu[b];
  let len = cu[b + 1u] - s0;
  if (q0 >= len) { return; }  // past the end of this sequence (uniform across the workgroup)

  let hh = lid / BQ;
  let r = lid % BQ;
  let h = g * G + hh;
  let i = q0 + r;             // this thread's query row; rows ≥ len compute on row len-1 and write nothing
  let qo = ((s0 + min(i, len - 1u)) * H + h) * D4;

  var qr: array<vec4<f32>, MAX_D4>;  // q_i
  var o: array<vec4<f32>, MAX_D4>;   // running Σ exp(s − m) v
  for (var d = 0u; d < D4; d++) {
    qr[d] = q[qo + d];
    o[d] = vec4(0.0);
  }
  var m = MASKED;             // running max of visible scores of row i
  var l = 0.0;                // running Σ exp(s − m)

  let kEnd = min(q0 + BQ, len);  // keys ≥ kEnd are masked for every row of the block
  for (var k0 = 0u; k0 < kEnd; k0 += BK) {
    workgroupBarrier();       // previous tile fully consumed
    for (var e = lid; e < BK * D4; e += WG) {
      let j = k0 + e / D4;
      var kx = vec4(0.0);
      var vx = vec4(0.0);
      if (j < len) {
        let o2 = ((s0 + j) * Hkv + g) * D4 + e % D4;
        kx = k[o2];
        vx = v[o2];
      }
      ks[e] = kx;
      vs[e] = vx;
    }
    workgroupBarrier();

    var s: array<f32, MAX_BK>;
    var mt = MASKED;
    for (var jj = 0u; jj < BK; jj++) {
      var acc = 0.0;
      for (var d = 0u; d < D4; d++) { acc += dot(qr[d], ks[jj * D4 + d]); }
      let sj = select(MASKED, acc * p.scale, k0 + jj <= i);  // j ≤ i < len for the rows that are written
      s[jj] = sj;
      mt = max(mt, sj);
    }
    let mNew = max(m, mt);    // finite from the first tile on: key 0 is visible to every row
    let alpha = exp(m - mNew);
    l *= alpha;
    for (var d = 0u; d < D4; d++) { o[d] *= alpha; }
    for (var jj = 0u; jj < BK; jj++) {
      let pj = exp(s[jj] - mNew);
      l += pj;
      for (var d = 0u; d < D4; d++) { o[d] += pj * vs[jj * D4 + d]; }
    }
    m = mNew;
  }

  if (i >= len) { return; }
  for (var d = 0u; d < D4; d++) { out[qo + d] = o[d] / l; }  // l ≥ 1 (the row's max contributes exp(0))
  lse[(s0 + i) * H + h] = m + log(l);
}
