// q_norm / k_norm (Qwen3RMSNorm over each head's D values) and RoPE (half-split rotate_half) in one pass over the
// fused q|k|v projection output, which also copies v out for attention. Forward, per packed row m and head unit u
// (u < H: a query head, H ≤ u < H+Hkv: a key head, else a value head):
//   x = qkv[m, u·D .. u·D+D)          r = 1/sqrt(mean(x²) + eps)          n = (x·r)·w   (w = q_norm or k_norm)
//   out[j] = n[j]·c − n[j+D/2]·s,  out[j+D/2] = n[j+D/2]·c + n[j]·s       c, s = cos/sin[pos[m], j]
// Backward (dout = gradient of the rotated, normed heads; v heads copy their gradient through):
//   g = Rᵀ·dout (g[j] = d[j]·c + d[j+D/2]·s, g[j+D/2] = d[j+D/2]·c − d[j]·s)
//   dx = r·w·g − (r³/D)·x·Σ g·w·x                                     (assigned into dqkv)
//   dw += Σ_rows g·(x·r)   (full fine-tuning: partials per block of rows, then blocks added in order: no atomics)
// One invocation per (m, u), statistics in f32, sums in a fixed order: bit-identical run to run.
// Layout: qkv, dqkv (M, (H+2Hkv)·D); qr, dq (M,H,D); kr, v, dk, dv (M,Hkv,D); rstd (M, H+Hkv).

override WG: u32 = 64;

struct Params {
  M: u32, H: u32, Hkv: u32, D: u32,
  eps: f32,
  rows_per_block: u32, num_blocks: u32,   // dweight passes
  half: u32,
  kOff: u32,                              // k_norm.weight at nw[kOff..]
  sinOff: u32,                            // sin table at tab[sinOff..] (cos at tab[0..])
  dkOff: u32, dvOff: u32,                 // backward: dk, dv at d3[dkOff..], d3[dvOff..] (dq at d3[0..])
}

// At most 8 storage buffers per entry point (the portable limit): q_norm|k_norm, cos|sin and dq|dk|dv are each one
// binding (ranges of one buffer at the offsets above).
@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> nw: array<f32>;              // q_norm.weight (D,), k_norm.weight at kOff
@group(0) @binding(2) var<storage, read> tab: array<f32>;             // cos (maxT, D/2), sin at sinOff
@group(0) @binding(3) var<storage, read> pos: array<u32>;             // (M,)
@group(0) @binding(4) var<storage, read_write> o0: array<f32>;        // forward qr | backward dqkv | partial: workspace | reduce: dq_norm.weight
@group(0) @binding(5) var<storage, read_write> o1: array<f32>;        // forward kr | reduce: dk_norm.weight
@group(0) @binding(6) var<storage, read_write> o2: array<f32>;        // forward v
@group(0) @binding(7) var<storage, read_write> rstd_o: array<f32>;   // forward rstd (M, H+Hkv)
@group(0) @binding(8) var<storage, read> rstd: array<f32>;            // backward: the forward's rstd
@group(0) @binding(9) var<storage, read> d3: array<f32>;              // backward: dq (M,H,D) | dk | dv; reduce: workspace
@group(0) @binding(10) var<uniform> p: Params;

fn unitIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * WG; }

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let U = p.H + 2u * p.Hkv;
  let n = unitIndex(gid, nwg);
  if (n >= p.M * U) { return; }
  let m = n / U;
  let u = n % U;
  let D = p.D;
  let base = m * U * D + u * D;
  if (u >= p.H + p.Hkv) {          // value head: copy out for attention
    let vo = (m * p.Hkv + (u - p.H - p.Hkv)) * D;
    for (var d = 0u; d < D; d++) { o2[vo + d] = qkv[base + d]; }
    return;
  }
  var ss = 0.0;
  for (var d = 0u; d < D; d++) { let x = qkv[base + d]; ss += x * x; }
  let r = inverseSqrt(ss / f32(D) + p.eps);
  rstd_o[m * (p.H + p.Hkv) + u] = r;
  let isQ = u < p.H;
  let ob = select((m * p.Hkv + (u - p.H)) * D, (m * p.H + u) * D, isQ);
  let tb = pos[m] * p.half;
  for (var j = 0u; j < p.half; j++) {
    let wo = select(p.kOff, 0u, isQ);
    let w1 = nw[wo + j];
    let w2 = nw[wo + j + p.half];
    let x1 = (qkv[base + j] * r) * w1;
    let x2 = (qkv[base + j + p.half] * r) * w2;
    let c = tab[tb + j];
    let s = tab[p.sinOff + tb + j];
    let y1 = x1 * c - x2 * s;
    let y2 = x2 * c + x1 * s;
    if (isQ) { o0[ob + j] = y1; o0[ob + j + p.half] = y2; } else { o1[ob + j] = y1; o1[ob + j + p.half] = y2; }
  }
}

