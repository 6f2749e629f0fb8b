// CPU references for shaders/convert.wgsl, written from the number formats' definitions (values, not bit tricks), so
// the tests compare two independent derivations. Also usable for small CPU-side conversions.
//   bf16: 1 sign, 8 exponent (bias 127), 7 mantissa bits.  f16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.

/** Round half to even. */
function rne(y: number): number {
  const f = Math.floor(y);
  const d = y - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function decode(bits: number, expBits: number, manBits: number): number {
  const sign = bits >>> (expBits + manBits) & 1 ? -1 : 1;
  const e = (bits >>> manBits) & ((1 << expBits) - 1);
  const m = bits & ((1 << manBits) - 1);
  const bias = (1 << (expBits - 1)) - 1;
  if (e === (1 << expBits) - 1) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** (1 - bias - manBits);       // zero and subnormals
  return sign * (1 + m / 2 ** manBits) * 2 ** (e - bias);
}

/** Nearest (ties to even) value with `manBits` fraction bits and exponent range of the format; ±Inf past the max. */
function encode(x: number, expBits: number, manBits: number): number {
  const signBit = x < 0 || Object.is(x, -0) ? 1 << (expBits + manBits) : 0;
  const bias = (1 << (expBits - 1)) - 1;
  const maxE = (1 << expBits) - 1;
  const a = Math.abs(x);
  if (a === Infinity) return signBit | (maxE << manBits);
  const minNormal = 2 ** (1 - bias);
  if (a < minNormal) {
    const q = rne(a / 2 ** (1 - bias - manBits));                  // in units of the smallest subnormal
    return signBit | q;                                            // q = 2^manBits carries into the exponent: right
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let q = rne((a / 2 ** e) * 2 ** manBits);                         // in [2^manBits, 2^(manBits+1)]
  if (q === 2 ** (manBits + 1)) { q /= 2; e++; }
  if (e + bias >= maxE) return signBit | (maxE << manBits);         // overflow → Inf
  return signBit | ((e + bias) << manBits) | (q - 2 ** manBits);
}

export const bf16BitsToNumber = (bits: number): number => decode(bits, 8, 7);
export const f16BitsToNumber = (bits: number): number => decode(bits, 5, 10);

/** f16 bits nearest to x (ties to even); |x| ≥ 65520 → ±Inf; NaN → 0x7e00 (the GPU keeps sign and payload). */
export function numberToF16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  return encode(x, 5, 10);
}

/** bf16 bits of an f32 value, as torch converts (ties to even; NaN → 0x7fc0). */
export function f32ToBf16BitsRef(x: number): number {
  if (Number.isNaN(x)) return 0x7fc0;
  return encode(Math.fround(x), 8, 7);
}
