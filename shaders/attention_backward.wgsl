// Causal self-attention backward, flash style (FlashAttention-2): probabilities are recomputed tile by tile from
// the saved lse, never stored as a T×T matrix. Three entry points, run in this order:
//   backward_prep  ws[row,h] = (lse, Δ) with Δ = Σ_d dout·out, one thread per packed row and head
//   backward_dkdv  one workgroup per (b, kv head g, key tile): loops over the query heads of g's group and the
//                  query tiles at or below the diagonal, accumulating dk, dv in registers: no atomics, fixed
//                  order, deterministic.
//   backward_dq    one workgroup per (b, query head h, query tile): loops over key tiles up to the diagonal.
// Padding-free (packed) layout: B sequences end to end in M rows, sequence b at rows [cu[b], cu[b+1]) (cu_seqlens);
// T ≥ the longest sequence (sizes the grid); H query heads, Hkv kv heads, D head dim; kv head of h is
// g = h / (H / Hkv).
//   q, out, dout, dq are (M,H,D); k, v, dk, dv are (M,Hkv,D); lse is (M,H); ws is (M,H,2); cu (B+1,).
//   P_ij = exp(s_ij − lse_i) for visible (i, j) (j ≤ i < len, same sequence), else 0; s_ij = scale · q_i·k_j
//   dP_ij = dout_i·v_j        dS_ij = P_ij (dP_ij − Δ_i)
//   dv_j = Σ_{h in group, i} P_ij dout_i    dk_j = scale Σ_{h, i} dS_ij q_i    dq_i = scale Σ_j dS_ij k_j
// Every row of every sequence gets all three gradients assigned (=).
// Rows are read as vec4 (D % 4 == 0; D4 = D / 4). Threads: WG = ROWS·TPR where ROWS = BK (dkdv) or BQ (dq);
// TPR threads share one row, thread t owning the vec4s d4 = t + TPR·c (c < DPT).

override D: u32 = 128;        // head dim, a multiple of 4
override BQ: u32 = 8;         // query rows per tile
override BK: u32 = 16;        // key rows per tile
override TPR: u32 = 16;       // threads per owned row (key row in dkdv, query row in dq)
override WG: u32 = 256;       // BK·TPR for dkdv, BQ·TPR for dq
override D4: u32 = D / 4u;
override DPT: u32 = (D4 + TPR - 1u) / TPR;
override DS: u32 = D4 + 1u;   // row stride (vec4) in workgroup memory: the pad spreads strided rows over banks

const MAX_DPT: u32 = 4u;

struct Params { B: u32, T: u32, H: u32, Hkv: u32, scale: f32, M: u32 }

// Each entry point binds only what it uses (layout 'auto'): prep 0, 5, 9, 10, 12; dkdv 2, 3, 4..8, 11, 12;
// dq 1, 4..8, 11, 12 (at most 8 storage buffers each).
@group(0) @binding(0) var<storage, read_write> ws: array<f32>;        // prep writes (lse, Δ)
@group(0) @binding(1) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dv: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> ws_r: array<f32>;            // dkdv, dq read (lse, Δ)
@group(0) @binding(5) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> out: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read> lse: array<f32>;
@group(0) @binding(11) var<storage, read> cu: array<u32>;      // (B+1,) sequence starts
@group(0) @binding(12) var<uniform> p: Params;

var<workgroup> qs: array<vec4<f32>, BQ * DS>;    // (BQ, D) q tile
var<workgroup> dos: array<vec4<f32>, BQ * DS>;   // (BQ, D) dout tile
var<workgroup> ks: array<vec4<f32>, BK * DS>;    // (BK, D) k tile
var<workgroup> vs: array<vec4<f32>, BK * DS>;    // (BK, D) v tile
var<workgroup> ps: array<f32, BQ * BK>;    // (BQ, BK) P of this tile pair
var<workgroup> dps: array<f32, BQ * BK>;   // (BQ, BK) dP of this tile pair
var<workgroup> lse_s: array<f32, BQ>;
var<workgroup> delta_s: array<f32, BQ>;

// ---- prep: one thread per (b, i, h) ----

@compute @workgroup_size(WG)
fn backward_prep(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * WG;  // flat (row, h)
  if (n >= p.M * p.H) { return; }
  var delta = 0.0;
  for (var d = 0u; d < D4; d++) { delta += dot(dout[n * D4 + d], out[n * D4 + d]); }
  ws[n * 2u] = lse[n];
  ws[n * 2u + 1u] = delta;
}

// ---- shared tile steps ----

// Loads q, dout rows q0.. of head h of the sequence starting at row s0 (zeros past len), and their (lse, Δ).
fn loadQueryTile(lid: u32, s0: u32, h: u32, q0: u32, len: u32) {
  let H = p.H;
  for (var e = lid; e < BQ * D4; e += WG) {
    let rr = e / D4;
    let d = e % D4;
    let i = q0 + rr;
    var qx = vec4(0.0);
    var dx = vec4(0.0);
    if (i < len) {
      let o = ((s0 + i) * H + h) * D4 + d;
      qx = q[o];
      dx = dout[o];
    }
    qs[rr * DS + d] = qx;
    dos[rr * DS + d] = dx;
  }
  for (var rr = lid; rr < BQ; rr += WG) {
    let i = q0 + rr;
    var l = 0.0;
    var dl = 0.0;
    if (i < len) {
      let w = ((s0 + i) * H + h) * 2u;
      l = ws_r[w];
      dl = ws_r[w + 1u];
    }
    lse_s[rr] = l;
    delta_s[rr] = dl;
  }
}

