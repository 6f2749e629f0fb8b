// Float64 reference for src/ops/lora_grads.ts, plain loops. Used by tests only.
// dout (M, ldo) read at columns [dcol, dcol + N); xa, ws (M, G·R); inp (M, K); masks[g] (M, K) dropout
// multipliers of part g or null. dB (N, R) and dA (G·R, K) are updated in place (= or +=).
export function loraGradsRef(
  dB: Float64Array, dA: Float64Array, dout: ArrayLike<number>, ldo: number, dcol: number, xa: ArrayLike<number>, ws: ArrayLike<number>,
  inp: ArrayLike<number>, M: number, K: number, R: number, partN: number[], scale: number, accumulate: boolean,
  masks: (ArrayLike<number> | null)[],
): void {
  const G = partN.length;
  let n0 = 0;
  partN.forEach((Ng, g) => {
    for (let n = n0; n < n0 + Ng; n++) {
      for (let r = 0; r < R; r++) {
        let s = 0;
        for (let m = 0; m < M; m++) s += dout[m * ldo + dcol + n] * xa[m * G * R + g * R + r];
        dB[n * R + r] = (accumulate ? dB[n * R + r] : 0) + scale * s;
      }
    }
    for (let r = 0; r < R; r++) {
      for (let k = 0; k < K; k++) {
        let s = 0;
        for (let m = 0; m < M; m++) s += ws[m * G * R + g * R + r] * inp[m * K + k] * (masks[g] ? masks[g]![m * K + k] : 1);
        const o = (g * R + r) * K + k;
        dA[o] = (accumulate ? dA[o] : 0) + scale * s;
      }
    }
    n0 += Ng;
  });
}

// ws (M, G·R): part g's columns = dout (at its columns) · B_g.
export function loraDoutBRef(ws: Float64Array, dout: ArrayLike<number>, ldo: number, dcol: number, B: ArrayLike<number>, M: number, R: number, partN: number[]): void {
  const G = partN.length;
  for (let m = 0; m < M; m++) {
    let n0 = 0;
    partN.forEach((Ng, g) => {
      for (let r = 0; r < R; r++) {
        let s = 0;
        for (let n = n0; n < n0 + Ng; n++) s += dout[m * ldo + dcol + n] * B[n * R + r];
        ws[m * G * R + g * R + r] = s;
      }
      n0 += Ng;
    });
  }
}
