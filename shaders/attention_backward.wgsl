// Causal self-attention backward, flash style: probabilities are recomputed ONCE, tile by tile, from the saved
// lse in the dk/dv pass, which also stores dS; dq then reads dS (no exponential recomputed). Three entry points,
// run in this order (3 dispatches):
//   backward_prep  ws header (lse, Δ) with Δ = Σ_d dout·out, one thread per packed (row, head)
//   backward_dkdv  one workgroup per (key tile, kv head g, sequence b): the K/V tile and the dk, dv accumulators
//                  stay resident while it loops over the G query heads of g and the query tiles at or below the
//                  diagonal; it writes dS of every such (query tile, key tile) pair into the workspace.
//   backward_dq    one workgroup per (query tile, head h, sequence b): dq_i = scale Σ_j dS_ij k_j over the stored tiles.
// No atomics, every sum in a fixed order: bit-identical run to run.
// Padding-free (packed) layout: B sequences end to end in M rows, sequence b at rows [cu[b], cu[b+1]) (cu_seqlens);
// T ≥ the longest sequence (sizes the grid); H query heads, Hkv kv heads, G = H / Hkv, D head dim; the kv head
// of query head h is g = h / G.
//   q, out, dout, dq are (M,H,D); k, v, dk, dv are (M,Hkv,D); lse is (M,H); cu (B+1,).
//   P_ij = exp(s_ij − lse_i) for visible (i, j) (j ≤ i < len, same sequence), else 0; s_ij = scale · q_i·k_j
//   dP_ij = dout_i·v_j        dS_ij = P_ij (dP_ij − Δ_i)
//   dv_j = Σ_{h in group, i} P_ij dout_i    dk_j = scale Σ_{h, i} dS_ij q_i    dq_i = scale Σ_j dS_ij k_j
// Every row of every sequence gets all three gradients assigned (=).
//
// Workspace ws (f32): header (M,H,2) = (lse, Δ), then the dS tiles (unscaled; dq multiplies by scale once at the end). Tiles are BQ×BK (BK a multiple of BQ,
// R = BK / BQ); query tile qt of a sequence sees key tiles kt ≤ qt / R. Sequence b has NQ_b = ceil(len_b / BQ)
// query tiles and TILES(NQ_b) stored tiles per head, where TILES(n) = Σ_{qt<n} (qt / R + 1). Tile (b, h, qt, kt)
// is tile number TB_b·H + h·TILES(NQ_b) + TILES(qt) + kt (TB_b = Σ_{b'<b} TILES(NQ_b')), stored row-major
// (BQ rows of BK), entries of masked pairs 0.
// Rows are read as vec4 (D % 4 == 0; D4 = D / 4). Threads: dkdv WG = BK·TPR (TPR threads per key row), dq
// WG = BQ·TPR (per query row); thread t of a row owns the vec4s d4 = t + TPR·c (c < DPT).

override D: u32 = 128;        // head dim, a multiple of 4
override BQ: u32 = 8;         // query rows per tile
override BK: u32 = 16;        // key rows per tile, a multiple of BQ
override TPR: u32 = 8;        // threads per owned row (key row in dkdv, query row in dq)
override WG: u32 = 128;       // BK·TPR for dkdv, BQ·TPR for dq, PREP_WG for prep
override D4: u32 = D / 4u;
override DPT: u32 = (D4 + TPR - 1u) / TPR;
override DS: u32 = D4 + 1u;   // row stride (vec4) in workgroup memory: the pad spreads strided rows over banks
override R: u32 = BK / BQ;

const MAX_DPT: u32 = 4u;

struct Params { B: u32, T: u32, H: u32, Hkv: u32, scale: f32, M: u32 }

