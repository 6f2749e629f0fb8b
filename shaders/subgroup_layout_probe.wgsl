// Test probe of how the adapter forms subgroups in a 1-D workgroup (shaders/subgroup_reduce.wgsl assumes subgroup k
// holds local_invocation_index [k·S, (k+1)·S)). Needs `enable subgroups;` (added by src/gpu/variants.ts).
// out[4·lid ..] = [subgroup_size, subgroup_invocation_id, subgroupBroadcastFirst(lid), subgroupAdd(1) (active count)].

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<u32>;   // (WG, 4)

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(subgroup_size) size: u32,
        @builtin(subgroup_invocation_id) sgid: u32) {
  let first = subgroupBroadcastFirst(lid);
  let count = subgroupAdd(1u);
  out[4u * lid] = size;
  out[4u * lid + 1u] = sgid;
  out[4u * lid + 2u] = first;
  out[4u * lid + 3u] = count;
}
