// The training loop of TRL's RewardTrainer on the WebGPU model: seeded epoch order, batches of
// per_device_train_batch_size pairs split into micro-batches that fit, gradient accumulation, clip + AdamW with
// the HF schedule, metrics every logging_steps, eval every eval_steps, atomic checkpoints every save_steps,
// pause/resume/stop, and exact resume. One command buffer per micro-step; the CPU reads back only at logging.
import { checked, GpuError, simulateDeviceLoss, type Gpu } from '../gpu/device.ts';
import { faultAt, flags, killNow } from '../gpu/flags.ts';
import { recordKernels } from '../gpu/kernel.ts';
import { MicroStepRunner, type SubmitOptions } from './micro_step.ts';
import { readBytes } from '../gpu/buffers.ts';
import type { Qwen3RewardModel } from '../model/qwen3.ts';
import type { ModelWeights } from '../model/weights.ts';
import { Optimizer } from './optimizer.ts';
import { MetricsRing, evalMetrics } from './metrics.ts';
import { epochBatches, packMicroBatch, packSequences, splitBatch, type TokenizedPair } from './batches.ts';
import { makeCheckpoint, restoreCheckpoint, checkpointName, resumeMismatches, datasetFingerprint, RECOVERY_PREFIX, type CheckpointStore, type TrainerState } from './checkpoint.ts';
import { learningRateAt, trainingPlan, isIntervalStep, type TrainingPlan } from './schedule.ts';
import type { RewardConfig } from './config.ts';
import { countFlips, pairCorrect } from './insight.ts';

export type TrainEvent =
  | { type: 'log'; step: number; metrics: Record<string, number> }
  | { type: 'eval'; step: number; metrics: Record<string, number>; flipped?: { pairs: number; toCorrect: number; toIncorrect: number; since: number } }
  | { type: 'progress'; step: number; max_steps: number; epoch: number; tokens_per_second: number }
  | { type: 'checkpoint'; step: number; name: string }
  | { type: 'done'; step: number; reason: 'finished' | 'stopped' }
  | { type: 'warning'; message: string };

export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

/** The GPU device was lost during a run: names the step and the checkpoint a resume continues from. */
export class DeviceLostError extends GpuError {
  override name = 'DeviceLostError';
  constructor(
    readonly step: number,
    readonly lastCheckpoint: string | null,
    lost: GpuError,
  ) {
    super(
      `step ${step}: ${lost.message} The steps since the last checkpoint are lost; ` +
        (lastCheckpoint ? `the run continues from ${lastCheckpoint}.` : 'no checkpoint was written yet, so the run starts again from step 0.'),
      'device-lost',
      `training step ${step}`,
    );
  }
}

/** A resume refused because the checkpoint's config or data differ from this run's (`fields` names them). */
export class ResumeMismatchError extends Error {
  override name = 'ResumeMismatchError';
  constructor(message: string, readonly fields: string[]) {
    super(message);
  }
}

export interface TrainerOptions {
  gpu: Gpu;
  model: Qwen3RewardModel;
  weights: ModelWeights;
  train: TokenizedPair[];
  eval?: TokenizedPair[];
  config: RewardConfig;
  /** Pairs per micro-batch (≤ per_device_train_batch_size); from the memory plan. */
  microPairs: number;
  checkpoints?: CheckpointStore;
  /**
   * Recovery checkpoints (the studio: a reload must not lose a run whose save_steps never came): written through
   * `checkpoints` as `recovery-<step>` between optimizer steps at most every `recoveryEveryMs` of training, and
   * when requestRecovery() asks. Not a save_steps checkpoint: the checkpoint store keeps only the newest one and
   * drops it when a regular checkpoint is saved. Undefined: none (the CLI).
   */
  recoveryEveryMs?: number;
  /** Clock for the recovery interval (tests). */
  now?: () => number;
  onEvent: (e: TrainEvent) => void;
  /** How micro-steps are cut into submissions (default: ≤ 250 ms each, from the measured speed). */
  submit?: SubmitOptions;
}

