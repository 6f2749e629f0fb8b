// Causal attention of ONE query row per sequence — the row the reward head pools — against the full K/V of its
// sequence (the last decoder layer computes nothing else: src/model/qwen3.ts). Packed rows: sequence b is rows
// [cu[b], cu[b+1]); its query is row p_b = pool[b] and it attends to keys j in [cu[b], p_b] (causal).
// GQA: query head h reads kv head h / (H/Hkv).
//   s_j   = scale · q_{p_b,h} · k_{j,kvh}          scale = 1/√D
//   out   = Σ_j softmax(s)_j · v_{j,kvh}            (B, H·D)       lse = log Σ_j exp(s_j)   stats (B, H, 2): [lse, Δ]
// Backward (dO (B, H·D)):
//   Δ     = dO · out                                 (entry delta, stats[·,1])
//   P_j   = exp(s_j − lse),  dS_j = P_j · (dO · v_j − Δ)
//   dq    = scale · Σ_j dS_j · k_j                   (B, H·D)       (entry dq)
//   dv_j  = Σ_{h of kvh} P_j · dO_h,  dk_j = scale · Σ_{h of kvh} dS_j · q_h   (M, Hkv·D): rows outside every
//           [cu[b], p_b] (after a pooled row, the pad-only tail) get 0   (entry dkdv, one workgroup per (row, kv head))
// Every sum runs in a fixed order (deterministic, bit-identical run to run). Online softmax over key chunks of WG.
// Legend: B sequences, M packed rows, H query heads, Hkv kv heads, D head dim (≤ 4·WG).

override WG: u32 = 64;   // threads per workgroup, a power of two; keys per chunk

struct Params { B: u32, M: u32, H: u32, Hkv: u32, D: u32, scale: f32, dvOff: u32, nx: u32 }

@group(0) @binding(0) var<storage, read> q: array<f32>;              // (M, H·D)   after q_norm + RoPE
@group(0) @binding(1) var<storage, read> k: array<f32>;              // (M, Hkv·D) after k_norm + RoPE
@group(0) @binding(2) var<storage, read> v: array<f32>;              // (M, Hkv·D)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;      // (B, H·D)   forward out; delta reads it
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;    // (B, H, 2)  [lse, Δ]
@group(0) @binding(5) var<storage, read> pool: array<u32>;           // (B,)       pooled rows (absolute)
@group(0) @binding(6) var<storage, read> cu: array<u32>;             // (B+1,)
@group(0) @binding(7) var<storage, read> dout: array<f32>;           // (B, H·D)
@group(0) @binding(8) var<storage, read_write> dq: array<f32>;       // (B, H·D)   dq out
@group(0) @binding(9) var<storage, read_write> dkv: array<f32>;      // dk (M, Hkv·D) at 0, dv at p.dvOff
@group(0) @binding(10) var<uniform> p: Params;

const DMAX: u32 = 256u;
var<workgroup> qs: array<f32, DMAX>;    // the query row (head h)
var<workgroup> os: array<f32, DMAX>;    // dO row (head h)
var<workgroup> red: array<f32, WG>;
var<workgroup> red2: array<f32, WG>;
var<workgroup> wgU: u32;

fn kvIndex(j: u32, kvh: u32, d: u32) -> u32 { return (j * p.Hkv + kvh) * p.D + d; }

// The keys of sequence b: [s0, s0 + n) (n ≥ 1), uniform for the workgroup.
fn keyCount(b: u32, tid: u32) -> u32 {
  if (tid == 0u) { wgU = pool[b] - cu[b] + 1u; }
  return workgroupUniformLoad(&wgU);
}

fn reduceMax(tid: u32, x: f32) -> f32 {
  red[tid] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

fn reduceSum2(tid: u32, x: vec2<f32>) -> vec2<f32> {
  red[tid] = x.x;
  red2[tid] = x.y;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      red[tid] += red[tid + s];
      red2[tid] += red2[tid + s];
    }
    workgroupBarrier();
  }
  let r = vec2<f32>(red[0], red2[0]);
  workgroupBarrier();
  return r;
}

// Forward: one workgroup per (h, b); grid (H, B).
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let b = wid.y;
  let kvh = h / (p.H / p.Hkv);
  let n = keyCount(b, tid);
  let s0 = cu[b];
  let qrow = (pool[b] * p.H + h) * p.D;
  for (var d = tid; d < p.D; d += WG) { qs[d] = q[qrow + d]; }
  workgroupBarrier();
  var m = -3.0e38;
  var l = 0.0;
  var acc = vec4<f32>(0.0);   // d = tid + WG·i, i < 4
  for (var c0 = 0u; c0 < n; c0 += WG) {
    let j = c0 + tid;
    var s = -3.0e38;
    if (j < n) {
      var t = 0.0;
      for (var d = 0u; d < p.D; d++) { t = fma(qs[d], k[kvIndex(s0 + j, kvh, d)], t); }
      s = t * p.scale;
    }
    let mNew = max(m, reduceMax(tid, s));
    var e = 0.0;
    if (j < n) { e = exp(s - mNew); }
    let cs = reduceSum2(tid, vec2<f32>(e, 0.0)).x;
    red[tid] = e;      // the chunk's weights, read by every thread below
    workgroupBarrier();
    let corr = exp(m - mNew);
    l = l * corr + cs;
    acc *= corr;
    let cnt = min(WG, n - c0);
    for (var t = 0u; t < cnt; t++) {
      let w = red[t];
      for (var i = 0u; i < 4u; i++) {
        let d = tid + WG * i;
        if (d < p.D) { acc[i] = fma(w, v[kvIndex(s0 + c0 + t, kvh, d)], acc[i]); }
      }
    }
    workgroupBarrier();
    m = mNew;
  }
  let orow = (b * p.H + h) * p.D;
  for (var i = 0u; i < 4u; i++) {
    let d = tid + WG * i;
    if (d < p.D) { out[orow + d] = acc[i] / l; }
  }
  if (tid == 0u) { stats[(b * p.H + h) * 2u] = m + log(l); }
}

