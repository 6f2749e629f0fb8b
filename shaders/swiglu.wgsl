// SwiGLU elementwise part of Qwen3's MLP: out = silu(gate) * up, silu(x) = x * sigmoid(x).
// gate, up, out are (N,) with N = M*F, flattened; with ROWS = 1 gate and up are the two halves of each row of one
// (M, 2F) buffer (the fused gate|up product): element i = (m, f) reads gate[m·2F + f], up[m·2F + F + f] (dgate and
// dup are written to the same places of one (M, 2F) gradient buffer).
// Backward: dgate = dout * up * silu'(gate), dup = dout * silu(gate), silu'(x) = s * (1 + x * (1 - s)).
// Both gradients are assigned (=): they are activation gradients.

override WG: u32 = 256;

override ROWS: u32 = 0;

struct Params { n: u32, F: u32 }

@group(0) @binding(0) var<storage, read_write> a: array<f32>;   // forward: out     backward: dgate
@group(0) @binding(1) var<storage, read_write> b: array<f32>;   // forward: (unused) backward: dup
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> up: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;      // forward: (unused, any buffer)
@group(0) @binding(5) var<uniform> p: Params;

// sigmoidStable: shaders/common_math.wgsl (appended by src/ops/swiglu.ts).

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var gi = i;
  var ui = i;
  if (ROWS == 1u) { gi = (i / p.F) * 2u * p.F + i % p.F; ui = gi + p.F; }
  let g = gate[gi];
  a[i] = g * sigmoidStable(g) * up[ui];
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var gi = i;
  var ui = i;
  if (ROWS == 1u) { gi = (i / p.F) * 2u * p.F + i % p.F; ui = gi + p.F; }
  let g = gate[gi];
  let s = sigmoidStable(g);
  let d = dout[i];
  let dg = d * up[ui] * s * (1.0 + g * (1.0 - s));
  let du = d * g * s;
  if (ROWS == 1u) { a[gi] = dg; a[ui] = du; } else { a[i] = dg; b[i] = du; }
}
