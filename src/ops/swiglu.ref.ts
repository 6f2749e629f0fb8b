// Float64 reference for shaders/swiglu.wgsl, plain loops. Used by tests only.

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

// out, gate, up are (N,)
export function swigluForwardRef(out: Float64Array, gate: Float64Array, up: Float64Array, N: number): void {
  for (let i = 0; i < N; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
}

export function swigluBackwardRef(dgate: Float64Array, dup: Float64Array, dout: Float64Array, gate: Float64Array, up: Float64Array, N: number): void {
  for (let i = 0; i < N; i++) {
    const s = sigmoid(gate[i]);
    dgate[i] = dout[i] * up[i] * s * (1 + gate[i] * (1 - s));
    dup[i] = dout[i] * gate[i] * s;
  }
}