export interface ResumeOptions {
  /** Resume even when the config or the training data differ from the checkpoint's (the differences are warned). */
  allowConfigChange?: boolean;
}

export class Trainer {
  readonly maxSteps: number;
  readonly plan: TrainingPlan;
  private readonly optimizer: Optimizer;
  private readonly ring: MetricsRing;
  private readonly withMargins: boolean;
  private readonly batchesPerEpoch: number;
  state: TrainerState;
  private paused: Promise<void> | null = null;
  private unpause: (() => void) | null = null;
  private stopRequested = false;
  private recoveryRequested = false;
  private lastSaveAt = 0;
  private wake: (() => void) | null = null;
  private lastTps = 0;
  private windowTokens = 0;
  private windowStart = 0;
  /** The newest checkpoint written or resumed from (what a resume after a failure continues from). */
  lastCheckpoint: string | null = null;
  /** Per-pair correctness at the last eval (for the flip count). */
  private lastEval: { step: number; correct: Uint8Array } | null = null;
  private readonly runner: MicroStepRunner;

  constructor(private readonly o: TrainerOptions) {
    this.runner = new MicroStepRunner(o.gpu, o.model, o.submit);
    const c = o.config;
    if (o.train.length === 0) throw new Error('the training set is empty after filtering by max_length; raise max_length or check the data');
    this.plan = trainingPlan(c, o.train.length);
    this.batchesPerEpoch = this.plan.batchesPerEpoch;
    this.maxSteps = this.plan.maxSteps;
    this.withMargins = o.train.some((p) => p.margin !== undefined);
    this.optimizer = new Optimizer(o.gpu, o.weights, c.max_grad_norm);
    const microsPerStep = c.gradient_accumulation_steps * Math.ceil(c.per_device_train_batch_size / o.microPairs);
    this.ring = new MetricsRing(o.gpu, this.plan.loggingSteps * microsPerStep, this.plan.loggingSteps);
    this.state = {
      format: 'reward-studio-checkpoint/1', global_step: 0, epoch: 0, epoch_index: 0, batch_in_epoch: 0, num_tokens: 0,
      seed: c.seed, max_steps: this.maxSteps, log_history: [], config: c,
      table: o.weights.table.trainable.map((e) => ({ name: e.name, shape: e.shape })),
      dataset: datasetFingerprint(o.train),
    };
  }

  pause(): void {
    if (!this.paused) this.paused = new Promise((r) => (this.unpause = r));
  }

  resume(): void {
    this.unpause?.();
    this.paused = null;
    this.unpause = null;
  }

  /** Asks for a recovery checkpoint after the step in progress (the page is being hidden or closed). */
  requestRecovery(): void {
    this.recoveryRequested = true;
    this.wake?.();
  }

  stop(): void {
    this.stopRequested = true;
    this.resume();
  }

  /**
   * Restores a checkpoint (weights, moments, position) before run(). Refuses a checkpoint written with another config
   * or other training data (naming the fields) unless `allowConfigChange`; then the run continues with this run's
   * config and the differences are reported as a warning.
   */
  async resumeFrom(name: string, opts: ResumeOptions = {}): Promise<void> {
    const files = await this.o.checkpoints?.load(name);
    if (!files) throw new Error(`checkpoint ${name} not found`);
    const state = await restoreCheckpoint(this.o.gpu, this.o.weights, files, name, (saved) => {
      const diffs = resumeMismatches(saved, this.o.config, this.state.dataset!);
      if (diffs.length === 0) return;
      const list = diffs.map((d) => `  ${d.field}: checkpoint ${d.checkpoint}, now ${d.now}`).join('\n');
      if (!opts.allowConfigChange) {
        throw new ResumeMismatchError(
          `${name} was written by a run with a different configuration or training data:\n${list}\n` +
            'Resume with the same settings and data, or start a new run. To continue anyway with the new values, pass ' +
            '--override-resume-check to `npm run cli -- train --resume`.',
          diffs.map((d) => d.field),
        );
      }
      this.o.onEvent({ type: 'warning', message: `resuming ${name} with changed settings:\n${list}` });
    });
    // The run goes on under this run's config (an override keeps the new values); the position comes from the checkpoint.
    this.state = { ...state, config: this.o.config, max_steps: this.maxSteps, dataset: this.state.dataset };
    this.lastCheckpoint = name;
  }

