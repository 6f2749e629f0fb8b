// Residual add of the pre-norm decoder: out = a + b. Shader: shaders/residual.wgsl. Reference: ./residual.ref.ts.
// Test: tests/ops/residual.test.ts. N = B*T*C elements, flattened, f32.
// Backward: the identity. d(a+b)/da = d(a+b)/db = 1, so the residual stream's gradient passes through unchanged
// and each branch's gradient is added into it: rmsnormBackward(..., { accumulate: true }) implements that, and
// there is no residualBackward kernel.
// The fused add + norm (residualRmsnormForward) lives with the norm in ./rmsnorm.ts and is re-exported here.
import code from '../../shaders/residual.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Kernel, simpleKernel } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';

export { residualRmsnormForward } from './rmsnorm.ts';

// out (N,) = a (N,) + b (N,). In place allowed: out === a. b must differ from out.
export function residualForward(gpu: Gpu, out: GPUBuffer, a: GPUBuffer, b: GPUBuffer, N: number): Kernel {
  const label = 'residual_forward';
  if (!Number.isInteger(N) || N < 1) throw new Error(`${label}: N=${N} must be a positive integer`);
  if (b === out) throw new Error(`${label}: b (${b.label}) must not be out; use residualForward(out, a=out, b) for in place`);
  for (const [n, buf] of [['out', out], ['a', a], ['b', b]] as const)
    if (buf.size < N * 4) throw new Error(`${label}: ${n} (${buf.label}) holds ${buf.size} bytes, needs ${N * 4}`);
  const inPlace = out === a;
  return simpleKernel(gpu, { label, code, entryPoint: inPlace ? 'add_inplace' : 'add', constants: { WG: WG_1D } },
    [out, inPlace ? null : a, b], [N], elementwiseGrid(N));
}
