// Workgroup reductions built on subgroup operations (feature `subgroups`). Not a shader on its own: src/gpu/variants.ts
// appends it to the subgroup variant of a shader (rmsnorm, grad_norm) and puts `enable subgroups;` first.
//
// Correct for every subgroup size the feature allows (a power of two in [4, 128]: SwiftShader 4, NVIDIA 32, AMD 32/64,
// Intel 8–32), also when one subgroup is larger than the workgroup. Each function: call it from workgroup-uniform
// control flow with all n invocations of the workgroup active; n ≤ 256 (SG_SLOTS · 4).
//   1. s = subgroupAdd(v) in every subgroup; its lane 0 stores s in slot k = local_invocation_index / S (subgroup k).
//   2. barrier; lane j of every subgroup adds slots j, j+S, j+2S, ... sequentially, then subgroupAdd: every invocation
//      gets the total, no second barrier to broadcast it.
// Two barriers per reduction (the tree over 256 threads has 9). The same inputs give the same bits on one device: the
// subgroup operations have a fixed order in hardware and stage 2 reads the slots in a fixed order. The result may
// differ from the tree's by rounding.
// Lane and size come from subgroupExclusiveAdd(1) / subgroupAdd(1) (all invocations active), so the entry points need
// no subgroup builtins and stay the same in both variants. Assumes subgroup k of a 1-D workgroup holds
// local_invocation_index [k·S, (k+1)·S), as Vulkan, D3D12 and Metal drivers form compute subgroups; the tests check it
// on the adapter at hand (tests/ops/subgroup_reduce.test.ts).

const SG_SLOTS = 64u;   // subgroups per workgroup at most: 256 invocations / minimum subgroup size 4

var<workgroup> sg_sums: array<f32, SG_SLOTS>;
var<workgroup> sg_bits: array<u32, SG_SLOTS>;

// Σ v over the n invocations of the workgroup.
fn sg_workgroup_sum(lid: u32, n: u32, v: f32) -> f32 {
  let size = subgroupAdd(1u);
  let lane = subgroupExclusiveAdd(1u);
  let s = subgroupAdd(v);
  if (lane == 0u) { sg_sums[lid / size] = s; }
  workgroupBarrier();
  let slots = (n + size - 1u) / size;
  var t = 0.0;
  for (var k = lane; k < slots; k += size) { t += sg_sums[k]; }
  let total = subgroupAdd(t);
  workgroupBarrier();   // sg_sums may be reused right after
  return total;
}

// Bitwise or of v over the n invocations of the workgroup.
fn sg_workgroup_or(lid: u32, n: u32, v: u32) -> u32 {
  let size = subgroupAdd(1u);
  let lane = subgroupExclusiveAdd(1u);
  let s = subgroupOr(v);
  if (lane == 0u) { sg_bits[lid / size] = s; }
  workgroupBarrier();
  let slots = (n + size - 1u) / size;
  var t = 0u;
  for (var k = lane; k < slots; k += size) { t |= sg_bits[k]; }
  let total = subgroupOr(t);
  workgroupBarrier();
  return total;
}