// Loads k, v rows k0.. of kv head g (zeros past len).
fn loadKeyTile(lid: u32, s0: u32, g: u32, k0: u32, len: u32) {
  let Hkv = p.Hkv;
  for (var e = lid; e < BK * D4; e += WG) {
    let jj = e / D4;
    let d = e % D4;
    let j = k0 + jj;
    var kx = vec4(0.0);
    var vx = vec4(0.0);
    if (j < len) {
      let o = ((s0 + j) * Hkv + g) * D4 + d;
      kx = k[o];
      vx = v[o];
    }
    ks[jj * DS + d] = kx;
    vs[jj * DS + d] = vx;
  }
}

// ps = P, dps = dP for the (BQ, BK) tile pair at (q0, k0). Half the work items are q·k dots, half dout·v dots.
fn tileProbabilities(lid: u32, q0: u32, k0: u32, len: u32) {
  for (var e = lid; e < 2u * BQ * BK; e += WG) {
    let pair = e % (BQ * BK);
    let rr = pair / BK;
    let jj = pair % BK;
    if (e < BQ * BK) {
      let i = q0 + rr;
      let j = k0 + jj;
      var s = 0.0;
      for (var d = 0u; d < D4; d++) { s += dot(qs[rr * DS + d], ks[jj * DS + d]); }
      var pr = 0.0;
      if (j <= i && i < len) { pr = exp(s * p.scale - lse_s[rr]); }  // j < len follows from j ≤ i < len
      ps[pair] = pr;
    } else {
      var s = 0.0;
      for (var d = 0u; d < D4; d++) { s += dot(dos[rr * DS + d], vs[jj * DS + d]); }
      dps[pair] = s;
    }
  }
}

// ---- dkdv: workgroup (key tile, kv head g, b); thread row jj = key k0 + jj ----

@compute @workgroup_size(WG)
fn backward_dkdv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let k0 = wid.x * BK;
  let Hkv = p.Hkv;
  let group = p.H / Hkv;
  let s0 = cu[b];
  let len = cu[b + 1u] - s0;
  let jj = lid / TPR;
  let t = lid % TPR;
  let j = k0 + jj;

  var dka: array<vec4<f32>, MAX_DPT>;
  var dva: array<vec4<f32>, MAX_DPT>;
  for (var c = 0u; c < DPT; c++) { dka[c] = vec4(0.0); dva[c] = vec4(0.0); }

  if (k0 < len) {             // uniform: keys ≥ len are seen by no query
    loadKeyTile(lid, s0, g, k0, len);
    let qStart = (k0 / BQ) * BQ;  // earlier query tiles see none of these keys (causal)
    for (var hh = 0u; hh < group; hh++) {
      let h = g * group + hh;
      for (var q0 = qStart; q0 < len; q0 += BQ) {
        workgroupBarrier();   // previous tile pair consumed
        loadQueryTile(lid, s0, h, q0, len);
        workgroupBarrier();
        tileProbabilities(lid, q0, k0, len);
        workgroupBarrier();
        for (var rr = 0u; rr < BQ; rr++) {
          let pr = ps[rr * BK + jj];
          let ds = pr * (dps[rr * BK + jj] - delta_s[rr]);
          for (var c = 0u; c < DPT; c++) {
            let d = min(t + TPR * c, D4 - 1u);  // clamped lanes (D4 % TPR ≠ 0) are never written
            dva[c] += pr * dos[rr * DS + d];
            dka[c] += ds * qs[rr * DS + d];
          }
        }
      }
    }
  }

  if (j >= len) { return; }
  for (var c = 0u; c < DPT; c++) {
    let d = t + TPR * c;
    if (d < D4) {
      let o = ((s0 + j) * Hkv + g) * D4 + d;
      dk[o] = dka[c] * p.scale;
      dv[o] = dva[c];
    }
  }
}

// ---- dq: workgroup (query tile, head h, b); thread row rr = query q0 + rr ----

@compute @workgroup_size(WG)
fn backward_dq(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let h = wid.y;
  let q0 = wid.x * BQ;
  let H = p.H;
  let g = h / (H / p.Hkv);
  let s0 = cu[b];
  let len = cu[b + 1u] - s0;
  let rr = lid / TPR;
  let t = lid % TPR;
  let i = q0 + rr;

  var acc: array<vec4<f32>, MAX_DPT>;
  for (var c = 0u; c < DPT; c++) { acc[c] = vec4(0.0); }

  if (q0 < len) {             // uniform
    loadQueryTile(lid, s0, h, q0, len);
    let kEnd = min(q0 + BQ, len);
    for (var k0 = 0u; k0 < kEnd; k0 += BK) {
      workgroupBarrier();
      loadKeyTile(lid, s0, g, k0, len);
      workgroupBarrier();
      tileProbabilities(lid, q0, k0, len);
      workgroupBarrier();
      let dl = delta_s[rr];
      for (var jj = 0u; jj < BK; jj++) {
        let ds = ps[rr * BK + jj] * (dps[rr * BK + jj] - dl);
        for (var c = 0u; c < DPT; c++) {
          let d = min(t + TPR * c, D4 - 1u);
          acc[c] += ds * ks[jj * DS + d];
        }
      }
    }
  }

  if (i >= len) { return; }
  for (var c = 0u; c < DPT; c++) {
    let d = t + TPR * c;
    if (d < D4) { dq[((s0 + i) * H + h) * D4 + d] = acc[c] * p.scale; }
  }
}