  /** A DeviceLostError for `step` if the device is gone (checked between steps and when a readback fails). */
  private lostAt(step: number): DeviceLostError | null {
    const lost = this.o.gpu.lost;
    return lost ? new DeviceLostError(step, this.lastCheckpoint, lost) : null;
  }

  async run(): Promise<void> {
    const { o } = this;
    const c = o.config;
    const accum = c.gradient_accumulation_steps;
    this.windowStart = performance.now();
    const now = o.now ?? (() => performance.now());
    this.lastSaveAt = now();
    while (this.state.global_step < this.maxSteps && !this.stopRequested) {
      // one optimizer step: up to `accum` per_device batches
      const step = this.state.global_step + 1;
      const position = { epoch_index: this.state.epoch_index, batch_in_epoch: this.state.batch_in_epoch, num_tokens: this.state.num_tokens };
      const batches: number[][] = [];
      while (batches.length < accum) {
        if (this.state.batch_in_epoch >= this.batchesPerEpoch) {
          if (batches.length > 0) break; // HF: the epoch's last partial accumulation still updates
          this.state.epoch_index++;
          this.state.batch_in_epoch = 0;
        }
        batches.push(this.epochList(this.state.epoch_index)[this.state.batch_in_epoch++]);
      }
      const lostBefore = this.lostAt(step);
      if (lostBefore) throw lostBefore;
      if (!(await this.trainStep(step, batches))) {
        Object.assign(this.state, position); // stopped inside the step: it never happened
        break;
      }
      const lost = this.lostAt(step);
      if (lost) throw lost;
      this.state.global_step = step;
      this.state.epoch = this.state.epoch_index + this.state.batch_in_epoch / this.batchesPerEpoch;

      const last = step === this.maxSteps;
      const p = this.plan;
      const epochEnd = this.state.batch_in_epoch >= this.batchesPerEpoch;
      // HF logs only at logging steps; the studio also logs the last step's window so the charts end at the end (HF
      // folds those metrics into its final train summary entry instead).
      if (isIntervalStep(step, p.loggingSteps) || last) await this.log(step).catch((e) => this.orLost(e, step));
      // progress every step (no readback: tokens/s as of the last log), so the page moves between logging_steps
      else o.onEvent({ type: 'progress', step, max_steps: this.maxSteps, epoch: this.state.epoch, tokens_per_second: this.lastTps });
      // HF DefaultFlowCallback: eval/save on their interval (or at each epoch's end); at the last step a "steps"
      // strategy also evaluates / saves. "no" means no eval and no checkpoint, including at the end.
      const evalNow = c.eval_strategy === 'epoch' ? epochEnd : c.eval_strategy === 'steps' && (isIntervalStep(step, p.evalSteps) || last);
      if (o.eval && o.eval.length && evalNow) await this.evaluate(step);
      const saveNow = c.save_strategy === 'epoch' ? epochEnd : c.save_strategy === 'steps' && (isIntervalStep(step, p.saveSteps) || last);
      if (o.checkpoints && saveNow) {
        await this.saveCheckpoint().catch((e) => this.orLost(e, step));
        this.lastSaveAt = now();
        this.recoveryRequested = false;
      } else if (o.checkpoints && o.recoveryEveryMs !== undefined && (this.recoveryRequested || now() - this.lastSaveAt >= o.recoveryEveryMs)) {
        // the studio's recovery checkpoint (also with save_strategy "no": it only serves a reload)
        this.recoveryRequested = false;
        await this.saveCheckpoint(RECOVERY_PREFIX).catch((e) => this.orLost(e, step));
        this.lastSaveAt = now();
      }
      // a paused page may be hidden or closed too: a recovery request wakes the pause, saves, and waits again
      while (this.paused) {
        const wake = new Promise<void>((r) => (this.wake = r));
        await Promise.race([this.paused, wake]);
        this.wake = null;
        if (this.recoveryRequested && o.checkpoints && o.recoveryEveryMs !== undefined) {
          this.recoveryRequested = false;
          await this.saveCheckpoint(RECOVERY_PREFIX).catch((e) => this.orLost(e, step));
        }
      }
    }
    if (this.ring.pending) await this.log(this.state.global_step);
    if (this.stopRequested && o.checkpoints) await this.saveCheckpoint();
    o.onEvent({ type: 'done', step: this.state.global_step, reason: this.stopRequested ? 'stopped' : 'finished' });
  }