// Gradient of the normed head at element e < D (un-rotated dout). dbase: the head's row start in d3 (dq or dk part).
fn gradNormed(dbase: u32, tb: u32, e: u32) -> f32 {
  let j = select(e - p.half, e, e < p.half);
  let c = tab[tb + j];
  let s = tab[p.sinOff + tb + j];
  let a = d3[dbase + j];
  let b = d3[dbase + j + p.half];
  return select(b * c - a * s, a * c + b * s, e < p.half);
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let U = p.H + 2u * p.Hkv;
  let n = unitIndex(gid, nwg);
  if (n >= p.M * U) { return; }
  let m = n / U;
  let u = n % U;
  let D = p.D;
  let base = m * U * D + u * D;
  if (u >= p.H + p.Hkv) {
    let vo = p.dvOff + (m * p.Hkv + (u - p.H - p.Hkv)) * D;
    for (var d = 0u; d < D; d++) { o0[base + d] = d3[vo + d]; }
    return;
  }
  let isQ = u < p.H;
  let dbase = select(p.dkOff + (m * p.Hkv + (u - p.H)) * D, (m * p.H + u) * D, isQ);
  let wo = select(p.kOff, 0u, isQ);
  let tb = pos[m] * p.half;
  let r = rstd[m * (p.H + p.Hkv) + u];
  var sgw = 0.0;
  for (var e = 0u; e < D; e++) {
    sgw += gradNormed(dbase, tb, e) * nw[wo + e] * qkv[base + e];
  }
  let k = r * r * r * sgw / f32(D);
  for (var e = 0u; e < D; e++) {
    o0[base + e] = r * nw[wo + e] * gradNormed(dbase, tb, e) - k * qkv[base + e];
  }
}

// workspace (num_blocks, 2, D): per block of rows, Σ over its rows and heads of g·(x·r) for q (0) and k (1).
// One invocation per (block, q|k, e).
@compute @workgroup_size(WG)
fn dweight_partial(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let n = unitIndex(gid, nwg);
  let D = p.D;
  if (n >= p.num_blocks * 2u * D) { return; }
  let e = n % D;
  let isQ = (n / D) % 2u == 0u;
  let blk = n / (2u * D);
  let U = p.H + 2u * p.Hkv;
  let m0 = blk * p.rows_per_block;
  let m1 = min(p.M, m0 + p.rows_per_block);
  let nh = select(p.Hkv, p.H, isQ);
  var acc = 0.0;
  for (var m = m0; m < m1; m++) {
    let tb = pos[m] * p.half;
    for (var h = 0u; h < nh; h++) {
      let u = select(p.H + h, h, isQ);
      let dbase = select(p.dkOff + (m * p.Hkv + h) * D, (m * p.H + h) * D, isQ);
      acc += gradNormed(dbase, tb, e) * (qkv[m * U * D + u * D + e] * rstd[m * (p.H + p.Hkv) + u]);
    }
  }
  o0[n] = acc;
}

// dqw (D,) += Σ_blocks workspace[b, 0, :], dkw += Σ_blocks workspace[b, 1, :], blocks in order.
@compute @workgroup_size(WG)
fn dweight_reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  let n = gid.x;
  let D = p.D;
  if (n >= 2u * D) { return; }
  var acc = 0.0;
  for (var b = 0u; b < p.num_blocks; b++) { acc += d3[b * 2u * D + n]; }
  if (n < D) { o0[n] = o0[n] + acc; } else { o1[n - D] = o1[n - D] + acc; }
}
