// Residual add: out = a + b over N elements (flattened (B,T,C)). In place (out === a) uses add_inplace, which
// binds the stream once. The backward of the add is the identity: both inputs receive dout unchanged, so the
// residual gradient simply passes through and the norms' `accumulate` option adds the branch gradients into it.

override WG: u32 = 256;

struct Params { n: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;   // (N,)
@group(0) @binding(1) var<storage, read> a: array<f32>;           // (N,)  add only
@group(0) @binding(2) var<storage, read> b: array<f32>;           // (N,)
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = a[i] + b[i];
}

// out += b
@compute @workgroup_size(WG)
fn add_inplace(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = out[i] + b[i];
}
