// SwiGLU elementwise part of Qwen3's MLP: out = silu(gate) * up. Shader: shaders/swiglu.wgsl.
// Reference: ./swiglu.ref.ts. Test: tests/ops/swiglu.test.ts.
// N = B*T*F elements, flattened. Buffers are f32.
import shaderCode from '../../shaders/swiglu.wgsl?raw';
import commonMath from '../../shaders/common_math.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, simpleKernel } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';
import { needBytes } from './args.ts';

const code = `${shaderCode}\n${commonMath}`;

// out is (N,), gate is (N,), up is (N,)
export function swigluForward(gpu: Gpu, out: Buf, gate: Buf, up: Buf, N: number): Kernel {
  return simpleKernel(gpu, { label: 'swiglu_forward', code, entryPoint: 'forward', constants: { WG: WG_1D } },
    [out, null, gate, up, null], [N, 1], elementwiseGrid(N));
}

// dgate, dup, dout are (N,); assigns dgate and dup.
export function swigluBackward(gpu: Gpu, dgate: Buf, dup: Buf, dout: Buf, gate: Buf, up: Buf, N: number): Kernel {
  return simpleKernel(gpu, { label: 'swiglu_backward', code, entryPoint: 'backward', constants: { WG: WG_1D } },
    [dgate, dup, gate, up, dout], [N, 1], elementwiseGrid(N));
}

// The fused gate|up layout: gu is (M, 2F) (gate columns then up columns of each row), out (M, F) = silu(gate)·up.
export function swigluRowsForward(gpu: Gpu, out: Buf, gu: Buf, M: number, F: number): Kernel {
  needBytes('swiglu_rows_forward', 'gu', gu, M * 2 * F * 4); needBytes('swiglu_rows_forward', 'out', out, M * F * 4);
  return simpleKernel(gpu, { label: 'swiglu_rows_forward', code, entryPoint: 'forward', constants: { WG: WG_1D, ROWS: 1 } },
    [out, null, gu, gu, null], [M * F, F], elementwiseGrid(M * F));
}

// dgu (M, 2F) assigned (dgate | dup per row) from dout (M, F) and the forward's gu (M, 2F).
export function swigluRowsBackward(gpu: Gpu, dgu: Buf, dout: Buf, gu: Buf, M: number, F: number): Kernel {
  needBytes('swiglu_rows_backward', 'dgu', dgu, M * 2 * F * 4); needBytes('swiglu_rows_backward', 'dout', dout, M * F * 4);
  return simpleKernel(gpu, { label: 'swiglu_rows_backward', code, entryPoint: 'backward', constants: { WG: WG_1D, ROWS: 1 } },
    [dgu, unusedOutput(gpu), gu, gu, dout], [M * F, F], elementwiseGrid(M * F));
}

// Binding 1 (dup) is statically used by the backward entry; the rows variant writes only binding 0.
const unused = new WeakMap<GPUDevice, GPUBuffer>();
function unusedOutput(gpu: Gpu): GPUBuffer {
  let b = unused.get(gpu.device);
  if (!b) unused.set(gpu.device, (b = gpu.device.createBuffer({ label: 'swiglu.unused', size: 4, usage: GPUBufferUsage.STORAGE })));
  return b;
}
