// AdamW step, torch.optim.AdamW (decoupled weight decay, amsgrad off, maximize off), with the global clip coefficient
// of clip_grad_norm_ applied to the gradient as it is read. Per element, in torch's operation order
// (_single_tensor_adamw / _multi_tensor_adamw; scalars are computed in float64 on the host, rounded to f32 once):
//   p  = p * decay_factor                           decay_factor = 1 - lr·wd            (param.mul_)
//   g  = grad * clip_coef                                                              (clip_grad_norm_'s mul_)
//   m  = lerp(m, g, w1)                             w1 = 1 - β1 (torch.lerp: m + w1·(g−m) if |w1| < 0.5,
//                                                     else g − (g−m)·(1−w1))
//   v  = v * β2 + w2 * (g*g)                        w2 = 1 - β2                          (mul_, addcmul_)
//   denom = sqrt(v) / bc2_sqrt + eps                bc2_sqrt = sqrt(1 - β2^t)
//   p  = p + neg_step_size * (m / denom)            neg_step_size = -lr / (1 - β1^t)     (addcdiv_)
// If norm[0] (the global grad norm) is NaN or ±Inf, nothing is written: params and moments stay as they were.
// param, m, v, grad are f32 (N,) ranges starting at element `offset` of larger buffers.
// Workgroup w updates the chunk [w·CHUNK, (w+1)·CHUNK), CHUNK = WG·EPT: thread t takes elements w·CHUNK + k·WG + t,
// k < EPT (coalesced). Full chunks skip the per-element bounds test (a uniform branch); both paths run the same
// per-element math (adamw_one), so results do not depend on the chunking. Several elements per thread keep the
// invocation count low, which is what costs on CPU Vulkan (SwiftShader).

override WG: u32 = 256;
override EPT: u32 = 16;         // elements per thread
override DECAY: bool = true;    // false: a no-decay range (norms, biases, as HF's Trainer groups them)

// Written by writeAdamwHyper (src/ops/adamw.ts) each step; f32 fields.
struct Hyper {
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  weight_decay: f32, step: f32, decay_factor: f32, w1: f32,
  one_minus_w1: f32, w2: f32, neg_step_size: f32, bc2_sqrt: f32,
  _pad0: f32, _pad1: f32, _pad2: f32, _pad3: f32,
}
struct Params { offset: u32, count: u32 }

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read_write> m: array<f32>;     // exp_avg
@group(0) @binding(2) var<storage, read_write> v: array<f32>;     // exp_avg_sq
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read> norm: array<u32>;        // (2,) f32 bits [total_norm, clip_coef]
@group(0) @binding(5) var<storage, read> h: Hyper;
@group(0) @binding(6) var<uniform> p: Params;

// One element, in torch's operation order (see the top); coef is the clip coefficient.
fn adamw_one(i: u32, coef: f32) {
  var x = param[i];
  if (DECAY) { x = x * h.decay_factor; }
  let g = grad[i] * coef;
  var mi = m[i];
  if (abs(h.w1) < 0.5) { mi = mi + h.w1 * (g - mi); } else { mi = g - (g - mi) * h.one_minus_w1; }
  let vi = v[i] * h.beta2 + h.w2 * (g * g);
  let denom = sqrt(vi) / h.bc2_sqrt + h.eps;
  x = x + h.neg_step_size * (mi / denom);
  param[i] = x;
  m[i] = mi;
  v[i] = vi;
}

@compute @workgroup_size(WG)
fn update(@builtin(workgroup_id) wgid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) t: u32) {
  let w = wgid.x + wgid.y * nwg.x;              // uniform per workgroup
  if (w > (p.count - 1u) / (WG * EPT)) { return; }
  // Finite check on the bits: a compiler may assume floats are finite and fold x != x away.
  if ((norm[0] & 0x7f800000u) == 0x7f800000u) { return; }
  let coef = bitcast<f32>(norm[1]);
  let start = w * (WG * EPT);
  let rem = p.count - start;                    // elements left from this chunk's start (no u32 overflow)
  let base = p.offset + start + t;
  if (rem >= WG * EPT) {
    for (var k = 0u; k < EPT; k++) { adamw_one(base + k * WG, coef); }
  } else {
    for (var k = 0u; k < EPT; k++) {
      if (k * WG + t < rem) { adamw_one(base + k * WG, coef); }
    }
  }
}
