// 16-bit storage of the activations a layer saves for its backward (src/model/activations.ts, activation_dtype
// float16): the math stays f32 everywhere; only the copy kept between the forward and the backward is f16.
//   pack:   words of `packed` ← f16 of f32 tensors (round to nearest even, |x| ≥ 65520 → ±Inf: the trainer's
//           non-finite check then stops the step, see src/train/trainer.ts), at the end of a layer's forward;
//   unpack: f32 tensors ← f16 words of `packed` (exact), at the start of the layer's backward.
// Up to 4 segments and 4 tensors (slots 0..3; segments of one tensor share its slot) per dispatch. Segment s is a (rows, 2·cols2) block: f32 element (r, c) at
// f_off + r·f_stride + c of its tensor, f16 element (r, c) at half h_off·2 + r·h_stride·2 + c of `packed`
// (h_off, h_stride in words: every width and offset is even, so one thread owns one word = two elements, no races).
// Threads are numbered over the segments' words end to end: segment s owns [seg[s].start, seg[s+1].start).
// f16 ↔ f32 bits: shaders/half_bits.wgsl (appended by src/ops/act16.ts).

override WG: u32 = 256;

struct Seg { start: u32, cols2: u32, f_off: u32, f_stride: u32, h_off: u32, h_stride: u32, slot: u32, _b: u32 }
struct Params { total: u32, _a: u32, _b: u32, _c: u32, seg: array<Seg, 4> }

// pack
@group(0) @binding(0) var<storage, read_write> packed_out: array<u32>;
@group(0) @binding(1) var<storage, read> src0: array<f32>;
@group(0) @binding(2) var<storage, read> src1: array<f32>;
@group(0) @binding(3) var<storage, read> src2: array<f32>;
@group(0) @binding(4) var<storage, read> src3: array<f32>;
// unpack
@group(0) @binding(5) var<storage, read> packed_in: array<u32>;
@group(0) @binding(6) var<storage, read_write> dst0: array<f32>;
@group(0) @binding(7) var<storage, read_write> dst1: array<f32>;
@group(0) @binding(8) var<storage, read_write> dst2: array<f32>;
@group(0) @binding(9) var<storage, read_write> dst3: array<f32>;
@group(0) @binding(10) var<uniform> p: Params;

struct Where { slot: u32, f: u32, w: u32 }  // tensor slot, f32 index of the even element, word index in packed

fn locate(t: u32) -> Where {
  var s = 0u;
  if (t >= p.seg[1].start) { s = 1u; }
  if (t >= p.seg[2].start) { s = 2u; }
  if (t >= p.seg[3].start) { s = 3u; }
  let g = p.seg[s];
  let local = t - g.start;
  let r = local / g.cols2;
  let c2 = local % g.cols2;
  return Where(g.slot, g.f_off + r * g.f_stride + 2u * c2, g.h_off + r * g.h_stride + c2);
}

fn load_pair(s: u32, f: u32) -> vec2<f32> {
  switch s {
    case 0u: { return vec2<f32>(src0[f], src0[f + 1u]); }
    case 1u: { return vec2<f32>(src1[f], src1[f + 1u]); }
    case 2u: { return vec2<f32>(src2[f], src2[f + 1u]); }
    default: { return vec2<f32>(src3[f], src3[f + 1u]); }
  }
}

fn store_pair(s: u32, f: u32, v: vec2<f32>) {
  switch s {
    case 0u: { dst0[f] = v.x; dst0[f + 1u] = v.y; }
    case 1u: { dst1[f] = v.x; dst1[f + 1u] = v.y; }
    case 2u: { dst2[f] = v.x; dst2[f + 1u] = v.y; }
    default: { dst3[f] = v.x; dst3[f + 1u] = v.y; }
  }
}

@compute @workgroup_size(WG)
fn pack(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.total) { return; }
  let at = locate(t);
  let v = load_pair(at.slot, at.f);
  packed_out[at.w] = f32_to_f16_bits(bitcast<u32>(v.x)) | (f32_to_f16_bits(bitcast<u32>(v.y)) << 16u);
}

@compute @workgroup_size(WG)
fn unpack(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.total) { return; }
  let at = locate(t);
  let w = packed_in[at.w];
  store_pair(at.slot, at.f, vec2<f32>(bitcast<f32>(f16_to_f32_bits(w & 0xffffu)), bitcast<f32>(f16_to_f32_bits(w >> 16u))));
}
