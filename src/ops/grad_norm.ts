// Global gradient norm and clip coefficient (torch.nn.utils.clip_grad_norm_, norm_type 2). Shader: shaders/grad_norm.wgsl.
// Reference: ./grad_norm.ref.ts. Test: tests/ops/grad_norm.test.ts.
//
// Gradients live in a few large flat f32 buffers ("blocks"). For each trainable range (buf, offset, count):
//   gradSumSquares(gpu, partials, grad, offset, count, partialsOffset)   writes gradNormPartialsCount(count) partial
//                                                                        sums of squares at partials[partialsOffset..)
// with the ranges' slices laid end to end, then
//   gradNormFinalize(gpu, norm, partials, numPartials, maxGradNorm)      norm (2,) f32 = [total_norm, clip_coef]
// clip_coef = min(max_norm / (total_norm + 1e-6), 1) as torch; maxGradNorm ≤ 0 or not finite = no clipping (HF Trainer
// clips only when max_grad_norm > 0), coef 1. The grads themselves are not rewritten: adamwUpdate multiplies by
// clip_coef as it reads them (torch multiplies the grads in place just before the step: same values).
// A NaN anywhere gives norm = [NaN, NaN]; an Inf (or an overflowing sum) gives [+Inf, 0]. adamwUpdate skips the step
// when norm[0] is not finite; the trainer reads norm[0] to report it.
// Buffer arguments may be whole GPUBuffers or ranges of one (Buf); element offsets count from the range's start.
// Variants (src/gpu/variants.ts): subgroup reductions where the device has `subgroups` (opts.subgroups overrides: tests
// run both; flags.noSubgroups turns them off).
import code from '../../shaders/grad_norm.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bufLabel, bufSize, cdiv, simpleKernel } from '../gpu/kernel.ts';
import { useSubgroups, wgslVariant } from '../gpu/variants.ts';
import { elementwiseGrid } from './grid.ts';

const WG = 256;     // finalize threads
const SUM_WG = 64; // sum_squares threads (fixed in the shader)
const EPT = 64;    // sum_squares elements per thread
/** Gradient elements summed by one workgroup into one partial. */
export const GRAD_NORM_CHUNK = SUM_WG * EPT;

/** Number of partial sums gradSumSquares writes for a range of `count` elements. */
export function gradNormPartialsCount(count: number): number {
  return cdiv(count, GRAD_NORM_CHUNK);
}

/** Variant choice: `subgroups` true/false forces it (an error if the device lacks the feature). */
export interface GradNormVariant {
  subgroups?: boolean;
}

function shader(gpu: Gpu, label: string, opts: GradNormVariant): { label: string; code: string } {
  const sg = useSubgroups(gpu, opts.subgroups, label);
  return { label: sg ? `${label}+subgroups` : label, code: wgslVariant(sg ? 'grad_norm+subgroups' : 'grad_norm', code, { subgroups: sg }) };
}

// partials (≥ partialsOffset + gradNormPartialsCount(count),) f32 out; grad (≥ offset + count,) f32.
export function gradSumSquares(
  gpu: Gpu, partials: Buf, grad: Buf, offset: number, count: number, partialsOffset: number, opts: GradNormVariant = {},
): Kernel {
  const label = 'grad_sum_squares';
  checkRange(label, 'grad', grad, offset, count);
  const groups = gradNormPartialsCount(count);
  checkRange(label, 'partials', partials, partialsOffset, groups);
  const k = simpleKernel(gpu, { ...shader(gpu, label, opts), entryPoint: 'sum_squares', constants: { EPT } },
    [partials, grad], [offset, count, partialsOffset, groups], elementwiseGrid(groups, 1));
  return { ...k, label };
}

// norm (2,) f32 out = [total_norm, clip_coef]; partials (≥ numPartials,) f32.
export function gradNormFinalize(gpu: Gpu, norm: Buf, partials: Buf, numPartials: number, maxGradNorm: number, opts: GradNormVariant = {}): Kernel {
  const label = 'grad_norm_finalize';
  checkRange(label, 'partials', partials, 0, numPartials);
  if (bufSize(norm) < 8) throw new Error(`${label}: norm buffer needs 2 floats, has ${bufSize(norm)} bytes`);
  const clip = Number.isFinite(maxGradNorm) && maxGradNorm > 0;
  const k = simpleKernel(gpu, { ...shader(gpu, label, opts), entryPoint: 'finalize', constants: { WG } },
    [null, null, null, norm, partials], [numPartials, clip ? 1 : 0, clip ? maxGradNorm : 0, 0], [1, 1, 1], new Set([2]));
  return { ...k, label };
}

/** A gradient range inside a block buffer (elements). */
export interface GradRange {
  buf: Buf;
  offset: number;
  count: number;
}

/** Partials needed by gradNormKernels for these ranges. */
export function gradNormPartialsTotal(ranges: GradRange[]): number {
  return ranges.reduce((s, r) => s + gradNormPartialsCount(r.count), 0);
}

/** All kernels of one global norm: sum of squares per range (slices end to end), then finalize. */
export function gradNormKernels(gpu: Gpu, norm: Buf, partials: Buf, ranges: GradRange[], maxGradNorm: number, opts: GradNormVariant = {}): Kernel[] {
  const ks: Kernel[] = [];
  let slot = 0;
  for (const r of ranges) {
    ks.push(gradSumSquares(gpu, partials, r.buf, r.offset, r.count, slot, opts));
    slot += gradNormPartialsCount(r.count);
  }
  ks.push(gradNormFinalize(gpu, norm, partials, slot, maxGradNorm, opts));
  return ks;
}

function checkRange(label: string, name: string, buf: Buf, offset: number, count: number): void {
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(count) || count < 1)
    throw new Error(`${label}: ${name} range offset ${offset}, count ${count} must be integers, count ≥ 1`);
  if ((offset + count) * 4 > bufSize(buf))
    throw new Error(`${label}: ${name} range [${offset}, ${offset + count}) exceeds ${bufLabel(buf) || name} (${bufSize(buf) / 4} floats)`);
  if (offset + count > 0xffffffff) throw new Error(`${label}: ${name} range end ${offset + count} does not fit u32 indexing`);
}