  /** A failed readback on a lost device becomes the DeviceLostError naming the step (the loss may settle late). */
  private async orLost(e: unknown, step: number): Promise<never> {
    if (!(e instanceof NonFiniteError) && !this.o.gpu.lost) await new Promise((r) => setTimeout(r, 50));
    throw (!(e instanceof NonFiniteError) && this.lostAt(step)) || e;
  }

  private cachedEpoch: { epoch: number; batches: number[][] } | null = null;

  /** The batches of `epoch` (seeded shuffle), computed once per epoch. */
  private epochList(epoch: number): number[][] {
    if (this.cachedEpoch?.epoch !== epoch) {
      const c = this.o.config;
      const shuffle = c.train_sampling_strategy !== 'sequential';
      this.cachedEpoch = { epoch, batches: epochBatches(this.o.train.length, c.per_device_train_batch_size, c.seed, epoch, shuffle) };
    }
    return this.cachedEpoch.batches;
  }

  /** Records and submits every micro-batch of one optimizer step, then the optimizer. */
  private readonly checkedShapes = new Set<string>();

  /** False when stopped between submissions (gradients discarded, nothing updated). */
  private async trainStep(step: number, batches: number[][]): Promise<boolean> {
    const { o } = this;
    const { gpu, model, config: c } = o;
    for (const [bi, batch] of batches.entries()) {
      const micros = splitBatch(batch, o.microPairs);
      for (const [mi, idx] of micros.entries()) {
        const mb = packMicroBatch(idx.map((i) => o.train[i]), model.dims.padId, model.opts.maxT, this.withMargins);
        model.writeInputs(mb.ids, mb.lengths, mb.margins, (c.seed * 2654435761 + step * 97 + bi * 13 + mi) >>> 0);
        const plan = model.plan(mb.B, mb.T);
        // HF: each batch's mean loss / current_gradient_accumulation_steps (the batches actually in this update), so
        // the update's gradient is the mean over its batches, also for an epoch's last, partial group.
        const loss = model.lossKernel(plan, mb.P, this.withMargins, mb.P / (batch.length * batches.length), c.center_rewards_coefficient ?? 0);
        const shape = `${plan.B}x${plan.T}x${plan.M}`;
        const first = !this.checkedShapes.has(shape) || flags.checkEveryStep;
        const r = await this.runner.run(plan, loss, `step ${step} batch ${bi} micro ${mi}`, {
          tail: (enc) => this.ring.recordMicro(enc, model.acts.metrics, { step, batch: bi, P: mb.P, batchP: batch.length, batches: batches.length }),
          between: async () => {
            if (this.paused) await this.paused;
            return this.stopRequested;
          },
          // First use of a shape: surface validation / out-of-memory errors with the shape's label.
          wrap: first ? (fn) => checked(gpu, `training step ${step}, micro-batch of ${mb.B} sequences × ${mb.T} tokens`, fn) : undefined,
        });
        this.checkedShapes.add(shape);
        if (r.aborted) {
          this.ring.dropStep(step);
          const enc = gpu.device.createCommandEncoder({ label: `discard step ${step}` });
          recordKernels(enc, this.optimizer.zeroKernels(), 'zero grads');
          gpu.device.queue.submit([enc.finish()]);
          return false;
        }
        this.state.num_tokens += mb.numTokens;
        this.windowTokens += mb.numTokens;
      }
    }
    this.injectStepFault(step);
    this.optimizer.setHyper({
      lr: learningRateAt(step - 1, this.maxSteps, c), // the lr this update uses
      beta1: c.adam_beta1, beta2: c.adam_beta2, eps: c.adam_epsilon,
      weightDecay: c.weight_decay, step,
    });
    const enc = gpu.device.createCommandEncoder({ label: `optimizer step ${step}` });
    recordKernels(enc, this.optimizer.kernels, 'optimizer');
    this.ring.recordStep(enc, this.optimizer.norm, step);
    gpu.device.queue.submit([enc.finish()]);
    return true;
  }

