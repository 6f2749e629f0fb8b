// Functions shared by several shaders, appended to their text by the op wrappers (WGSL has no include):
// src/ops/matmul.ts, src/ops/lora_grads.ts, src/ops/swiglu.ts. One definition, so the fused paths (the SwiGLU
// prologue/epilogue of the GEMM, lora_grads' [gate | up] input) stay bit-identical to the SwiGLU pass, and the
// dropout masks of the GEMM and of lora_grads stay the same.

// lowbias32 (Chris Wellons): a bijective u32 mixer. Mirrored by dropoutHash in src/ops/matmul.ts.
fn mix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

// Stable on both tails: exp of a non-positive argument only.
fn sigmoidStable(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let t = exp(x);
  return t / (1.0 + t);
}
