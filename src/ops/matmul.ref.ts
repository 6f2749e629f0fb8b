// Float64 reference for shaders/matmul.wgsl (src/ops/matmul.ts), plain loops. Used by tests only.
// inp is (M,K), weight is (N,K), out is (M,N). Weights are the values the kernel sees (roundWeight for f16/bf16).

// out (=|+=) inp·weightᵀ
export function matmulForwardRef(out: Float64Array, inp: ArrayLike<number>, weight: ArrayLike<number>, M: number, N: number, K: number, accumulate = false): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += inp[m * K + k] * weight[n * K + k];
      out[m * N + n] = (accumulate ? out[m * N + n] : 0) + s;
    }
  }
}

// dinp (=|+=) dout·weight; dweight += doutᵀ·inp. Either output may be null.
export function matmulBackwardRef(
  dinp: Float64Array | null, dweight: Float64Array | null, dout: ArrayLike<number>, inp: ArrayLike<number>, weight: ArrayLike<number>,
  M: number, N: number, K: number, accumulate = false,
): void {
  if (dinp) {
    for (let m = 0; m < M; m++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let n = 0; n < N; n++) s += dout[m * N + n] * weight[n * K + k];
        dinp[m * K + k] = (accumulate ? dinp[m * K + k] : 0) + s;
      }
    }
  }
  if (dweight) {
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let m = 0; m < M; m++) s += dout[m * N + n] * inp[m * K + k];
        dweight[n * K + k] += s;
      }
    }
  }
}

/**
 * Batched, strided forward: for z < batch, out[z] = alpha·inp[z]·weight[z]ᵀ (+ out[z] if accumulate), each
 * operand addressed as offset + z·batchStride + row·rowStride + col.
 */
export interface StridedRef {
  off: number;
  batch: number;
  row: number;
}
export function matmulForwardStridedRef(
  out: Float64Array, inp: ArrayLike<number>, weight: ArrayLike<number>, M: number, N: number, K: number, batch: number,
  so: StridedRef, si: StridedRef, sw: StridedRef, alpha = 1, accumulate = false,
): void {
  for (let z = 0; z < batch; z++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += inp[si.off + z * si.batch + m * si.row + k] * weight[sw.off + z * sw.batch + n * sw.row + k];
        const e = so.off + z * so.batch + m * so.row + n;
        out[e] = (accumulate ? out[e] : 0) + alpha * s;
      }
    }
  }
}
