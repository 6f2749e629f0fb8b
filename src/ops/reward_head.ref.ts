// Float64 reference for shaders/reward_head.wgsl, plain loops. Used by tests only.
// Legend: B sequences, T tokens, C hidden.

// rewards (B,), poolIdx (B,); hidden (B,T,C), ids (B,T), scoreW (C,)
export function rewardHeadForwardRef(
  rewards: Float64Array, poolIdx: Uint32Array, hidden: ArrayLike<number>, ids: ArrayLike<number>, scoreW: ArrayLike<number>,
  B: number, T: number, C: number, padId: number,
): void {
  for (let b = 0; b < B; b++) {
    // transformers: argmax(arange(T) * (ids != pad)); argmax returns the first maximum, so an all-pad row → 0.
    let best = 0, bestVal = -1;
    for (let t = 0; t < T; t++) {
      const v = t * (ids[b * T + t] !== padId ? 1 : 0);
      if (v > bestVal) { bestVal = v; best = t; }
    }
    poolIdx[b] = best;
    let s = 0;
    for (let c = 0; c < C; c++) s += hidden[(b * T + best) * C + c] * scoreW[c];
    rewards[b] = s;
  }
}

// dhidden (B,T,C) assigned; dscoreW (C,) accumulated (+=)
export function rewardHeadBackwardRef(
  dhidden: Float64Array, dscoreW: Float64Array | null, drewards: ArrayLike<number>, hidden: ArrayLike<number>,
  scoreW: ArrayLike<number>, poolIdx: ArrayLike<number>, B: number, T: number, C: number,
): void {
  dhidden.fill(0);
  for (let b = 0; b < B; b++) {
    const row = (b * T + poolIdx[b]) * C;
    for (let c = 0; c < C; c++) {
      dhidden[row + c] = drewards[b] * scoreW[c];
      if (dscoreW) dscoreW[c] += drewards[b] * hidden[row + c];
    }
  }
}