  /** Fault injection (flags.ts): mid-step, after the micro-steps were submitted and before the optimizer. */
  private injectStepFault(step: number): void {
    const fault = faultAt('step', step);
    if (!fault) return;
    const { gpu, weights } = this.o;
    if (fault === 'kill') killNow(`training step ${step}`);
    else if (fault === 'device-lost') simulateDeviceLoss(gpu, `training step ${step}`);
    else if (fault === 'nan-grad' || fault === 'inf-grad') gpu.device.queue.writeBuffer(weights.grads[0], 0, new Float32Array([fault === 'nan-grad' ? NaN : Infinity]));
  }

  private async log(step: number): Promise<void> {
    const c = this.o.config;
    const { metrics, nonFinite } = await this.ring.flush();
    const now = performance.now();
    const tps = this.windowTokens / Math.max(1e-9, (now - this.windowStart) / 1000);
    this.windowTokens = 0;
    this.windowStart = now;
    if (nonFinite) {
      throw new NonFiniteError(
        `step ${nonFinite.step}: ${nonFinite.what} is ${nonFinite.value}; the optimizer skipped that step, so the weights are untouched. ` +
          (nonFinite.what === 'loss' ? 'The forward pass produced it (rewards overflowed or an input is invalid). ' : 'The backward pass produced it. ') +
          (nonFinite.what === 'grad_norm' && this.o.model.activationDtype === 'float16'
            ? 'This run stores its saved activations as float16: an activation beyond ±65504 becomes Inf there, so set the activation storage to float32 (--activation-dtype float32; it then needs more memory or checkpointing). '
            : '') +
          'Lower learning_rate, set max_grad_norm, or check the data; resume from the last checkpoint.',
      );
    }
    const entry: Record<string, number> = {
      ...metrics,
      // transformers 5.x reads the lr before lr_scheduler.step(): the rate this step's update used (0.0 at the first
      // warmup step). 4.x logged the next update's rate.
      learning_rate: learningRateAt(step - 1, this.maxSteps, c),
      num_tokens: this.state.num_tokens,
      epoch: this.state.epoch,
      step,
      tokens_per_second: tps,
    };
    this.state.log_history.push(entry);
    this.o.onEvent({ type: 'log', step, metrics: entry });
    this.lastTps = tps;
    this.o.onEvent({ type: 'progress', step, max_steps: this.maxSteps, epoch: this.state.epoch, tokens_per_second: tps });
  }

  /** Eval on the eval set: forward only, TRL's metrics with the eval_ prefix; the event also says how many pairs
   *  flipped (correct ↔ incorrect) since the previous eval of this trainer (not part of the metrics/log history). */
  async evaluate(step: number): Promise<Record<string, number>> {
    const { o } = this;
    const pairs = o.eval ?? [];
    const { chosen, rejected } = await scorePairs(o.gpu, o.model, pairs, Math.min(o.config.per_device_eval_batch_size, o.microPairs));
    // as evaluatePairs: TRL's per-batch eval metrics
    const withMargins = pairs.some((p) => p.margin !== undefined);
    const m = evalMetrics(chosen, rejected, withMargins ? pairs.map((p) => p.margin ?? 0) : null, o.config.per_device_eval_batch_size, o.config.center_rewards_coefficient ?? 0);
    const metrics: Record<string, number> = { step, epoch: this.state.epoch };
    for (const [k, v] of Object.entries(m)) metrics[`eval_${k}`] = v;
    // TRL logs the cumulative train token count in eval too (its num_tokens metric is the running total).
    metrics.eval_num_tokens = this.state.num_tokens;
    this.state.log_history.push(metrics);
    const correct = pairCorrect(chosen, rejected);
    const prev = this.lastEval;
    this.lastEval = { step, correct };
    const flipped = prev && prev.correct.length === correct.length ? { pairs: correct.length, ...countFlips(prev.correct, correct), since: prev.step } : undefined;
    o.onEvent({ type: 'eval', step, metrics, ...(flipped ? { flipped } : {}) });
    return metrics;
  }

