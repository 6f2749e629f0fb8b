// Residual add of the pre-norm decoder: out = a + b. Shader: shaders/residual.wgsl. Reference: ./residual.ref.ts.
// Test: tests/ops/residual.test.ts. N = B*T*C elements, flattened, f32.
// Backward: the identity. d(a+b)/da = d(a+b)/db = 1, so the residual stream's gradient passes through unchanged
// and each branch's gradient is added into it: rmsnormBackward(..., { accumulate: true }) implements that, and
// there is no residualBackward kernel.
// The fused add + norm (residualRmsnormForward) lives with the norm in ./rmsnorm.ts and is re-exported here.
import code from '../../shaders/residual.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, simpleKernel } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';
import { checkAliasing, checkDims, needBytes, sameRange } from './args.ts';

export { residualRmsnormForward } from './rmsnorm.ts';

// out (N,) = a (N,) + b (N,). In place allowed: out and a the same buffer or range. b must not share out's buffer
// (for out += b pass a = out).
export function residualForward(gpu: Gpu, out: Buf, a: Buf, b: Buf, N: number): Kernel {
  const label = 'residual_forward';
  checkDims(label, { N });
  needBytes(label, 'out', out, N * 4); needBytes(label, 'a', a, N * 4); needBytes(label, 'b', b, N * 4);
  const inPlace = sameRange(out, a);
  checkAliasing(label, { out }, { a: inPlace ? null : a, b });
  return simpleKernel(gpu, { label, code, entryPoint: inPlace ? 'add_inplace' : 'add', constants: { WG: WG_1D } },
    [out, inPlace ? null : a, b], [N], elementwiseGrid(N));
}
