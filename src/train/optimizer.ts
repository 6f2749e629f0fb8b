// The optimizer step over the trainable blocks: global grad norm + clip coefficient (clip_grad_norm_), AdamW
// (torch semantics; HF Trainer's grouping: no weight decay for norm weights), then zero the gradients. All planned
// once; per step only the `hyper` buffer (lr, bias corrections) is rewritten.
import type { Gpu } from '../gpu/device.ts';
import type { Kernel } from '../gpu/kernel.ts';
import { createStorage } from '../gpu/buffers.ts';
import { gradNormKernels, gradNormPartialsTotal, type GradRange } from '../ops/grad_norm.ts';
import { adamwUpdate, createAdamwHyper, fillZero, writeAdamwHyper, type AdamwHyper } from '../ops/adamw.ts';
import { allocateOptimizerState, type ModelWeights } from '../model/weights.ts';

interface Span {
  block: number;
  offset: number; // elements
  count: number;
  decay: boolean;
}

/** Contiguous element spans of each block, split by the decay flag (the table orders decayed tensors first). */
export function trainableSpans(w: ModelWeights): Span[] {
  const spans: Span[] = [];
  for (const e of w.table.trainable) {
    const start = e.offset / 4;
    const last = spans[spans.length - 1];
    if (last && last.block === e.block && last.decay === e.decay) last.count = start + e.numel - last.offset;
    else spans.push({ block: e.block, offset: start, count: e.numel, decay: e.decay });
  }
  return spans;
}

export class Optimizer {
  readonly norm: GPUBuffer; // (2,) [total_norm, clip_coef]
  readonly hyper: GPUBuffer;
  readonly kernels: Kernel[];
  private readonly partials: GPUBuffer;

  constructor(
    readonly gpu: Gpu,
    readonly weights: ModelWeights,
    maxGradNorm: number,
  ) {
    allocateOptimizerState(gpu, weights);
    const spans = trainableSpans(weights);
    const ranges: GradRange[] = spans.map((s) => ({ buf: weights.grads[s.block], offset: s.offset, count: s.count }));
    this.norm = createStorage(gpu, 'optim.norm', 8);
    this.partials = createStorage(gpu, 'optim.partials', gradNormPartialsTotal(ranges) * 4);
    this.hyper = createAdamwHyper(gpu);
    this.kernels = [
      ...gradNormKernels(gpu, this.norm, this.partials, ranges, maxGradNorm),
      ...spans.map((s) =>
        adamwUpdate(gpu, weights.params[s.block], weights.grads[s.block], weights.m[s.block], weights.v[s.block], this.hyper, this.norm, s.offset, s.count, {
          weightDecay: s.decay ? 'hyper' : 0,
        }),
      ),
      ...weights.grads.map((b) => fillZero(gpu, b, 0, b.size / 4)),
    ];
  }

  /** Sets lr and the step number (1-based) of the update recorded next. */
  setHyper(h: AdamwHyper): void {
    writeAdamwHyper(this.gpu, this.hyper, h);
  }

  /** Kernels that only zero the gradients (a skipped or discarded step). */
  zeroKernels(): Kernel[] {
    return this.kernels.slice(-this.weights.grads.length);
  }

  destroy(): void {
    this.norm.destroy();
    this.partials.destroy();
    this.hyper.destroy();
  }
}
