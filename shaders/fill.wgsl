// Writes +0.0 (all-zero bits) to buf[offset .. offset+count): gradients after each optimizer step.
// Workgroup w clears the chunk [w·CHUNK, (w+1)·CHUNK), CHUNK = WG·EPT: thread t writes elements w·CHUNK + k·WG + t,
// k < EPT (coalesced). Full chunks skip the per-element bounds test (a uniform branch): on CPU Vulkan (SwiftShader)
// the invocation count and the per-element tests, not the stores, are the cost.

override WG: u32 = 256;
override EPT: u32 = 16;   // elements per thread

struct Params { offset: u32, count: u32 }

@group(0) @binding(0) var<storage, read_write> buf: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn fill_zero(@builtin(workgroup_id) wgid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) t: u32) {
  let w = wgid.x + wgid.y * nwg.x;              // uniform per workgroup
  if (w > (p.count - 1u) / (WG * EPT)) { return; }
  let start = w * (WG * EPT);
  let rem = p.count - start;                    // elements left from this chunk's start (no u32 overflow)
  let base = p.offset + start + t;
  if (rem >= WG * EPT) {
    for (var k = 0u; k < EPT; k++) { buf[base + k * WG] = 0u; }
  } else {
    for (var k = 0u; k < EPT; k++) {
      if (k * WG + t < rem) { buf[base + k * WG] = 0u; }
    }
  }
}
