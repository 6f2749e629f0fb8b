// Residual add on the GPU against the float64 reference (exact: one correctly rounded f32 add), in place and not;
// the identity backward the model relies on, checked on the reference by finite differences.
import { describe, expect, it } from 'vitest';
import { residualForward } from '../../src/ops/residual.ts';
import { residualForwardRef } from '../../src/ops/residual.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, dot, expectClose, roundF32 } from '../helpers/check.ts';

describe('residual', () => {
  for (const N of [1, 257, 5000]) {
    for (const inPlace of [false, true]) {
      it(`out = a + b is exact against float64 rounded to f32, N=${N}${inPlace ? ', in place' : ''}`, async () => {
        const gpu = await getTestGpu();
        const rng = new Rng(N * 2 + (inPlace ? 1 : 0));
        const a = roundF32(randomArray(rng, N, -100, 100)), b = roundF32(randomArray(rng, N, -1e-3, 1e-3));
        const aB = f32Buffer(gpu, 'a', a), bB = f32Buffer(gpu, 'b', b);
        const out = inPlace ? aB : createStorage(gpu, 'out', N * 4);
        await runKernels(gpu, [residualForward(gpu, out, aB, bB, N)]);
        const ref = new Float64Array(N);
        residualForwardRef(ref, a, b, N);
        // The sum of two f32 values is exact in float64; the GPU's f32 add is correctly rounded: tolerance 0.
        expectClose('out', await readF32(gpu, out), roundF32(ref), { atol: 0, rtol: 0 });
      });
    }
  }

  it('in place through equal ranges of one buffer (distinct range objects)', async () => {
    const gpu = await getTestGpu();
    const N = 100;
    const rng = new Rng(77);
    const a = roundF32(randomArray(rng, N)), b = roundF32(randomArray(rng, N));
    const block = f32Buffer(gpu, 'block', [...new Array(64).fill(0), ...a]);
    const bB = f32Buffer(gpu, 'b', b);
    const r = () => ({ buffer: block, offset: 256, size: N * 4 });
    await runKernels(gpu, [residualForward(gpu, r(), r(), bB, N)]);
    expectClose('out', await readF32(gpu, block, N, 64), roundF32(a.map((x, i) => x + b[i])), { atol: 0, rtol: 0 });
  });

  it('rejects b in the output buffer, and a in the output buffer at another offset', async () => {
    const gpu = await getTestGpu();
    const x = createStorage(gpu, 'x', 2048), y = createStorage(gpu, 'y', 16);
    expect(() => residualForward(gpu, x, y, x, 4)).toThrow(/b \(x\) are in the same GPUBuffer/);
    const r = (offset: number) => ({ buffer: x, offset, size: 16 });
    expect(() => residualForward(gpu, r(0), r(256), y, 4)).toThrow(/a \(x@256\) are in the same GPUBuffer/);
  });

  it('backward is the identity: finite differences of the reference give dout for both inputs', () => {
    const N = 13;
    const rng = new Rng(1);
    const a = randomArray(rng, N), b = randomArray(rng, N), dout = randomArray(rng, N), tmp = new Float64Array(N);
    checkGradFD('da', (x) => (residualForwardRef(tmp, x, b, N), dot(tmp, dout)), a, dout);
    checkGradFD('db', (x) => (residualForwardRef(tmp, a, x, N), dot(tmp, dout)), b, dout);
  });
});
