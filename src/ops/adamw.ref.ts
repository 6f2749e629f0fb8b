// Reference for shaders/adamw.wgsl: torch's AdamW step as plain loops. Tests only.
// `r` rounds after every operation: (x) => x gives the float64 reference; Math.fround emulates torch's f32 kernels
// (f32 tensors, Python-float scalars rounded to f32 once), so GPU results can be compared ulp by ulp.

export interface AdamwRefHyper { lr: number; beta1: number; beta2: number; eps: number; weightDecay: number; step: number }

// param, m, v updated in place; grad (N,) raw (before clipping); clipCoef from clip_grad_norm_.
export function adamwRef(
  param: Float64Array, m: Float64Array, v: Float64Array, grad: ArrayLike<number>, clipCoef: number,
  { lr, beta1, beta2, eps, weightDecay, step }: AdamwRefHyper, r: (x: number) => number = (x) => x,
): void {
  // Python-float scalars (double), as torch computes them.
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const stepSize = lr / bc1;
  const bc2Sqrt = Math.sqrt(bc2);
  const decay = r(1 - lr * weightDecay), w1 = r(1 - beta1), w1c = r(1 - w1), b2 = r(beta2), w2 = r(1 - beta2);
  const negStep = r(-stepSize), bc2s = r(bc2Sqrt), e = r(eps), coef = r(clipCoef);
  for (let i = 0; i < param.length; i++) {
    const g = r(grad[i] * coef);                                  // clip_grad_norm_: grads.mul_(clip_coef)
    param[i] = r(param[i] * decay);                               // param.mul_(1 - lr*wd)
    m[i] = Math.abs(w1) < 0.5 ? r(m[i] + r(w1 * r(g - m[i])))     // exp_avg.lerp_(grad, 1 - beta1)
      : r(g - r(r(g - m[i]) * w1c));
    v[i] = r(r(v[i] * b2) + r(w2 * r(g * g)));                    // exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2)
    const denom = r(r(r(Math.sqrt(v[i])) / bc2s) + e);            // (exp_avg_sq.sqrt() / bc2_sqrt).add_(eps)
    param[i] = r(param[i] + r(negStep * r(m[i] / denom)));        // param.addcdiv_(exp_avg, denom, value=-step_size)
  }
}
