// Float64 reference for causal self-attention (shaders/attention_forward.wgsl, shaders/attention_backward.wgsl),
// plain loops with a materialised softmax row. Used by tests only.
// B sequences, T tokens, H query heads, Hkv kv heads, D head dim. GQA: query head h reads kv head h / (H / Hkv).
// Right padding: sequence b has lengths[b] real tokens. Query i of sequence b sees key j iff j ≤ i and
// j < lengths[b]. Query rows i ≥ lengths[b] are padding: out = 0, lse = 0, and they get no gradient (see
// ./attention.ts for why that is exact for the reward).

const visibleLen = (lengths: ArrayLike<number>, b: number, T: number) => Math.min(lengths[b], T);

// out is (B,T,H,D), lse is (B,H,T), q is (B,T,H,D), k and v are (B,T,Hkv,D), lengths is (B,)
export function attentionForwardRef(
  out: Float64Array, lse: Float64Array,
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, lengths: ArrayLike<number>,
  B: number, T: number, H: number, Hkv: number, D: number,
): void {
  const scale = 1 / Math.sqrt(D);
  const group = H / Hkv;
  const p = new Float64Array(T);
  out.fill(0);
  lse.fill(0);
  for (let b = 0; b < B; b++) {
    const len = visibleLen(lengths, b, T);
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / group);
      for (let i = 0; i < len; i++) {
        const qo = ((b * T + i) * H + h) * D;
        let m = -Infinity;
        for (let j = 0; j <= i; j++) {
          const ko = ((b * T + j) * Hkv + g) * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qo + d] * k[ko + d];
          p[j] = s * scale;
          m = Math.max(m, p[j]);
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) sum += (p[j] = Math.exp(p[j] - m));
        for (let j = 0; j <= i; j++) {
          const vo = ((b * T + j) * Hkv + g) * D;
          for (let d = 0; d < D; d++) out[qo + d] += (p[j] / sum) * v[vo + d];
        }
        lse[(b * H + h) * T + i] = m + Math.log(sum);
      }
    }
  }
}

// dq is (B,T,H,D), dk and dv are (B,T,Hkv,D), all assigned. dout, q, out are (B,T,H,D), k, v are (B,T,Hkv,D),
// lse is (B,H,T). `out` is unused here (the GPU uses it for Δ = rowsum(dout·out)); the reference recomputes the
// softmax from q and k and forms Δ as Σ_j P_ij dP_ij, an independent route to the same number.
export function attentionBackwardRef(
  dq: Float64Array, dk: Float64Array, dv: Float64Array,
  dout: ArrayLike<number>, q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>,
  lengths: ArrayLike<number>,
  B: number, T: number, H: number, Hkv: number, D: number,
): void {
  const scale = 1 / Math.sqrt(D);
  const group = H / Hkv;
  const p = new Float64Array(T);
  const dp = new Float64Array(T);
  dq.fill(0);
  dk.fill(0);
  dv.fill(0);
  for (let b = 0; b < B; b++) {
    const len = visibleLen(lengths, b, T);
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / group);
      for (let i = 0; i < len; i++) {
        const qo = ((b * T + i) * H + h) * D;
        // P_ij = softmax_j(scale · q_i·k_j) over j ≤ i
        let m = -Infinity;
        for (let j = 0; j <= i; j++) {
          const ko = ((b * T + j) * Hkv + g) * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += q[qo + d] * k[ko + d];
          p[j] = s * scale;
          m = Math.max(m, p[j]);
        }
        let sum = 0;
        for (let j = 0; j <= i; j++) sum += (p[j] = Math.exp(p[j] - m));
        for (let j = 0; j <= i; j++) p[j] /= sum;
        // dP_ij = dout_i·v_j, dS_ij = P_ij (dP_ij − Σ_l P_il dP_il)
        let delta = 0;
        for (let j = 0; j <= i; j++) {
          const vo = ((b * T + j) * Hkv + g) * D;
          let s = 0;
          for (let d = 0; d < D; d++) s += dout[qo + d] * v[vo + d];
          dp[j] = s;
          delta += p[j] * s;
        }
        for (let j = 0; j <= i; j++) {
          const ko = ((b * T + j) * Hkv + g) * D;
          const ds = p[j] * (dp[j] - delta) * scale;
          for (let d = 0; d < D; d++) {
            dq[qo + d] += ds * k[ko + d];
            dk[ko + d] += ds * q[qo + d];
            dv[ko + d] += p[j] * dout[qo + d];
          }
        }
      }
    }
  }
}
