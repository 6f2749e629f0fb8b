// Learning-rate schedules and the step arithmetic of HF's Trainer, exactly:
// - transformers optimization.py get_scheduler: the lr of optimizer update `step` (0-based) is
//   learning_rate · lambda(step); LambdaLR evaluates lambda(0) for the first update and scheduler.step() follows
//   each update, so with warmup the first update uses lr 0. "constant" ignores warmup (get_scheduler returns
//   get_constant_schedule without it).
// - TrainingArguments.get_warmup_steps: warmup_steps ≥ 1 → int(warmup_steps); a fractional warmup_steps in (0, 1)
//   (transformers 5) → ceil(total · warmup_steps); otherwise ceil(total · warmup_ratio) (transformers 4's field).
// - Trainer.set_initial_training_values: len_dataloader = ceil(pairs / per_device_train_batch_size) (drop_last off);
//   updates per epoch = max(ceil(len_dataloader / gradient_accumulation_steps), 1) (the last update of an epoch takes
//   the remaining micro-batches); max_steps > 0 overrides epochs, else ceil(num_train_epochs · updates per epoch).
// - TrainerState.compute_steps: logging/eval/save steps < 1 are ratios → ceil(max_steps · ratio).
import type { RewardConfig } from './config.ts';

export type ScheduleConfig = Pick<RewardConfig, 'learning_rate' | 'lr_scheduler_type' | 'warmup_steps' | 'warmup_ratio'>;

/** HF get_warmup_steps for a run of `totalSteps` optimizer updates. */
export function numWarmupSteps(cfg: Pick<RewardConfig, 'warmup_steps' | 'warmup_ratio'>, totalSteps: number): number {
  if (cfg.warmup_steps >= 1) return Math.trunc(cfg.warmup_steps);
  if (cfg.warmup_steps > 0) return Math.ceil(totalSteps * cfg.warmup_steps);
  return Math.ceil(totalSteps * cfg.warmup_ratio);
}

/** The multiplier lambda(step) of HF's schedulers (cosine with num_cycles 0.5). */
export function lrLambda(type: RewardConfig['lr_scheduler_type'], step: number, warmup: number, total: number): number {
  switch (type) {
    case 'constant':
      return 1;
    case 'constant_with_warmup':
      return step < warmup ? step / Math.max(1, warmup) : 1;
    case 'linear':
      if (step < warmup) return step / Math.max(1, warmup);
      return Math.max(0, (total - step) / Math.max(1, total - warmup));
    case 'cosine': {
      if (step < warmup) return step / Math.max(1, warmup);
      const progress = (step - warmup) / Math.max(1, total - warmup);
      return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * 0.5 * 2 * progress)));
    }
  }
}

/** The learning rate used by optimizer update `step` (0-based) of a `totalSteps`-update run; what HF logs for it. */
export function learningRateAt(step: number, totalSteps: number, cfg: ScheduleConfig): number {
  return cfg.learning_rate * lrLambda(cfg.lr_scheduler_type, step, numWarmupSteps(cfg, totalSteps), totalSteps);
}

/** How a run is laid out, as HF's Trainer computes it. */
export interface TrainingPlan {
  /** Preference pairs in the (filtered) train set. */
  numPairs: number;
  /** len(train_dataloader): batches of per_device_train_batch_size pairs per epoch, the last one partial. */
  batchesPerEpoch: number;
  /** Optimizer updates per epoch: ceil(batchesPerEpoch / gradient_accumulation_steps), at least 1. */
  updatesPerEpoch: number;
  /** Total optimizer updates (the schedule's num_training_steps). */
  maxSteps: number;
  /** Epochs the loop runs (the last may stop early at maxSteps). */
  numEpochs: number;
  /** True when max_steps was not given (the length comes from num_train_epochs). */
  epochBased: boolean;
  warmupSteps: number;
  /** Absolute intervals (ratios resolved); evalSteps null when eval_strategy is not "steps". */
  loggingSteps: number;
  evalSteps: number | null;
  saveSteps: number | null;
}

function absoluteSteps(v: number, maxSteps: number): number {
  return v < 1 ? Math.ceil(maxSteps * v) : v;
}

/** HF's training arithmetic for `numPairs` training pairs (after max_length filtering). */
export function trainingPlan(cfg: RewardConfig, numPairs: number): TrainingPlan {
  if (!Number.isInteger(numPairs) || numPairs < 1) {
    throw new Error(`the training set has ${numPairs} usable pairs; it needs at least one (check max_length filtering and the data file)`);
  }
  const batchesPerEpoch = Math.ceil(numPairs / cfg.per_device_train_batch_size);
  const updatesPerEpoch = Math.max(Math.ceil(batchesPerEpoch / cfg.gradient_accumulation_steps), 1);
  const epochBased = cfg.max_steps < 0;
  const maxSteps = epochBased ? Math.ceil(cfg.num_train_epochs * updatesPerEpoch) : cfg.max_steps;
  const numEpochs = epochBased ? Math.ceil(cfg.num_train_epochs) : Math.ceil(maxSteps / updatesPerEpoch);
  const loggingSteps = absoluteSteps(cfg.logging_steps, maxSteps);
  const evalSteps = cfg.eval_strategy === 'steps' ? absoluteSteps(cfg.eval_steps ?? cfg.logging_steps, maxSteps) : null;
  const saveSteps = cfg.save_strategy === 'steps' ? absoluteSteps(cfg.save_steps, maxSteps) : null;
  return {
    numPairs,
    batchesPerEpoch,
    updatesPerEpoch,
    maxSteps,
    numEpochs,
    epochBased,
    warmupSteps: numWarmupSteps(cfg, maxSteps),
    loggingSteps,
    evalSteps,
    saveSteps,
  };
}

/**
 * Micro-batches (HF batches of per_device_train_batch_size pairs) that make up update `u` (0-based) within an epoch:
 * gradient_accumulation_steps, except the epoch's last update, which takes the remainder. HF divides each
 * micro-batch's mean loss by this count, so an update's gradient is the mean of its micro-batch gradients.
 */
export function microBatchesInUpdate(plan: TrainingPlan, cfg: Pick<RewardConfig, 'gradient_accumulation_steps'>, u: number): number {
  const ga = cfg.gradient_accumulation_steps;
  const full = Math.floor(plan.batchesPerEpoch / ga);
  const rem = plan.batchesPerEpoch % ga;
  if (u < full) return ga;
  if (u === full && rem > 0) return rem;
  throw new RangeError(`update ${u} is past the end of an epoch of ${plan.updatesPerEpoch} updates`);
}

/** HF's state.epoch after `batchesDone` micro-batches of epoch `epoch` (0-based): epoch + batchesDone / batchesPerEpoch. */
export function epochProgress(plan: TrainingPlan, epoch: number, batchesDone: number): number {
  return epoch + batchesDone / plan.batchesPerEpoch;
}

/** Whether `step` (1-based global step after an update) is a logging / eval / save step (HF DefaultFlowCallback). */
export function isIntervalStep(step: number, interval: number | null): boolean {
  return interval !== null && interval > 0 && step % interval === 0;
}
