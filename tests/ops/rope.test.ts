// RoPE: the CPU cos/sin table against the float64 formula (with a bound from f32 angle rounding); the GPU
// rotation and its inverse against the float64 reference using the SAME f32 table; the reference backward
// against finite differences.
import { describe, expect, it } from 'vitest';
import { ropeTable, ropeForward, ropeBackward } from '../../src/ops/rope.ts';
import { ropeForwardRef, ropeBackwardRef, ropeTableRef } from '../../src/ops/rope.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';

// Rotation of f32 inputs |x| ≤ 1 by an f32 table: two rounded products and a rounded sum (or an FMA): error
// ≤ ~2 ulp of the larger product ≤ 2·2⁻²³ ≈ 2.4e-7 absolute; atol 5e-7, rtol 1e-6.
const TOL = { atol: 5e-7, rtol: 1e-6 };

describe('rope table', () => {
  for (const theta of [1e4, 1e6]) {
    for (const D of [128, 96]) {
      it(`matches theta^(-2i/D)·t in float64 up to f32 angle rounding (theta=${theta}, D=${D}, t ≤ 1023)`, () => {
        const T = 1024;
        const { cos, sin } = ropeTable(T, D, theta);
        const ref = ropeTableRef(T, D, theta);
        // The f32 angle f32(t · inv_freq) carries a relative error ≤ (3 + ln θ)·2⁻²⁴: the exponent 2i/D rounded to
        // f32 (relative 2⁻²⁴, times ln θ·(2i/D) ≤ ln θ in the power), then the rounded pow, the rounded 1/x and the
        // rounded product (2⁻²⁴ each). cos/sin move by at most the angle error, plus their own rounding (≤ 2⁻²⁴).
        // At t = 1023, θ = 1e6 that is ≈ 1.1e-3: the table is what transformers computes in f32, not the exact value.
        const k = (3 + Math.log(theta)) * 2 ** -24 * 1.01;
        let worst = 0;
        for (let e = 0; e < cos.length; e++) {
          const bound = ref.angle[e] * k + 2 ** -24;
          const err = Math.max(Math.abs(cos[e] - ref.cos[e]), Math.abs(sin[e] - ref.sin[e]));
          worst = Math.max(worst, err / bound);
        }
        expect(worst, 'worst error / bound over the table').toBeLessThanOrEqual(1);
        // t = 0 is the identity rotation, i = 0 has inv_freq exactly 1: angle t, so cos[t, 0] = f32(cos(t)).
        for (let i = 0; i < D / 2; i++) expect([cos[i], sin[i]]).toEqual([1, 0]);
        expect(cos[1023 * (D / 2)]).toBe(Math.fround(Math.cos(1023)));
      });
    }
  }

  it('rejects an odd head dim with a message', () => {
    expect(() => ropeTable(4, 7, 1e4)).toThrow(/D=7 must be a positive even/);
  });
});

describe('rope', () => {
  const CASES = [
    { B: 2, T: 1, nH: 3, D: 8, theta: 1e4, what: 'T = 1' },
    { B: 1, T: 7, nH: 2, D: 128, theta: 1e6, what: 'odd T, D = 128, theta 1e6' },
    { B: 2, T: 5, nH: 4, D: 32, theta: 1e4, what: 'B = 2, nH = 4, D = 32' },
    { B: 1, T: 1024, nH: 1, D: 32, theta: 1e6, what: 'positions up to 1023' },
  ];
  for (const k of CASES) {
    for (const inPlace of [false, true]) {
      it(`forward and backward match float64 with the same f32 table: ${k.what}${inPlace ? ', in place' : ''}`, async () => {
        const gpu = await getTestGpu();
        const { B, T, nH, D, theta } = k;
        const n = B * T * nH * D;
        const rng = new Rng(n + (inPlace ? 1 : 0));
        const x = roundF32(randomArray(rng, n)), dout = roundF32(randomArray(rng, n));
        const { cos, sin } = ropeTable(T, D, theta);
        const cosB = f32Buffer(gpu, 'cos', cos), sinB = f32Buffer(gpu, 'sin', sin);
        const xB = f32Buffer(gpu, 'x', x), dB = f32Buffer(gpu, 'dout', dout);
        const out = inPlace ? xB : createStorage(gpu, 'out', n * 4);
        const dinp = inPlace ? dB : createStorage(gpu, 'dinp', n * 4);
        await runKernels(gpu, [ropeForward(gpu, out, xB, cosB, sinB, B, T, nH, D), ropeBackward(gpu, dinp, dB, cosB, sinB, B, T, nH, D)]);

        const outRef = new Float64Array(n), dinpRef = new Float64Array(n);
        ropeForwardRef(outRef, x, cos, sin, B, T, nH, D);
        ropeBackwardRef(dinpRef, dout, cos, sin, B, T, nH, D);
        expectClose('out', await readF32(gpu, out), outRef, TOL);
        expectClose('dinp', await readF32(gpu, dinp), dinpRef, TOL);
      });
    }
  }

  it('backward undoes forward on the GPU (the rotation is orthogonal up to f32 cos²+sin² ≈ 1)', async () => {
    const gpu = await getTestGpu();
    const B = 1, T = 9, nH = 2, D = 16, n = B * T * nH * D;
    const x = roundF32(randomArray(new Rng(3), n));
    const { cos, sin } = ropeTable(T, D, 1e6);
    const xB = f32Buffer(gpu, 'x', x), cosB = f32Buffer(gpu, 'cos', cos), sinB = f32Buffer(gpu, 'sin', sin);
    const y = createStorage(gpu, 'y', n * 4);
    await runKernels(gpu, [ropeForward(gpu, y, xB, cosB, sinB, B, T, nH, D), ropeBackward(gpu, y, y, cosB, sinB, B, T, nH, D)]);
    // two rotations: ~4 ulp of |x| ≤ 1, plus |cos²+sin²−1| ≤ ~2⁻²³ of the f32 table
    expectClose('Rᵀ R x', await readF32(gpu, y), x, { atol: 1e-6, rtol: 1e-6 });
  });

  it('reference backward matches finite differences', () => {
    const B = 2, T = 3, nH = 2, D = 6, n = B * T * nH * D;
    const rng = new Rng(9);
    const x = randomArray(rng, n), w = randomArray(rng, n);
    const { cos, sin } = ropeTable(T, D, 1e4);
    const dx = new Float64Array(n), tmp = new Float64Array(n);
    ropeBackwardRef(dx, w, cos, sin, B, T, nH, D);
    checkGradFD('dinp', (v) => (ropeForwardRef(tmp, v, cos, sin, B, T, nH, D), dot(tmp, w)), x, dx);
  });
});
