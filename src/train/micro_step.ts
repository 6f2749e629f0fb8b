// Records and submits one training micro-step (forward, loss, backward) as one or several queue submissions.
// A single multi-second submission trips Windows' GPU watchdog (TDR, 2 s) and leaves pause/stop waiting for it, so
// the step is cut between layers into submissions that each stay under a time budget (default 250 ms), sized from
// the measured speed of the shape: its first micro-step runs one layer per submission and is timed; later ones pack
// as many layers as fit the budget. While split, at most two submissions are in flight (one running, one queued),
// and between submissions the caller may abort (stop) or wait (pause): the GPU is never more than one
// submission ahead. The kernels and their order are the same however the step is cut, so results are bit-identical.
import type { Gpu } from '../gpu/device.ts';
import { type Kernel, recordKernels } from '../gpu/kernel.ts';
import { submitCounted } from '../gpu/stats.ts';
import type { Qwen3RewardModel, StepPlan } from '../model/qwen3.ts';

export const DEFAULT_SUBMIT_BUDGET_MS = 250;

export interface SubmitOptions {
  /** Longest one submission should run on the GPU (ms). Infinity: the whole micro-step in one submission. */
  budgetMs?: number;
  /** Fixed layers per submission (overrides the budget; benchmarks and tests). */
  layersPerSubmission?: number;
}

export interface MicroStepHooks {
  /** Commands appended after the step's kernels in its last submission (e.g. the metrics ring copy). */
  tail?: (enc: GPUCommandEncoder) => void;
  /** Awaited between submissions; returning true abandons the rest of the micro-step. */
  between?: () => Promise<boolean> | boolean;
  /** Wraps the submissions (e.g. GPU error scopes around a shape's first use). */
  wrap?: <T>(fn: () => Promise<T>) => Promise<T>;
}

export interface MicroStepResult {
  submissions: number;
  aborted: boolean;
}

/** The kernels of one micro-step cut into submissions of at most `g` layers (forward and backward separately). */
export function microStepSegments(model: Qwen3RewardModel, plan: StepPlan, loss: Kernel, g: number): Kernel[][] {
  const L = plan.layers.length;
  const all = [...model.forwardKernels(plan), loss, ...model.backwardKernels(plan)];
  if (g >= L) return [all];
  const segs: Kernel[][] = [];
  for (let l = 0; l < L; l += g) segs.push([...(l === 0 ? plan.embed : []), ...plan.layers.slice(l, l + g).flat()]);
  segs[segs.length - 1].push(...plan.head, loss, ...plan.headBackward);
  for (let l = L - 1; l >= 0; l -= g) {
    const seg: Kernel[] = [];
    for (let j = l; j > l - g && j >= 0; j--) seg.push(...model.layerBackwardKernels(plan, j));
    segs.push(seg);
  }
  segs[segs.length - 1].push(...plan.embedBackward);
  return segs;
}

export class MicroStepRunner {
  private readonly msPerLayer = new Map<string, number>();
  readonly budgetMs: number;

  constructor(
    private readonly gpu: Gpu,
    private readonly model: Qwen3RewardModel,
    private readonly opts: SubmitOptions = {},
  ) {
    this.budgetMs = opts.budgetMs ?? DEFAULT_SUBMIT_BUDGET_MS;
  }

  /** Layers per submission for this plan: fixed, measured, or (not yet measured) one. */
  layersPerSubmission(plan: StepPlan): number {
    const L = plan.layers.length;
    if (this.opts.layersPerSubmission) return Math.max(1, Math.min(L, this.opts.layersPerSubmission));
    if (!Number.isFinite(this.budgetMs)) return L;
    const ms = this.msPerLayer.get(planKey(plan));
    if (ms === undefined) return 1;
    return Math.max(1, Math.min(L, Math.floor(this.budgetMs / Math.max(ms, 1e-6))));
  }

  async run(plan: StepPlan, loss: Kernel, label: string, hooks: MicroStepHooks = {}): Promise<MicroStepResult> {
    const { gpu } = this;
    const g = this.layersPerSubmission(plan);
    const segs = microStepSegments(this.model, plan, loss, g);
    const key = planKey(plan);
    const measure = segs.length > 1 && !this.opts.layersPerSubmission && !this.msPerLayer.has(key);
    const go = async (): Promise<MicroStepResult> => {
      const t0 = performance.now();
      let prev: Promise<unknown> | null = null;
      for (const [i, seg] of segs.entries()) {
        const enc = gpu.device.createCommandEncoder({ label: `${label} (${i + 1}/${segs.length})` });
        recordKernels(enc, seg, 'micro-step');
        if (i === segs.length - 1) hooks.tail?.(enc);
        submitCounted(gpu.device, [enc.finish()]);
        if (segs.length === 1) break;
        const done = gpu.device.queue.onSubmittedWorkDone();
        if (prev) await prev; // keep at most one submission queued behind the running one
        prev = done;
        if (i < segs.length - 1 && hooks.between && (await hooks.between())) {
          await prev;
          return { submissions: i + 1, aborted: true };
        }
      }
      if (measure) {
        await prev;
        this.msPerLayer.set(key, (performance.now() - t0) / plan.layers.length);
      }
      return { submissions: segs.length, aborted: false };
    };
    return hooks.wrap ? hooks.wrap(go) : go();
  }
}

function planKey(p: StepPlan): string {
  return `${p.B}x${p.T}x${p.M ?? p.B * p.T}`;
}