  /** A save_steps checkpoint (`checkpoint-<step>`), or a recovery one with prefix RECOVERY_PREFIX. */
  async saveCheckpoint(prefix?: string): Promise<void> {
    const store = this.o.checkpoints;
    if (!store) return;
    const name = prefix ? `${prefix}${this.state.global_step}` : checkpointName(this.state.global_step);
    await store.save(name, await makeCheckpoint(this.o.gpu, this.o.weights, this.state));
    this.lastCheckpoint = name;
    this.o.onEvent({ type: 'checkpoint', step: this.state.global_step, name });
  }

  destroy(): void {
    this.optimizer.destroy();
    this.ring.destroy();
  }
}

/**
 * Forward-only evaluation as TRL's trainer.evaluate(): rewards of every pair, then TRL's metrics per eval batch of
 * `batchSize` pairs averaged over the batches (evalMetrics), with num_pairs and the global min/max beside them.
 */
export async function evaluatePairs(gpu: Gpu, model: Qwen3RewardModel, pairs: TokenizedPair[], batchSize: number, microPairs: number, center = 0): Promise<Record<string, number>> {
  const { chosen, rejected } = await scorePairs(gpu, model, pairs, Math.min(batchSize, microPairs));
  const withMargins = pairs.some((p) => p.margin !== undefined);
  return evalMetrics(chosen, rejected, withMargins ? pairs.map((p) => p.margin ?? 0) : null, batchSize, center);
}

/** Rewards of chosen and rejected for every pair. */
export async function scorePairs(gpu: Gpu, model: Qwen3RewardModel, pairs: TokenizedPair[], microPairs: number): Promise<{ chosen: Float32Array; rejected: Float32Array }> {
  const chosen = new Float32Array(pairs.length);
  const rejected = new Float32Array(pairs.length);
  for (let start = 0; start < pairs.length; start += microPairs) {
    const slice = pairs.slice(start, start + microPairs);
    const r = await scoreSequences(gpu, model, [...slice.map((p) => p.chosen_ids), ...slice.map((p) => p.rejected_ids)]);
    chosen.set(r.subarray(0, slice.length), start);
    rejected.set(r.subarray(slice.length), start);
  }
  return { chosen, rejected };
}

/** Rewards of sequences (each at most model.opts.maxT tokens), in batches of at most maxB. */
export async function scoreSequences(gpu: Gpu, model: Qwen3RewardModel, seqs: ArrayLike<number>[]): Promise<Float32Array> {
  const out = new Float32Array(seqs.length);
  const maxB = model.opts.maxB;
  for (let start = 0; start < seqs.length; start += maxB) {
    const part = seqs.slice(start, start + maxB);
    const mb = packSequences(part, model.dims.padId, model.opts.maxT);
    model.writeInputs(mb.ids, mb.lengths, null);
    const plan = model.evalPlan(mb.B, mb.T);
    const enc = gpu.device.createCommandEncoder({ label: 'score' });
    recordKernels(enc, model.forwardKernels(plan), 'score');
    gpu.device.queue.submit([enc.finish()]);
    const r = new Float32Array(await readBytes(gpu, model.acts.rewards, mb.B * 4));
    for (let i = 0; i < part.length; i++) out[start + i] = r[i];
  }
  return out;
}

/** TRL's pair metrics over all pairs at once (one batch of every pair; float64 on the CPU), with num_pairs. */
export function pairMetrics(chosen: ArrayLike<number>, rejected: ArrayLike<number>, margins: ArrayLike<number>, center = 0): Record<string, number> {
  const { global_min_reward: _min, global_max_reward: _max, ...m } = evalMetrics(chosen, rejected, margins, Math.max(1, chosen.length), center);
  return m;
}
