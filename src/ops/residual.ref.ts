// Float64 reference for shaders/residual.wgsl (and the add half of the fused residual + RMSNorm). Tests only.

// out (N,) = a (N,) + b (N,); out may be a.
export function residualForwardRef(out: Float64Array, a: Float64Array, b: Float64Array, N: number): void {
  for (let i = 0; i < N; i++) out[i] = a[i] + b[i];
}
