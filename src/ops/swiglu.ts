// SwiGLU elementwise part of Qwen3's MLP: out = silu(gate) * up. Shader: shaders/swiglu.wgsl.
// Reference: ./swiglu.ref.ts. Test: tests/ops/swiglu.test.ts.
// N = B*T*F elements, flattened. Buffers are f32.
import code from '../../shaders/swiglu.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, simpleKernel } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';

// out is (N,), gate is (N,), up is (N,)
export function swigluForward(gpu: Gpu, out: Buf, gate: Buf, up: Buf, N: number): Kernel {
  return simpleKernel(gpu, { label: 'swiglu_forward', code, entryPoint: 'forward', constants: { WG: WG_1D } },
    [out, null, gate, up, null], [N], elementwiseGrid(N));
}

// dgate, dup, dout are (N,); assigns dgate and dup.
export function swigluBackward(gpu: Gpu, dgate: Buf, dup: Buf, dout: Buf, gate: Buf, up: Buf, N: number): Kernel {
  return simpleKernel(gpu, { label: 'swiglu_backward', code, entryPoint: 'backward', constants: { WG: WG_1D } },
    [dgate, dup, gate, up, dout], [N], elementwiseGrid(N));
}
