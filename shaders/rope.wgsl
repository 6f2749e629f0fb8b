// Rotary position embedding, half-split convention (transformers Qwen3 rotate_half):
//   out = x * cos + rotate_half(x) * sin, rotate_half(x) = cat(-x[D/2:], x[:D/2]), cos/sin duplicated over halves.
// For pair j < D/2 with x1 = x[j], x2 = x[j + D/2], c = cos[t, j], s = sgn * sin[t, j]:
//   out[j] = x1 * c − x2 * s,  out[j + D/2] = x2 * c + x1 * s.
// sgn = +1 is the forward rotation, sgn = −1 its inverse (= transpose), which is the backward: dinp = Rᵀ dout.
// x is (B,T,nH,D), cos/sin are (T, D/2) f32 tables computed on the CPU (the GPU never evaluates cos).
// With POSITIONS = 1 (packed, padding-free rows) x is (M,nH,D) and row m's position is positions[m].
// One invocation per pair; it reads both elements before writing, so in place (rotate_inplace) is safe.

override WG: u32 = 256;
override POSITIONS: u32 = 0;

struct Params {
  n_pairs: u32,   // B*T*nH*(D/2)
  T: u32,
  nH: u32,
  half: u32,      // D/2
  sgn: f32,       // +1 forward, −1 backward
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // (B,T,nH,D)
@group(0) @binding(1) var<storage, read> inp: array<f32>;         // (B,T,nH,D), rotate only
@group(0) @binding(2) var<storage, read> cos_t: array<f32>;       // (T, D/2)
@group(0) @binding(3) var<storage, read> sin_t: array<f32>;       // (T, D/2)
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> positions: array<u32>;  // (M,) with POSITIONS = 1

struct Pair { i1: u32, i2: u32, c: f32, s: f32 }

fn pair_of(i: u32) -> Pair {
  let j = i % p.half;
  let row = i / p.half;              // over (B,T,nH)
  var t = (row / p.nH) % p.T;
  if (POSITIONS == 1u) { t = positions[row / p.nH]; }
  let base = row * 2u * p.half;
  let k = t * p.half + j;
  return Pair(base + j, base + j + p.half, cos_t[k], p.sgn * sin_t[k]);
}

@compute @workgroup_size(WG)
fn rotate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n_pairs) { return; }
  let q = pair_of(i);
  let x1 = inp[q.i1];
  let x2 = inp[q.i2];
  out[q.i1] = x1 * q.c - x2 * q.s;
  out[q.i2] = x2 * q.c + x1 * q.s;
}

@compute @workgroup_size(WG)
fn rotate_inplace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n_pairs) { return; }
  let q = pair_of(i);
  let x1 = out[q.i1];
  let x2 = out[q.i2];
  out[q.i1] = x1 * q.c - x2 * q.s;
  out[q.i2] = x2 * q.c + x1 * q.s;
}
