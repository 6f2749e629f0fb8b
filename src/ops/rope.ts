// Rotary position embedding (transformers Qwen3, half-split rotate_half). Shader: shaders/rope.wgsl.
// Reference: ./rope.ref.ts. Test: tests/ops/rope.test.ts.
// x is (B,T,nH,D) f32 (q with nH = H, k with nH = Hkv); positions are 0..T−1 for every sequence (padding is not
// skipped). The cos/sin tables (T, D/2) are computed here on the CPU in f32 exactly as transformers does and
// uploaded once; the GPU only multiplies.
import code from '../../shaders/rope.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Kernel, simpleKernel } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';

const f32 = Math.fround;

/**
 * cos, sin (T, D/2) f32, as transformers computes them:
 *   inv_freq = 1.0 / (theta ** (arange(0, D, 2).float() / D))     every op in f32
 *   angle[t, i] = f32(t * inv_freq[i])                             (the f32 matmul of positions and inv_freq)
 *   cos/sin = f32(cos/sin(angle))                                  (evaluated in float64, rounded once)
 * torch evaluates pow and cos in f32 with its own libm, so a value may differ from this one by an ulp.
 */
export function ropeTable(T: number, D: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  if (!Number.isInteger(D) || D < 2 || D % 2 !== 0) throw new Error(`ropeTable: head dim D=${D} must be a positive even integer`);
  if (!Number.isInteger(T) || T < 1) throw new Error(`ropeTable: T=${T} must be a positive integer`);
  if (!(theta > 0)) throw new Error(`ropeTable: rope_theta=${theta} must be positive (config.json rope_theta)`);
  const half = D / 2;
  const invFreq = new Float64Array(half);
  for (let i = 0; i < half; i++) invFreq[i] = f32(1 / f32(Math.pow(theta, f32((2 * i) / D))));
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const angle = f32(t * invFreq[i]);
      cos[t * half + i] = Math.cos(angle);
      sin[t * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

function rotate(gpu: Gpu, label: string, sgn: number, out: GPUBuffer, inp: GPUBuffer, cos: GPUBuffer, sin: GPUBuffer, B: number, T: number, nH: number, D: number): Kernel {
  for (const [n, v] of [['B', B], ['T', T], ['nH', nH], ['D', D]] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: ${n}=${v} must be a positive integer`);
  if (D % 2 !== 0) throw new Error(`${label}: head dim D=${D} must be even`);
  const half = D / 2;
  const nPairs = B * T * nH * half;
  for (const [n, buf, bytes] of [['out', out, nPairs * 8], ['inp', inp, nPairs * 8], ['cos', cos, T * half * 4], ['sin', sin, T * half * 4]] as const)
    if (buf.size < bytes) throw new Error(`${label}: ${n} (${buf.label}) holds ${buf.size} bytes, needs ${bytes}`);
  const inPlace = out === inp;
  return simpleKernel(gpu, { label, code, entryPoint: inPlace ? 'rotate_inplace' : 'rotate', constants: { WG: WG_1D } },
    [out, inPlace ? null : inp, cos, sin], [nPairs, T, nH, half, sgn], elementwiseGrid(nPairs), new Set([4]));
}

// out (B,T,nH,D) = rope(inp (B,T,nH,D)); cos, sin (T, D/2) from ropeTable. In place allowed (out === inp).
export function ropeForward(gpu: Gpu, out: GPUBuffer, inp: GPUBuffer, cos: GPUBuffer, sin: GPUBuffer, B: number, T: number, nH: number, D: number): Kernel {
  return rotate(gpu, 'rope_forward', 1, out, inp, cos, sin, B, T, nH, D);
}

// dinp (B,T,nH,D) = inverse rotation (transpose) of dout (B,T,nH,D); assigned. In place allowed (dinp === dout).
export function ropeBackward(gpu: Gpu, dinp: GPUBuffer, dout: GPUBuffer, cos: GPUBuffer, sin: GPUBuffer, B: number, T: number, nH: number, D: number): Kernel {
  return rotate(gpu, 'rope_backward', -1, dinp, dout, cos, sin, B, T, nH, D);
}
