// Metrics of TRL's RewardTrainer, gathered without stalling the GPU: each micro-batch's 8 metrics
// ([loss, accuracy, margin, min_reward, mean_reward, max_reward, P, 0], see ops/reward_loss.ts) and each
// optimizer step's [grad_norm, clip_coef] are copied into GPU rings; the CPU reads the rings once per
// logging_steps and aggregates like TRL: per-batch values (a batch split into sub-micro-batches is recombined:
// weighted means, min of mins, max of maxes), then the mean over the batches of the window. `loss` is HF's
// logged loss: the mean over optimizer steps of Σ_batches loss / (batches in that step) — HF divides by
// current_gradient_accumulation_steps = the micro-batches actually in the update, so an epoch's last, partial
// accumulation group is divided by its own size, not by gradient_accumulation_steps.
import type { Gpu } from '../gpu/device.ts';
import { createStorage, readBytes } from '../gpu/buffers.ts';
import { REWARD_METRICS_COUNT } from '../ops/reward_loss.ts';

export interface MicroRecord {
  step: number; // optimizer step (1-based) this micro-batch belongs to
  batch: number; // per_device batch index within the step
  P: number; // pairs in this micro-batch
  batchP: number; // pairs in its per_device batch
  batches: number; // per_device batches in its optimizer step (HF's current_gradient_accumulation_steps)
}

export const METRIC_NAMES = ['loss', 'accuracy', 'margin', 'min_reward', 'mean_reward', 'max_reward'] as const;

export class MetricsRing {
  private microBuf: GPUBuffer;
  private normBuf: GPUBuffer;
  private micro: MicroRecord[] = [];
  private steps: number[] = [];

  constructor(
    readonly gpu: Gpu,
    private microCapacity: number,
    private stepCapacity: number,
  ) {
    this.microBuf = createStorage(gpu, 'metrics.micro', microCapacity * REWARD_METRICS_COUNT * 4);
    this.normBuf = createStorage(gpu, 'metrics.norm', stepCapacity * 8);
  }

  /** Records the copy of the last micro-batch's metrics into the ring (call while encoding that micro-step). */
  recordMicro(enc: GPUCommandEncoder, metrics: GPUBuffer, rec: MicroRecord): void {
    if (this.micro.length >= this.microCapacity) throw new Error('metrics ring full: flush() at each logging step');
    enc.copyBufferToBuffer(metrics, 0, this.microBuf, this.micro.length * REWARD_METRICS_COUNT * 4, REWARD_METRICS_COUNT * 4);
    this.micro.push(rec);
  }

  recordStep(enc: GPUCommandEncoder, norm: GPUBuffer, step: number): void {
    if (this.steps.length >= this.stepCapacity) throw new Error('metrics ring full: flush() at each logging step');
    enc.copyBufferToBuffer(norm, 0, this.normBuf, this.steps.length * 8, 8);
    this.steps.push(step);
  }

  /** Forgets the micro-batches recorded for `step` (a step abandoned by stop before its optimizer update). */
  dropStep(step: number): void {
    while (this.micro.length && this.micro[this.micro.length - 1].step === step) this.micro.pop();
  }

  get pending(): number {
    return this.steps.length;
  }

  /** Reads the rings back and aggregates the window; empties the rings. */
  async flush(): Promise<WindowMetrics> {
    const micro = this.micro;
    const steps = this.steps;
    this.micro = [];
    this.steps = [];
    const m = micro.length ? new Float32Array(await readBytes(this.gpu, this.microBuf, micro.length * REWARD_METRICS_COUNT * 4)) : new Float32Array(0);
    const n = steps.length ? new Float32Array(await readBytes(this.gpu, this.normBuf, steps.length * 8)) : new Float32Array(0);
    return aggregate(micro, m, steps, n);
  }

  destroy(): void {
    this.microBuf.destroy();
    this.normBuf.destroy();
  }
}

export interface WindowMetrics {
  metrics: Record<string, number>; // loss, accuracy, margin, min/mean/max_reward, grad_norm (of the last step)
  nonFinite: { step: number; what: 'loss' | 'grad_norm'; value: number } | null;
}

