// Float64 reference for shaders/reward_loss.wgsl, plain loops, written from TRL's compute_loss. Used by tests only.
// rewards (2P,) = [chosen (P,), rejected (P,)], margins (P,) or null.

/** log(sigmoid(x)) without overflow: min(x,0) - log1p(exp(-|x|)). */
export const logsigmoid = (x: number): number => Math.min(x, 0) - Math.log1p(Math.exp(-Math.abs(x)));

export function rewardLossRef(rewards: ArrayLike<number>, margins: ArrayLike<number> | null, P: number, c: number): number {
  let ls = 0, center = 0;
  for (let i = 0; i < P; i++) {
    const rc = rewards[i], rr = rewards[P + i];
    ls += logsigmoid(rc - rr - (margins ? margins[i] : 0));
    center += (rc + rr) ** 2;
  }
  return -ls / P + (c ? (c * center) / P : 0);
}

// drewards (2P,) = gradScale · ∂loss/∂rewards
export function rewardLossBackwardRef(drewards: Float64Array, rewards: ArrayLike<number>, margins: ArrayLike<number> | null,
  P: number, c: number, gradScale: number): void {
  for (let i = 0; i < P; i++) {
    const rc = rewards[i], rr = rewards[P + i];
    const d = rc - rr - (margins ? margins[i] : 0);
    const sig = 1 / (1 + Math.exp(d)); // sigmoid(-d) = -d/dd logsigmoid(d)
    const g = (2 * c * (rc + rr)) / P;
    drewards[i] = gradScale * (g - sig / P);
    drewards[P + i] = gradScale * (g + sig / P);
  }
}

// [loss, accuracy, margin, min, mean, max, P, 0]
export function rewardMetricsRef(rewards: ArrayLike<number>, margins: ArrayLike<number> | null, P: number, c: number): number[] {
  let acc = 0, marg = 0, sum = 0, lo = Infinity, hi = -Infinity;
  for (let i = 0; i < P; i++) {
    const rc = rewards[i], rr = rewards[P + i];
    if (rc > rr) acc++;
    marg += rc - rr;
  }
  for (let i = 0; i < 2 * P; i++) {
    sum += rewards[i];
    lo = Math.min(lo, rewards[i]);
    hi = Math.max(hi, rewards[i]);
  }
  return [rewardLossRef(rewards, margins, P, c), acc / P, marg / P, lo, sum / (2 * P), hi, P, 0];
}
