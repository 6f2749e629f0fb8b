// Float64 reference for shaders/rmsnorm.wgsl, plain loops. Used by tests only.
// N rows of width C; out = x * rstd * weight, rstd = 1/sqrt(mean(x²) + eps).

// out (N,C), rstd (N,), inp (N,C), weight (C,)
export function rmsnormForwardRef(out: Float64Array, rstd: Float64Array, inp: Float64Array, weight: Float64Array, N: number, C: number, eps: number): void {
  for (let n = 0; n < N; n++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[n * C + c] ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[n] = r;
    for (let c = 0; c < C; c++) out[n * C + c] = inp[n * C + c] * r * weight[c];
  }
}

// dinp (N,C) assigned (or += with accumulate), dweight (C,) += (skipped when null); rstd from the forward.
export function rmsnormBackwardRef(
  dinp: Float64Array, dweight: Float64Array | null, dout: Float64Array, inp: Float64Array, weight: Float64Array,
  rstd: Float64Array, N: number, C: number, accumulate = false,
): void {
  for (let n = 0; n < N; n++) {
    const r = rstd[n];
    let s = 0;
    for (let c = 0; c < C; c++) s += dout[n * C + c] * weight[c] * inp[n * C + c];
    for (let c = 0; c < C; c++) {
      const i = n * C + c;
      const dx = r * weight[c] * dout[i] - ((r * r * r) / C) * s * inp[i];
      dinp[i] = accumulate ? dinp[i] + dx : dx;
      if (dweight) dweight[c] += dout[i] * inp[i] * r;
    }
  }
}
