// Float64 reference for shaders/qk_norm_rope.wgsl, plain loops. Used by tests only. Layouts as in ./qk_norm_rope.ts;
// cos/sin (·, D/2) indexed by positions[m].

export function qkNormRopeForwardRef(
  qr: Float64Array, kr: Float64Array, v: Float64Array, rstd: Float64Array, qkv: ArrayLike<number>,
  qw: ArrayLike<number>, kw: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, positions: ArrayLike<number>,
  M: number, H: number, Hkv: number, D: number, eps: number,
): void {
  const U = H + 2 * Hkv, half = D / 2;
  for (let m = 0; m < M; m++) {
    for (let u = 0; u < U; u++) {
      const base = (m * U + u) * D;
      if (u >= H + Hkv) {
        for (let d = 0; d < D; d++) v[(m * Hkv + u - H - Hkv) * D + d] = qkv[base + d];
        continue;
      }
      let ss = 0;
      for (let d = 0; d < D; d++) ss += qkv[base + d] ** 2;
      const r = 1 / Math.sqrt(ss / D + eps);
      rstd[m * (H + Hkv) + u] = r;
      const isQ = u < H, w = isQ ? qw : kw, out = isQ ? qr : kr;
      const ob = isQ ? (m * H + u) * D : (m * Hkv + u - H) * D;
      const t = positions[m] * half;
      for (let j = 0; j < half; j++) {
        const x1 = qkv[base + j] * r * w[j], x2 = qkv[base + j + half] * r * w[j + half];
        out[ob + j] = x1 * cos[t + j] - x2 * sin[t + j];
        out[ob + j + half] = x2 * cos[t + j] + x1 * sin[t + j];
      }
    }
  }
}

/** dqkv assigned; dqw, dkw accumulated (+=) when given. */
export function qkNormRopeBackwardRef(
  dqkv: Float64Array, dqw: Float64Array | null, dkw: Float64Array | null, dq: ArrayLike<number>, dk: ArrayLike<number>, dv: ArrayLike<number>,
  qkv: ArrayLike<number>, qw: ArrayLike<number>, kw: ArrayLike<number>, cos: ArrayLike<number>, sin: ArrayLike<number>, positions: ArrayLike<number>,
  M: number, H: number, Hkv: number, D: number, eps: number,
): void {
  const U = H + 2 * Hkv, half = D / 2;
  const g = new Float64Array(D);
  for (let m = 0; m < M; m++) {
    for (let u = 0; u < U; u++) {
      const base = (m * U + u) * D;
      if (u >= H + Hkv) {
        for (let d = 0; d < D; d++) dqkv[base + d] = dv[(m * Hkv + u - H - Hkv) * D + d];
        continue;
      }
      const isQ = u < H, w = isQ ? qw : kw, dout = isQ ? dq : dk, dw = isQ ? dqw : dkw;
      const ob = isQ ? (m * H + u) * D : (m * Hkv + u - H) * D;
      const t = positions[m] * half;
      for (let j = 0; j < half; j++) { // g = Rᵀ dout
        const a = dout[ob + j], b = dout[ob + j + half];
        g[j] = a * cos[t + j] + b * sin[t + j];
        g[j + half] = b * cos[t + j] - a * sin[t + j];
      }
      let ss = 0;
      for (let d = 0; d < D; d++) ss += qkv[base + d] ** 2;
      const r = 1 / Math.sqrt(ss / D + eps);
      let s = 0;
      for (let d = 0; d < D; d++) s += g[d] * w[d] * qkv[base + d];
      for (let d = 0; d < D; d++) {
        dqkv[base + d] = r * w[d] * g[d] - (r ** 3 / D) * qkv[base + d] * s;
        if (dw) dw[d] += g[d] * qkv[base + d] * r;
      }
    }
  }
}
