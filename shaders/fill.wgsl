// Writes +0.0 (all-zero bits) to buf[offset .. offset+count): gradients after each optimizer step.

override WG: u32 = 256;

struct Params { offset: u32, count: u32 }

@group(0) @binding(0) var<storage, read_write> buf: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn fill_zero(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let j = gid.x + gid.y * nwg.x * WG;
  if (j >= p.count) { return; }
  buf[p.offset + j] = 0u;
}
