// Float64 reference for shaders/grad_norm.wgsl, plain loops (torch.nn.utils.clip_grad_norm_, norm_type 2). Tests only.

/** [total_norm, clip_coef] over all ranges; maxNorm ≤ 0 = no clipping (coef 1). */
export function gradNormRef(grads: ArrayLike<number>[], maxNorm: number): [number, number] {
  let s = 0;
  for (const g of grads) for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  const norm = Math.sqrt(s);
  const coef = maxNorm > 0 ? Math.min(maxNorm / (norm + 1e-6), 1) : 1;
  return [norm, coef];
}