// Each entry point binds only what it uses (layout 'auto'): prep 0, 5, 9, 10, 12; dkdv 0, 2, 3, 5..8, 11, 12;
// dq 0, 1, 7, 11, 12 (at most 8 storage buffers each).
@group(0) @binding(0) var<storage, read_write> ws: array<f32>;
@group(0) @binding(1) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dv: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(8) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(9) var<storage, read> out: array<vec4<f32>>;
@group(0) @binding(10) var<storage, read> lse: array<f32>;
@group(0) @binding(11) var<storage, read> cu: array<u32>;      // (B+1,) sequence starts
@group(0) @binding(12) var<uniform> p: Params;

var<workgroup> qs: array<vec4<f32>, BQ * DS>;    // (BQ, D) q tile (dkdv)
var<workgroup> dos: array<vec4<f32>, BQ * DS>;   // (BQ, D) dout tile (dkdv)
var<workgroup> ks: array<vec4<f32>, BK * DS>;    // (BK, D) k tile
var<workgroup> vs: array<vec4<f32>, BK * DS>;    // (BK, D) v tile (dkdv)
var<workgroup> ps: array<f32, BQ * BK>;    // (BQ, BK) P of this tile pair (dkdv)
var<workgroup> dss: array<f32, BQ * BK>;   // (BQ, BK) dS of this tile pair
var<workgroup> lse_s: array<f32, BQ>;
var<workgroup> delta_s: array<f32, BQ>;

// ---- prep: one thread per (row, h) ----

@compute @workgroup_size(WG)
fn backward_prep(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = gid.x + gid.y * nwg.x * WG;  // flat (row, h)
  if (n >= p.M * p.H) { return; }
  var delta = 0.0;
  for (var d = 0u; d < D4; d++) { delta += dot(dout[n * D4 + d], out[n * D4 + d]); }
  ws[n * 2u] = lse[n];
  ws[n * 2u + 1u] = delta;
}

// ---- dS tile addressing ----

// Σ_{qt' < n} (qt' / R + 1): stored tiles of the first n query tiles of one (sequence, head).
fn tilesBefore(n: u32) -> u32 {
  let a = n / R;
  let rem = n % R;
  return n + R * (a * (a - 1u) / 2u) + rem * a;  // a·(a−1) wraps to 0 at a = 0
}

// First dS tile of sequence b (all heads), in tiles.
fn seqTileBase(b: u32) -> u32 {
  var base = 0u;
  for (var bb = 0u; bb < b; bb++) {
    let nq = (cu[bb + 1u] - cu[bb] + BQ - 1u) / BQ;
    base += tilesBefore(nq);
  }
  return base * p.H;
}

// Offset (f32) in ws of tile (qt, kt) of head h of the sequence whose tiles start at tile seqBase and has nq query tiles.
fn dsOffset(seqBase: u32, nq: u32, h: u32, qt: u32, kt: u32) -> u32 {
  return p.M * p.H * 2u + (seqBase + h * tilesBefore(nq) + tilesBefore(qt) + kt) * (BQ * BK);
}

// ---- dkdv: workgroup (key tile, kv head g, b); thread row jj = key k0 + jj ----

