// Test probe (tests/ops/subgroup_reduce.test.ts): shaders/subgroup_reduce.wgsl takes a subgroup's size and an
// invocation's lane from subgroupAdd(1) and subgroupExclusiveAdd(1) instead of the builtins; this writes both so the
// test can compare them on the adapter at hand. Needs `enable subgroups;` (added by src/gpu/variants.ts).
// out[4·lid ..] = [subgroup_size, subgroup_invocation_id, subgroupAdd(1), subgroupExclusiveAdd(1)].

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read_write> out: array<u32>;   // (WG, 4)

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(subgroup_size) size: u32,
        @builtin(subgroup_invocation_id) sgid: u32) {
  let count = subgroupAdd(1u);
  let lane = subgroupExclusiveAdd(1u);
  out[4u * lid] = size;
  out[4u * lid + 1u] = sgid;
  out[4u * lid + 2u] = count;
  out[4u * lid + 3u] = lane;
}