// Δ = dO · out per (h, b); grid (H, B).
@compute @workgroup_size(WG)
fn delta(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let b = wid.y;
  let row = (b * p.H + h) * p.D;
  var t = 0.0;
  for (var d = tid; d < p.D; d += WG) { t = fma(dout[row + d], out[row + d], t); }
  let r = reduceSum2(tid, vec2<f32>(t, 0.0)).x;
  if (tid == 0u) { stats[(b * p.H + h) * 2u + 1u] = r; }
}

// dq per (h, b); grid (H, B).
@compute @workgroup_size(WG)
fn dq_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let b = wid.y;
  let kvh = h / (p.H / p.Hkv);
  let n = keyCount(b, tid);
  let s0 = cu[b];
  let qrow = (pool[b] * p.H + h) * p.D;
  let orow = (b * p.H + h) * p.D;
  for (var d = tid; d < p.D; d += WG) {
    qs[d] = q[qrow + d];
    os[d] = dout[orow + d];
  }
  workgroupBarrier();
  let lse = stats[(b * p.H + h) * 2u];
  let dl = stats[(b * p.H + h) * 2u + 1u];
  var acc = vec4<f32>(0.0);
  for (var c0 = 0u; c0 < n; c0 += WG) {
    let j = c0 + tid;
    var ds = 0.0;
    if (j < n) {
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < p.D; d++) {
        let kk = kvIndex(s0 + j, kvh, d);
        s = fma(qs[d], k[kk], s);
        dp = fma(os[d], v[kk], dp);
      }
      ds = exp(s * p.scale - lse) * (dp - dl);
    }
    red[tid] = ds;
    workgroupBarrier();
    let cnt = min(WG, n - c0);
    for (var t = 0u; t < cnt; t++) {
      let w = red[t];
      for (var i = 0u; i < 4u; i++) {
        let d = tid + WG * i;
        if (d < p.D) { acc[i] = fma(w, k[kvIndex(s0 + c0 + t, kvh, d)], acc[i]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let d = tid + WG * i;
    if (d < p.D) { dq[orow + d] = acc[i] * p.scale; }
  }
}

// dk, dv per (kv head, row j): one workgroup each, workgroup index wid.x + wid.y·nx = j·Hkv + kvh (all M·Hkv).
@compute @workgroup_size(WG)
fn dkdv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let w = wid.x + wid.y * p.nx;
  if (w >= p.M * p.Hkv) { return; }   // uniform: the whole workgroup
  let j = w / p.Hkv;
  let kvh = w % p.Hkv;
  // the sequence b whose query sees row j (cu[b] ≤ j ≤ pool[b]), or B
  if (tid == 0u) {
    var lo = 0u;
    var hi = p.B;
    while (hi - lo > 1u) {
      let mid = (lo + hi) / 2u;
      if (cu[mid] <= j) { lo = mid; } else { hi = mid; }
    }
    var bb = p.B;
    if (lo < p.B && j >= cu[lo] && j <= pool[lo]) { bb = lo; }
    wgU = bb;
  }
  let b = workgroupUniformLoad(&wgU);
  var dkA = vec4<f32>(0.0);
  var dvA = vec4<f32>(0.0);
  if (b < p.B) {
    let G = p.H / p.Hkv;
    for (var g = 0u; g < G; g++) {
      let h = kvh * G + g;
      let qrow = (pool[b] * p.H + h) * p.D;
      let orow = (b * p.H + h) * p.D;
      var s = 0.0;
      var dp = 0.0;
      for (var i = 0u; i < 4u; i++) {
        let d = tid + WG * i;
        if (d < p.D) {
          let kk = kvIndex(j, kvh, d);
          s = fma(q[qrow + d], k[kk], s);
          dp = fma(dout[orow + d], v[kk], dp);
        }
      }
      let r = reduceSum2(tid, vec2<f32>(s, dp));
      let P = exp(r.x * p.scale - stats[(b * p.H + h) * 2u]);
      let ds = P * (r.y - stats[(b * p.H + h) * 2u + 1u]);
      for (var i = 0u; i < 4u; i++) {
        let d = tid + WG * i;
        if (d < p.D) {
          dvA[i] = fma(P, dout[orow + d], dvA[i]);
          dkA[i] = fma(ds, q[qrow + d], dkA[i]);
        }
      }
    }
  }
  for (var i = 0u; i < 4u; i++) {
    let d = tid + WG * i;
    if (d < p.D) {
      let kk = kvIndex(j, kvh, d);
      dkv[kk] = dkA[i] * p.scale;
      dkv[p.dvOff + kk] = dvA[i];
    }
  }
}