@compute @workgroup_size(WG)
fn backward_dkdv(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let b = wid.z;
  let g = wid.y;
  let kt = wid.x;
  let k0 = kt * BK;
  let H = p.H;
  let Hkv = p.Hkv;
  let G = H / Hkv;
  let s0 = cu[b];
  let len = cu[b + 1u] - s0;
  let jj = lid / TPR;
  let t = lid % TPR;
  let j = k0 + jj;

  var dka: array<vec4<f32>, MAX_DPT>;
  var dva: array<vec4<f32>, MAX_DPT>;
  for (var c = 0u; c < DPT; c++) { dka[c] = vec4(0.0); dva[c] = vec4(0.0); }

  if (k0 < len) {             // uniform: keys ≥ len are seen by no query
    for (var e = lid; e < BK * D4; e += WG) {
      let r = e / D4;
      let d = e % D4;
      var kx = vec4(0.0);
      var vx = vec4(0.0);
      if (k0 + r < len) {
        let o = ((s0 + k0 + r) * Hkv + g) * D4 + d;
        kx = k[o];
        vx = v[o];
      }
      ks[r * DS + d] = kx;
      vs[r * DS + d] = vx;
    }
    let nq = (len + BQ - 1u) / BQ;
    let seqBase = seqTileBase(b);
    for (var hh = 0u; hh < G; hh++) {
      let h = g * G + hh;
      for (var qt = kt * R; qt < nq; qt++) {  // earlier query tiles see none of these keys (causal)
        let q0 = qt * BQ;
        workgroupBarrier();   // previous tile pair consumed (and the K/V tile written, first time)
        for (var e = lid; e < BQ * D4; e += WG) {
          let rr = e / D4;
          let d = e % D4;
          var qx = vec4(0.0);
          var dx = vec4(0.0);
          if (q0 + rr < len) {
            let o = ((s0 + q0 + rr) * H + h) * D4 + d;
            qx = q[o];
            dx = dout[o];
          }
          qs[rr * DS + d] = qx;
          dos[rr * DS + d] = dx;
        }
        for (var rr = lid; rr < BQ; rr += WG) {
          var l = 0.0;
          var dl = 0.0;
          if (q0 + rr < len) {
            let w = ((s0 + q0 + rr) * H + h) * 2u;
            l = ws[w];
            dl = ws[w + 1u];
          }
          lse_s[rr] = l;
          delta_s[rr] = dl;
        }
        workgroupBarrier();
        // P, dS of the tile pair; dS also to the workspace (row-major tile: coalesced).
        let dso = dsOffset(seqBase, nq, h, qt, kt);
        for (var e = lid; e < BQ * BK; e += WG) {
          let rr = e / BK;
          let cc = e % BK;
          var s = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < D4; d++) {
            s += dot(qs[rr * DS + d], ks[cc * DS + d]);
            dp += dot(dos[rr * DS + d], vs[cc * DS + d]);
          }
          var pr = 0.0;
          if (k0 + cc <= q0 + rr && q0 + rr < len) { pr = exp(s * p.scale - lse_s[rr]); }  // j < len follows
          let ds = pr * (dp - delta_s[rr]);
          ps[e] = pr;
          dss[e] = ds;
          ws[dso + e] = ds;
        }
        workgroupBarrier();
        for (var rr = 0u; rr < BQ; rr++) {
          let pr = ps[rr * BK + jj];
          let ds = dss[rr * BK + jj];
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
  let qt = wid.x;
  let q0 = qt * BQ;
  let H = p.H;
  let Hkv = p.Hkv;
  let g = h / (H / Hkv);
  let s0 = cu[b];
  let len = cu[b + 1u] - s0;
  let rr = lid / TPR;
  let t = lid % TPR;
  let i = q0 + rr;

  var acc: array<vec4<f32>, MAX_DPT>;
  for (var c = 0u; c < DPT; c++) { acc[c] = vec4(0.0); }

  if (q0 < len) {             // uniform
    let nq = (len + BQ - 1u) / BQ;
    let seqBase = seqTileBase(b);
    let nk = qt / R + 1u;     // visible key tiles; all start below len (kt·BK ≤ q0 < len)
    for (var kt = 0u; kt < nk; kt++) {
      let k0 = kt * BK;
      workgroupBarrier();
      for (var e = lid; e < BK * D4; e += WG) {
        let r = e / D4;
        let d = e % D4;
        var kx = vec4(0.0);
        if (k0 + r < len) { kx = k[((s0 + k0 + r) * Hkv + g) * D4 + d]; }
        ks[r * DS + d] = kx;
      }
      let dso = dsOffset(seqBase, nq, h, qt, kt);
      for (var e = lid; e < BQ * BK; e += WG) { dss[e] = ws[dso + e]; }
      workgroupBarrier();
      for (var c2 = 0u; c2 < BK; c2++) {
        let ds = dss[rr * BK + c2];
        for (var c = 0u; c < DPT; c++) {
          let d = min(t + TPR * c, D4 - 1u);
          acc[c] += ds * ks[c2 * DS + d];
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