/** Pure aggregation (exported for tests). m: micro rows × 8 floats; n: steps × [norm, coef]. */
export function aggregate(micro: MicroRecord[], m: ArrayLike<number>, steps: number[], n: ArrayLike<number>): WindowMetrics {
  type Acc = { step: number; batches: number; loss: number; accuracy: number; margin: number; min: number; mean: number; max: number };
  const batches = new Map<string, Acc>();
  let nonFinite: WindowMetrics['nonFinite'] = null;
  micro.forEach((r, i) => {
    const row = (k: number) => m[i * REWARD_METRICS_COUNT + k];
    const w = r.P / r.batchP;
    const key = `${r.step}:${r.batch}`;
    let a = batches.get(key);
    if (!a) batches.set(key, (a = { step: r.step, batches: r.batches, loss: 0, accuracy: 0, margin: 0, min: Infinity, mean: 0, max: -Infinity }));
    a.loss += w * row(0);
    a.accuracy += w * row(1);
    a.margin += w * row(2);
    a.min = Math.min(a.min, row(3));
    a.mean += w * row(4);
    a.max = Math.max(a.max, row(5));
    if (!Number.isFinite(row(0)) && !nonFinite) nonFinite = { step: r.step, what: 'loss', value: row(0) };
  });
  const list = [...batches.values()];
  const mean = (f: (a: Acc) => number) => (list.length ? list.reduce((s, a) => s + f(a), 0) / list.length : NaN);
  // HF: tr_loss sums loss / current_gradient_accumulation_steps per batch; logged loss = tr_loss / steps in the window.
  const stepsInWindow = new Set(list.map((a) => a.step)).size;
  const loss = list.reduce((s, a) => s + a.loss / a.batches, 0) / Math.max(1, stepsInWindow);
  steps.forEach((s, i) => {
    if (!Number.isFinite(n[2 * i]) && !nonFinite) nonFinite = { step: s, what: 'grad_norm', value: n[2 * i] };
  });
  const metrics: Record<string, number> = {
    loss,
    accuracy: mean((a) => a.accuracy),
    margin: mean((a) => a.margin),
    min_reward: mean((a) => a.min),
    mean_reward: mean((a) => a.mean),
    max_reward: mean((a) => a.max),
  };
  if (steps.length) metrics.grad_norm = n[2 * (steps.length - 1)];
  return { metrics, nonFinite };
}

/**
 * TRL's eval metrics (RewardTrainer.compute_loss in eval mode + Trainer.evaluation_loop) over pairs taken in order in
 * eval batches of `batchSize` pairs: `loss` is the mean of the per-batch losses weighted by batch size (HF repeats
 * each batch's loss per row and takes the mean), every other metric is the plain mean over batches of the per-batch
 * value (so `min_reward` is the mean of per-batch minima). Extra views under names of their own: `num_pairs`,
 * `global_min_reward` / `global_max_reward` (over all pairs). float64 on the CPU.
 */
export function evalMetrics(chosen: ArrayLike<number>, rejected: ArrayLike<number>, margins: ArrayLike<number> | null, batchSize: number, center = 0): Record<string, number> {
  const P = chosen.length;
  const sums = { loss: 0, accuracy: 0, margin: 0, min_reward: 0, mean_reward: 0, max_reward: 0 };
  let batches = 0;
  let gmin = Infinity, gmax = -Infinity;
  for (let start = 0; start < P; start += batchSize) {
    const end = Math.min(P, start + batchSize);
    const n = end - start;
    let loss = 0, acc = 0, margin = 0, min = Infinity, max = -Infinity, sum = 0, c2 = 0;
    for (let i = start; i < end; i++) {
      const d = chosen[i] - rejected[i] - (margins ? margins[i] : 0);
      loss += -(Math.min(d, 0) - Math.log1p(Math.exp(-Math.abs(d)))); // -logsigmoid(d), stable
      acc += chosen[i] > rejected[i] ? 1 : 0;
      margin += chosen[i] - rejected[i];
      min = Math.min(min, chosen[i], rejected[i]);
      max = Math.max(max, chosen[i], rejected[i]);
      sum += chosen[i] + rejected[i];
      c2 += (chosen[i] + rejected[i]) ** 2;
    }
    const batchLoss = loss / n + (center ? (center * c2) / n : 0);
    sums.loss += batchLoss * n;
    sums.accuracy += acc / n;
    sums.margin += margin / n;
    sums.min_reward += min;
    sums.mean_reward += sum / (2 * n);
    sums.max_reward += max;
    gmin = Math.min(gmin, min);
    gmax = Math.max(gmax, max);
    batches++;
  }
  const b = Math.max(1, batches);
  return {
    loss: sums.loss / Math.max(1, P), accuracy: sums.accuracy / b, margin: sums.margin / b,
    min_reward: sums.min_reward / b, mean_reward: sums.mean_reward / b, max_reward: sums.max_reward / b,
    num_pairs: P, global_min_reward: gmin, global_max_reward: gmax,
  };
}
