// Float64 reference for the LoRA linear layer (src/ops/lora.ts), plain loops. Used by tests only.
// inp is (M,K), weight (N,K) (the values the kernel sees), A (R,K), B (N,R), out (M,N), xa (M,R).
// mask is (M,K) dropout multipliers (0 or 1/(1−p)), or null for no dropout.
import { dropoutMultiplier } from './matmul.ts';

/** The (M,K) dropout multipliers the GPU applies for (seed, salt, p): element index m·K + k. */
export function dropoutMaskRef(seed: number, salt: number, p: number, M: number, K: number): Float64Array {
  const mask = new Float64Array(M * K);
  for (let e = 0; e < M * K; e++) mask[e] = dropoutMultiplier(seed, salt, p, e);
  return mask;
}

// out = inp·Wᵀ + scale·xa·Bᵀ, xa = (inp∘mask)·Aᵀ
export function loraForwardRef(
  out: Float64Array, xa: Float64Array, inp: ArrayLike<number>, weight: ArrayLike<number>, A: ArrayLike<number>, B: ArrayLike<number>,
  M: number, N: number, K: number, R: number, scale: number, mask: ArrayLike<number> | null,
): void {
  for (let m = 0; m < M; m++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += inp[m * K + k] * (mask ? mask[m * K + k] : 1) * A[r * K + k];
      xa[m * R + r] = s;
    }
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += inp[m * K + k] * weight[n * K + k];
      let l = 0;
      for (let r = 0; r < R; r++) l += xa[m * R + r] * B[n * R + r];
      out[m * N + n] = s + scale * l;
    }
  }
}

// dinp (=|+=) dout·W + scale·((dout·B)·A)∘mask; dA += scale·(dout·B)ᵀ·(inp∘mask); dB += scale·doutᵀ·xa.
export function loraBackwardRef(
  dinp: Float64Array, dA: Float64Array, dB: Float64Array, dout: ArrayLike<number>, inp: ArrayLike<number>, xa: ArrayLike<number>,
  weight: ArrayLike<number>, A: ArrayLike<number>, B: ArrayLike<number>, M: number, N: number, K: number, R: number, scale: number,
  mask: ArrayLike<number> | null, accumulate = false,
): void {
  const g = new Float64Array(M * R); // dout·B
  for (let m = 0; m < M; m++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dout[m * N + n] * B[n * R + r];
      g[m * R + r] = s;
    }
  }
  for (let m = 0; m < M; m++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let n = 0; n < N; n++) s += dout[m * N + n] * weight[n * K + k];
      let l = 0;
      for (let r = 0; r < R; r++) l += g[m * R + r] * A[r * K + k];
      const e = m * K + k;
      dinp[e] = (accumulate ? dinp[e] : 0) + s + scale * l * (mask ? mask[e] : 1);
    }
  }
  for (let n = 0; n < N; n++) {
    for (let r = 0; r < R; r++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += dout[m * N + n] * xa[m * R + r];
      dB[n * R + r] += scale * s;
    }
  }
  for (let r = 0; r < R; r++) {
    for (let k = 0; k < K; k++) {
      let s = 0;
      for (let m = 0; m < M; m++) s += g[m * R + r] * inp[m * K + k] * (mask ? mask[m * K + k] : 1);
      dA[r * K + k] += scale * s;
    }
  }
}
