// Rotary position embedding (transformers Qwen3, half-split rotate_half). Shader: shaders/rope.wgsl.
// Reference: ./rope.ref.ts. Test: tests/ops/rope.test.ts.
// x is (B,T,nH,D) f32 (q with nH = H, k with nH = Hkv); positions are 0..T−1 for every sequence (padding is not
// skipped). The cos/sin tables (T, D/2) are computed here on the CPU in f32 exactly as transformers does and
// uploaded once; the GPU only multiplies.
import code from '../../shaders/rope.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bindBuffers, checkWorkgroups, createUniform, getPipeline } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';
import { checkAliasing, checkDims, needBytes, sameRange } from './args.ts';

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

/** Packed (padding-free) rows: x is (M,nH,D) with M = B·T, row m at position positions[m] < tableRows. */
export interface RopePositions {
  positions: Buf;
  tableRows: number;
}

function rotate(gpu: Gpu, label: string, sgn: number, out: Buf, inp: Buf, cos: Buf, sin: Buf, B: number, T: number, nH: number, D: number, pos?: RopePositions): Kernel {
  checkDims(label, { B, T, nH, D });
  if (D % 2 !== 0) throw new Error(`${label}: head dim D=${D} must be even`);
  const half = D / 2;
  const nPairs = B * T * nH * half;
  needBytes(label, 'out', out, nPairs * 8); needBytes(label, 'inp', inp, nPairs * 8);
  const rows = pos?.tableRows ?? T;
  needBytes(label, 'cos', cos, rows * half * 4); needBytes(label, 'sin', sin, rows * half * 4);
  if (pos) needBytes(label, 'positions', pos.positions, B * T * 4);
  const inPlace = sameRange(out, inp);
  checkAliasing(label, { out }, { inp: inPlace ? null : inp, cos, sin });
  const pipeline = getPipeline(gpu, { label, code, entryPoint: inPlace ? 'rotate_inplace' : 'rotate', constants: { WG: WG_1D, POSITIONS: pos ? 1 : 0 } });
  const u = createUniform(gpu, label, [nPairs, T, nH, half, sgn], new Set([4]));
  const workgroups = elementwiseGrid(nPairs);
  checkWorkgroups(gpu, label, workgroups);
  // positions is statically used by both entry points: without it, bind the cos table there (never read).
  const bindGroup = bindBuffers(gpu, label, pipeline, [out, inPlace ? null : inp, cos, sin, u, pos?.positions ?? cos]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups }], owned: [u] };
}

// out (B,T,nH,D) = rope(inp (B,T,nH,D)); cos, sin (T, D/2) from ropeTable. In place allowed (out and inp the same
// buffer or range).
export function ropeForward(gpu: Gpu, out: Buf, inp: Buf, cos: Buf, sin: Buf, B: number, T: number, nH: number, D: number, pos?: RopePositions): Kernel {
  return rotate(gpu, 'rope_forward', 1, out, inp, cos, sin, B, T, nH, D, pos);
}

// dinp (B,T,nH,D) = inverse rotation (transpose) of dout (B,T,nH,D); assigned. In place allowed (same buffer/range).
export function ropeBackward(gpu: Gpu, dinp: Buf, dout: Buf, cos: Buf, sin: Buf, B: number, T: number, nH: number, D: number, pos?: RopePositions): Kernel {
  return rotate(gpu, 'rope_backward', -1, dinp, dout, cos, sin, B, T, nH, D, pos);
}
