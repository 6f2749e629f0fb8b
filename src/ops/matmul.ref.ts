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

/** One operand of gemmRef: element (i,c) at off + z·batch + (kContig ? i·ld + c : c·ld + i); `mult(e)` scales element e. */
export interface GemmRefOperand {
  data: ArrayLike<number>;
  kContig: boolean;
  ld: number;
  off?: number;
  batch?: number;
  mult?: (e: number) => number;
}

/**
 * The generic product of gemmKernel: c[cOff + z·cBatch + i·ldc + j] = cMult(e)·alpha·Σ_c A(i,c)·B(j,c)
 * (+ its previous value with accumulate), for z < batch, i < M, j < N.
 */
export function gemmRef(
  c: Float64Array, ldc: number, A: GemmRefOperand, B: GemmRefOperand, M: number, N: number, K: number,
  o: { batch?: number; cOff?: number; cBatch?: number; alpha?: number; accumulate?: boolean; cMult?: (e: number) => number } = {},
): void {
  const at = (x: GemmRefOperand, z: number, i: number, k: number) => {
    const e = (x.off ?? 0) + z * (x.batch ?? 0) + (x.kContig ? i * x.ld + k : k * x.ld + i);
    return x.data[e] * (x.mult ? x.mult(e) : 1);
  };
  for (let z = 0; z < (o.batch ?? 1); z++) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += at(A, z, i, k) * at(B, z, j, k);
        const e = (o.cOff ?? 0) + z * (o.cBatch ?? 0) + i * ldc + j;
        c[e] = (o.accumulate ? c[e] : 0) + (o.cMult ? o.cMult(e) : 1) * (o.alpha ?? 1) * s;
      }
    }
  }
}
