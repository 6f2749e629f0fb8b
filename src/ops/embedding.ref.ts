// Float64 reference for shaders/embedding.wgsl, plain loops. Used by tests only. wte is given decoded (float64).

// out (BT,C) = wte (V,C) rows at ids (BT,)
export function embeddingForwardRef(out: Float64Array, ids: ArrayLike<number>, wte: Float64Array, BT: number, C: number): void {
  for (let i = 0; i < BT; i++) for (let c = 0; c < C; c++) out[i * C + c] = wte[ids[i] * C + c];
}

// dwte (V,C) += dout (BT,C) row i at row ids[i]
export function embeddingBackwardRef(dwte: Float64Array, dout: Float64Array, ids: ArrayLike<number>, BT: number, C: number): void {
  for (let i = 0; i < BT; i++) for (let c = 0; c < C; c++) dwte[ids[i] * C + c] += dout[i * C + c];
}
