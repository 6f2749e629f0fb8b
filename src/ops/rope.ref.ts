// Float64 reference for shaders/rope.wgsl, plain loops. Used by tests only.
// x (B,T,nH,D); cos, sin (T, D/2) (the same f32 table the GPU uses, read as float64).

export function ropeForwardRef(out: Float64Array, inp: Float64Array, cos: ArrayLike<number>, sin: ArrayLike<number>, B: number, T: number, nH: number, D: number): void {
  rotateRef(out, inp, cos, sin, B, T, nH, D, 1);
}

// dinp = Rᵀ dout: the rotation by the negative angle.
export function ropeBackwardRef(dinp: Float64Array, dout: Float64Array, cos: ArrayLike<number>, sin: ArrayLike<number>, B: number, T: number, nH: number, D: number): void {
  rotateRef(dinp, dout, cos, sin, B, T, nH, D, -1);
}

function rotateRef(out: Float64Array, inp: Float64Array, cos: ArrayLike<number>, sin: ArrayLike<number>, B: number, T: number, nH: number, D: number, sgn: number): void {
  const half = D / 2;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < nH; h++) {
        const base = ((b * T + t) * nH + h) * D;
        for (let j = 0; j < half; j++) {
          const c = cos[t * half + j], s = sgn * sin[t * half + j];
          const x1 = inp[base + j], x2 = inp[base + j + half];
          out[base + j] = x1 * c - x2 * s;
          out[base + j + half] = x2 * c + x1 * s;
        }
      }
}

/** cos/sin (T, D/2) in float64 straight from the formula theta^(−2i/D)·t: the table's ideal values. */
export function ropeTableRef(T: number, D: number, theta: number): { cos: Float64Array; sin: Float64Array; angle: Float64Array } {
  const half = D / 2;
  const cos = new Float64Array(T * half), sin = new Float64Array(T * half), angle = new Float64Array(T * half);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < half; i++) {
      const a = t * Math.pow(theta, (-2 * i) / D);
      angle[t * half + i] = a;
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  return { cos, sin, angle };
}
