// SwiGLU elementwise part of Qwen3's MLP: out = silu(gate) * up, silu(x) = x * sigmoid(x).
// gate, up, out are (N,) with N = B*T*F, flattened.
// Backward: dgate = dout * up * silu'(gate), dup = dout * silu(gate), silu'(x) = s * (1 + x * (1 - s)).
// Both gradients are assigned (=): they are activation gradients.

override WG: u32 = 256;

struct Params { n: u32 }

@group(0) @binding(0) var<storage, read_write> a: array<f32>;   // forward: out     backward: dgate
@group(0) @binding(1) var<storage, read_write> b: array<f32>;   // forward: (unused) backward: dup
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> up: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;      // forward: (unused, any buffer)
@group(0) @binding(5) var<uniform> p: Params;

fn sigmoid(x: f32) -> f32 {
  // Stable on both tails: exp of a non-positive argument only.
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let g = gate[i];
  a[i] = g * sigmoid(g) * up[i];
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let g = gate[i];
  let s = sigmoid(g);
  let d = dout[i];
  a[i] = d * up[i] * s * (1.0 + g * (1.0 - s));
  b[i] = d * g * s;
}
