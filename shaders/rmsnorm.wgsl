// RMSNorm (transformers Qwen3RMSNorm) over rows of width C: out = (x * rstd) * weight, rstd = 1/sqrt(mean(x²) + eps),
// statistics in f32. One workgroup per row; the row sum is a fixed-order reduction (deterministic): a workgroup tree,
// or in the `subgroups` variant (src/gpu/variants.ts) subgroupAdd and the subgroup sums in a fixed order.
// N rows, C width: over the hidden size N = B*T, C = hidden; per head (q_norm/k_norm) N = B*T*H, C = D.
//
// Backward, with r = rstd of the row and g = dout:
//   dx_j = r * w_j * g_j − (r³ / C) * x_j * Σ_c g_c w_c x_c      (assigned, or added with accumulate = 1)
//   dw_c += Σ_rows g_c * (x_c * r)                             (two passes, no float atomics:
//     dweight_partial sums blocks of rows_per_block rows into workspace (num_blocks, C),
//     dweight_reduce adds the blocks in order into dweight)
//
// Also the fused residual + norm forward (pre-norm decoder): res_out = res_in + delta, out = rmsnorm(res_out).

override WG: u32 = 256;   // threads per workgroup, a power of two (tree reduction)

struct Params {
  N: u32,
  C: u32,
  eps: f32,
  rows_per_block: u32,    // dweight passes
  num_blocks: u32,        // dweight passes: ceil(N / rows_per_block)
  accumulate: u32,        // backward_dinp: 1 → dinp += dx, 0 → dinp = dx
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;        // (N,C)  forward
@group(0) @binding(1) var<storage, read_write> rstd_out: array<f32>;   // (N,)   forward, saved
@group(0) @binding(2) var<storage, read> inp: array<f32>;              // (N,C)
@group(0) @binding(3) var<storage, read> weight: array<f32>;           // (C,)
@group(0) @binding(4) var<storage, read_write> dinp: array<f32>;       // (N,C)
@group(0) @binding(5) var<storage, read> dout: array<f32>;             // (N,C)
@group(0) @binding(6) var<storage, read> rstd: array<f32>;             // (N,)   backward
@group(0) @binding(7) var<storage, read_write> workspace: array<f32>;  // (num_blocks, C)
@group(0) @binding(8) var<storage, read_write> dweight: array<f32>;    // (C,)
@group(0) @binding(9) var<storage, read_write> res_out: array<f32>;    // (N,C)  fused residual forward
@group(0) @binding(10) var<storage, read> res_in: array<f32>;          // (N,C)
@group(0) @binding(11) var<storage, read> delta: array<f32>;           // (N,C)
@group(0) @binding(12) var<uniform> p: Params;

// Sum of `v` over the workgroup, same order on every run. Call from uniform control flow.
// #if SUBGROUPS
fn workgroup_sum(lid: u32, v: f32) -> f32 { return sg_workgroup_sum(lid, WG, v); }
// #else
var<workgroup> red: array<f32, WG>;

fn workgroup_sum(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();   // `red` may be reused right after
  return total;
}
// #endif

fn row_index(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// out (N,C), rstd_out (N,) ← inp (N,C), weight (C,)
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.N) { return; }
  let base = row * p.C;
  var ss = 0.0;
  for (var c = lid; c < p.C; c += WG) {
    let x = inp[base + c];
    ss += x * x;
  }
  let r = inverseSqrt(workgroup_sum(lid, ss) / f32(p.C) + p.eps);
  if (lid == 0u) { rstd_out[row] = r; }
  for (var c = lid; c < p.C; c += WG) {
    out[base + c] = (inp[base + c] * r) * weight[c];
  }
}

// res_out = res_in + delta; out = rmsnorm(res_out). All (N,C).
@compute @workgroup_size(WG)
fn residual_forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.N) { return; }
  let base = row * p.C;
  var ss = 0.0;
  for (var c = lid; c < p.C; c += WG) {
    let x = res_in[base + c] + delta[base + c];
    res_out[base + c] = x;
    ss += x * x;
  }
  let r = inverseSqrt(workgroup_sum(lid, ss) / f32(p.C) + p.eps);
  if (lid == 0u) { rstd_out[row] = r; }
  for (var c = lid; c < p.C; c += WG) {
    out[base + c] = (res_out[base + c] * r) * weight[c];   // this invocation wrote res_out[base + c] above
  }
}

// In place: res_out += delta; out = rmsnorm(res_out).
@compute @workgroup_size(WG)
fn residual_forward_inplace(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                            @builtin(local_invocation_index) lid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.N) { return; }
  let base = row * p.C;
  var ss = 0.0;
  for (var c = lid; c < p.C; c += WG) {
    let x = res_out[base + c] + delta[base + c];
    res_out[base + c] = x;
    ss += x * x;
  }
  let r = inverseSqrt(workgroup_sum(lid, ss) / f32(p.C) + p.eps);
  if (lid == 0u) { rstd_out[row] = r; }
  for (var c = lid; c < p.C; c += WG) {
    out[base + c] = (res_out[base + c] * r) * weight[c];
  }
}

// dinp (N,C) ← dout (N,C), inp (N,C), weight (C,), rstd (N,)
@compute @workgroup_size(WG)
fn backward_dinp(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let row = row_index(wid, nwg);
  if (row >= p.N) { return; }
  let base = row * p.C;
  var s = 0.0;
  for (var c = lid; c < p.C; c += WG) {
    s += dout[base + c] * weight[c] * inp[base + c];
  }
  let r = rstd[row];
  let k = r * r * r * workgroup_sum(lid, s) / f32(p.C);
  for (var c = lid; c < p.C; c += WG) {
    let dx = r * weight[c] * dout[base + c] - k * inp[base + c];
    if (p.accumulate != 0u) {
      dinp[base + c] = dinp[base + c] + dx;
    } else {
      dinp[base + c] = dx;
    }
  }
}

// workspace (num_blocks, C) ← per block of rows: Σ dout * (inp * rstd). Grid: x = column tiles of WG, y = blocks.
@compute @workgroup_size(WG)
fn dweight_partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x * WG + lid;
  let b = wid.y;
  if (c >= p.C || b >= p.num_blocks) { return; }
  let r0 = b * p.rows_per_block;
  let r1 = min(p.N, r0 + p.rows_per_block);
  var acc = 0.0;
  for (var r = r0; r < r1; r++) {
    acc += dout[r * p.C + c] * (inp[r * p.C + c] * rstd[r]);
  }
  workspace[b * p.C + c] = acc;
}

// dweight (C,) += Σ_b workspace[b, :], blocks in order.
@compute @workgroup_size(WG)
fn dweight_reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  let c = gid.x;
  if (c >= p.C) { return; }
  var acc = 0.0;
  for (var b = 0u; b < p.num_blocks; b++) {
    acc += workspace[b * p.C + c];
  }
  dweight[c] = dweight[c] + acc;
}
