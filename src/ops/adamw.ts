// AdamW update (torch.optim.AdamW, amsgrad off) with the clip coefficient of clip_grad_norm_ applied as gradients are
// read, plus fillZero for the gradients after the step. Shaders: shaders/adamw.wgsl, shaders/fill.wgsl.
// Reference: ./adamw.ref.ts. Test: tests/ops/adamw.test.ts.
//
// Per-step scalars (lr from the schedule, bias corrections from the step) live in a small `hyper` storage buffer that
// the trainer rewrites with writeAdamwHyper before each optimizer step; kernels are planned once.
// Scalars are computed here in float64, as torch computes them in Python floats, and rounded to f32 once, as torch's
// kernels do when they take a Python scalar.
// Buffer arguments may be whole GPUBuffers or ranges of one (Buf); element offsets count from the range's start.
import code from '../../shaders/adamw.wgsl?raw';
import fillCode from '../../shaders/fill.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bufLabel, bufSize, cdiv, simpleKernel } from '../gpu/kernel.ts';
import { createStorage, writeBuffer } from '../gpu/buffers.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';

// Elements per thread of adamw.wgsl and fill.wgsl: a workgroup covers WG_1D·EPT = 4096 elements. Fewer invocations
// matter on CPU Vulkan (SwiftShader: fill_zero ~2×, adamw ~1.4× less CPU time than one element per thread; the rest
// is its per-lane memory access); on a GPU 4096-element chunks still give thousands of workgroups for large ranges.
const EPT = 16;
const CHUNK = WG_1D * EPT;

export interface AdamwHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step number of the update about to run (torch's state['step'] after its increment). */
  step: number;
}

/** Bytes of the hyper buffer: 16 f32 (see struct Hyper in shaders/adamw.wgsl). */
export const adamwHyperBytes = 64;

/** The 16 f32 of the hyper buffer, in struct Hyper's order. */
export function adamwHyperValues({ lr, beta1, beta2, eps, weightDecay, step }: AdamwHyper): Float32Array {
  const bad = (field: string, v: number, rule: string) => {
    throw new Error(`AdamW: ${field} = ${v} is invalid (${rule}); check the training config`);
  };
  if (!(Number.isFinite(lr) && lr >= 0)) bad('learning_rate', lr, 'a finite number ≥ 0');
  if (!(beta1 >= 0 && beta1 < 1)) bad('adam_beta1', beta1, 'must be in [0, 1)');
  if (!(beta2 >= 0 && beta2 < 1)) bad('adam_beta2', beta2, 'must be in [0, 1)');
  if (!(Number.isFinite(eps) && eps >= 0)) bad('adam_epsilon', eps, 'a finite number ≥ 0');
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0)) bad('weight_decay', weightDecay, 'a finite number ≥ 0');
  if (!(Number.isInteger(step) && step >= 1)) bad('step', step, 'an integer ≥ 1');
  const bc1 = 1 - beta1 ** step;
  const bc2 = 1 - beta2 ** step;
  const w1 = Math.fround(1 - beta1);
  return Float32Array.from([
    lr, beta1, beta2, eps,
    weightDecay, step, 1 - lr * weightDecay, w1,
    1 - w1, 1 - beta2, -(lr / bc1), Math.sqrt(bc2),
    0, 0, 0, 0,
  ]);
}

/** A hyper buffer (storage, 64 bytes). */
export function createAdamwHyper(gpu: Gpu, label = 'adamw.hyper'): GPUBuffer {
  return createStorage(gpu, label, adamwHyperBytes);
}

/** Rewrites `hyper` for the next step (queued; takes effect for work submitted after it). */
export function writeAdamwHyper(gpu: Gpu, hyper: GPUBuffer, h: AdamwHyper): void {
  writeBuffer(gpu, hyper, adamwHyperValues(h));
}

export interface AdamwOptions {
  /** 'hyper' (default): decay by the hyper buffer's weight_decay; 0: a no-decay range (norms, biases). */
  weightDecay?: 'hyper' | 0;
}

// param, grad, m, v: f32 (N,) at element `offset` of their buffers (N = count); hyper from writeAdamwHyper;
// norm (2,) = [total_norm, clip_coef] from gradNormFinalize. Updates param, m, v unless norm[0] is not finite.
export function adamwUpdate(
  gpu: Gpu, param: Buf, grad: Buf, m: Buf, v: Buf, hyper: Buf, norm: Buf,
  offset: number, count: number, opts: AdamwOptions = {},
): Kernel {
  const label = 'adamw_update';
  for (const [name, b] of [['param', param], ['grad', grad], ['m', m], ['v', v]] as const) checkRange(label, name, b, offset, count);
  if (bufSize(hyper) < adamwHyperBytes) throw new Error(`${label}: hyper buffer has ${bufSize(hyper)} bytes, needs ${adamwHyperBytes}`);
  if (bufSize(norm) < 8) throw new Error(`${label}: norm buffer needs 2 floats`);
  const decay = (opts.weightDecay ?? 'hyper') === 'hyper';
  return simpleKernel(gpu, { label, code, entryPoint: 'update', constants: { WG: WG_1D, EPT, DECAY: decay ? 1 : 0 } },
    [param, m, v, grad, norm, hyper], [offset, count], elementwiseGrid(cdiv(count, CHUNK), 1));
}

// buf[offset .. offset+count) = 0 (f32 +0.0 / u32 0).
export function fillZero(gpu: Gpu, buf: Buf, offset: number, count: number): Kernel {
  checkRange('fill_zero', 'buf', buf, offset, count);
  return simpleKernel(gpu, { label: 'fill_zero', code: fillCode, entryPoint: 'fill_zero', constants: { WG: WG_1D, EPT } },
    [buf], [offset, count], elementwiseGrid(cdiv(count, CHUNK), 1));
}

function checkRange(label: string, name: string, buf: Buf, offset: number, count: number): void {
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(count) || count < 1)
    throw new Error(`${label}: ${name} range offset ${offset}, count ${count} must be integers, count ≥ 1`);
  if ((offset + count) * 4 > bufSize(buf))
    throw new Error(`${label}: ${name} range [${offset}, ${offset + count}) exceeds ${bufLabel(buf) || name} (${bufSize(buf) / 4} elements)`);
  if (offset + count > 0xffffffff) throw new Error(`${label}: ${name} range end ${offset + count} does not fit u32 indexing`);
}
