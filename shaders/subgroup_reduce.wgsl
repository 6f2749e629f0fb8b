// Workgroup reductions built on subgroup operations (feature `subgroups`). Not a shader on its own: src/gpu/variants.ts
// appends it to the subgroup variant of a shader (rmsnorm, grad_norm) and puts `enable subgroups;` first.
//
// Correct for every subgroup size the feature allows (a power of two in [4, 128]: SwiftShader 4, NVIDIA 32, AMD 32/64,
// Intel 8–32), also when one subgroup is larger than the workgroup, and for any assignment of invocations to
// subgroups. Each function: call it from workgroup-uniform control flow with all n invocations of the workgroup
// active; n ≤ SG_MAX (256).
//   1. s = subgroupAdd(v) in every subgroup; slot[lid] = s on the subgroup's lane 0, 0 on its other lanes.
//   2. barrier; lane j of every subgroup adds slots j, j+S, j+2S, ... < n sequentially (the S lanes cover every slot
//      once, whatever the layout), then subgroupAdd: every invocation gets the total, no barrier to broadcast it.
// Two barriers per reduction (the tree over 256 threads has 9), n/S reads per lane. The same inputs give the same
// bits run to run on one device: subgroup operations have a fixed order in hardware and stage 2 reads the slots in a
// fixed order (adding the zeros is exact). The result may differ from the tree's by rounding.
// Lane and size come from subgroupExclusiveAdd(1) / subgroupAdd(1) (all invocations active), so the entry points need
// no subgroup builtins and are the same in both variants (tests/ops/subgroup_reduce.test.ts checks these equal the
// subgroup_invocation_id / subgroup_size builtins on the adapter at hand).

const SG_MAX = 256u;   // invocations per workgroup at most

var<workgroup> sg_sums: array<f32, SG_MAX>;
var<workgroup> sg_bits: array<u32, SG_MAX>;

// Σ v over the n invocations of the workgroup.
fn sg_workgroup_sum(lid: u32, n: u32, v: f32) -> f32 {
  let size = subgroupAdd(1u);
  let lane = subgroupExclusiveAdd(1u);
  let s = subgroupAdd(v);
  sg_sums[lid] = select(0.0, s, lane == 0u);
  workgroupBarrier();
  var t = 0.0;
  for (var k = lane; k < n; k += size) { t += sg_sums[k]; }
  let total = subgroupAdd(t);
  workgroupBarrier();   // sg_sums may be reused right after
  return total;
}

// Bitwise or of v over the n invocations of the workgroup.
fn sg_workgroup_or(lid: u32, n: u32, v: u32) -> u32 {
  let size = subgroupAdd(1u);
  let lane = subgroupExclusiveAdd(1u);
  let s = subgroupOr(v);
  sg_bits[lid] = select(0u, s, lane == 0u);
  workgroupBarrier();
  var t = 0u;
  for (var k = lane; k < n; k += size) { t |= sg_bits[k]; }
  let total = subgroupOr(t);
  workgroupBarrier();
  return total;
}
