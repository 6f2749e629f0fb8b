// SwiGLU forward/backward on the GPU against the float64 reference; the reference backward against finite
// differences.
import { describe, it } from 'vitest';
import { swigluForward, swigluBackward } from '../../src/ops/swiglu.ts';
import { swigluForwardRef, swigluBackwardRef } from '../../src/ops/swiglu.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';

// f32 elementwise math with exp: a few ulp of error relative to the value; atol covers values near zero.
const TOL = { atol: 1e-6, rtol: 1e-5 };

describe('swiglu', () => {
  // 1 element, one partial workgroup, and a size spilling over several workgroups; plus large |gate|.
  for (const [N, scale] of [[1, 3], [257, 3], [3 * 1024 + 7, 3], [1000, 60]] as const) {
    it(`forward and backward match float64, N=${N}, |gate|<=${scale}`, async () => {
      const gpu = await getTestGpu();
      const rng = new Rng(N);
      const gate = roundF32(randomArray(rng, N, -scale, scale));
      const up = roundF32(randomArray(rng, N));
      const dout = roundF32(randomArray(rng, N));
      const gB = f32Buffer(gpu, 'gate', gate), uB = f32Buffer(gpu, 'up', up), dB = f32Buffer(gpu, 'dout', dout);
      const out = createStorage(gpu, 'out', N * 4), dg = createStorage(gpu, 'dgate', N * 4), du = createStorage(gpu, 'dup', N * 4);
      await runKernels(gpu, [swigluForward(gpu, out, gB, uB, N), swigluBackward(gpu, dg, du, dB, gB, uB, N)]);

      const outRef = new Float64Array(N), dgRef = new Float64Array(N), duRef = new Float64Array(N);
      swigluForwardRef(outRef, gate, up, N);
      swigluBackwardRef(dgRef, duRef, dout, gate, up, N);
      expectClose('out', await readF32(gpu, out), outRef, TOL);
      expectClose('dgate', await readF32(gpu, dg), dgRef, TOL);
      expectClose('dup', await readF32(gpu, du), duRef, TOL);
    });
  }

  it('reference backward matches finite differences', () => {
    const N = 37;
    const rng = new Rng(7);
    const gate = randomArray(rng, N, -4, 4), up = randomArray(rng, N), dout = randomArray(rng, N);
    const dg = new Float64Array(N), du = new Float64Array(N), tmp = new Float64Array(N);
    swigluBackwardRef(dg, du, dout, gate, up, N);
    checkGradFD('dgate', (g) => (swigluForwardRef(tmp, g, up, N), dot(tmp, dout)), gate, dg);
    checkGradFD('dup', (u) => (swigluForwardRef(tmp, gate, u, N), dot(tmp, dout)), up, du);
  });
});
