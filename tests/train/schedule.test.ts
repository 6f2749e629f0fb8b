// Learning-rate schedules and HF Trainer's step arithmetic. Expected values are worked out by hand from the formulas
// of transformers' optimization.py / training_args.py / trainer.py (written next to each case), not from the code.
// The parity fixture additionally checks learningRateAt against torch's LambdaLR (tests/fixtures/parity).
import { describe, expect, it } from 'vitest';
import { epochProgress, isIntervalStep, learningRateAt, lrLambda, microBatchesInUpdate, numWarmupSteps, trainingPlan } from '../../src/train/schedule.ts';
import { defaultRewardConfig, parseRewardConfig, type RewardConfig } from '../../src/train/config.ts';

const cfg = (o: Partial<RewardConfig>): RewardConfig => ({ ...defaultRewardConfig(), ...o });
const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(b)));

describe('lrLambda', () => {
  it('linear: warmup from 0, then decay to 0 at the last step', () => {
    // warmup 3, total 10: 0, 1/3, 2/3, then (10 − s)/7.
    const want = [0, 1 / 3, 2 / 3, 1, 6 / 7, 5 / 7, 4 / 7, 3 / 7, 2 / 7, 1 / 7, 0];
    want.forEach((w, s) => close(lrLambda('linear', s, 3, 10), w));
    expect(lrLambda('linear', 12, 3, 10)).toBe(0); // max(0, ·) past the end
    // No warmup: the first step has the full rate.
    expect(lrLambda('linear', 0, 0, 4)).toBe(1);
    close(lrLambda('linear', 3, 0, 4), 1 / 4);
  });

  it('cosine (num_cycles 0.5): half a cosine from 1 to 0 after warmup', () => {
    // warmup 2, total 10: progress = (s − 2)/8; lambda = ½(1 + cos(π·progress)).
    close(lrLambda('cosine', 1, 2, 10), 0.5);
    close(lrLambda('cosine', 2, 2, 10), 1);
    close(lrLambda('cosine', 4, 2, 10), 0.5 * (1 + Math.SQRT1_2)); // progress ¼ → cos(π/4)
    close(lrLambda('cosine', 6, 2, 10), 0.5); // progress ½
    close(lrLambda('cosine', 8, 2, 10), 0.5 * (1 - Math.SQRT1_2));
    expect(Math.abs(lrLambda('cosine', 10, 2, 10))).toBeLessThan(1e-16);
    // Past the end HF's formula rises again (progress 1.5 → ½); the Trainer never gets there.
    close(lrLambda('cosine', 14, 2, 10), 0.5);
  });

  it('constant ignores warmup; constant_with_warmup ramps then stays', () => {
    expect([0, 1, 5].map((s) => lrLambda('constant', s, 3, 10))).toEqual([1, 1, 1]);
    [0, 0.25, 0.5, 0.75, 1, 1, 1].forEach((w, s) => close(lrLambda('constant_with_warmup', s, 4, 10), w));
  });

  it('handles warmup ≥ total without dividing by zero', () => {
    // linear with warmup 5 = total 5: steps < 5 warm up; max(1, total − warmup) = 1 → (5 − 5)/1 = 0 at the end.
    close(lrLambda('linear', 4, 5, 5), 0.8);
    expect(lrLambda('linear', 5, 5, 5)).toBe(0);
    expect(lrLambda('cosine', 5, 5, 5)).toBe(1); // progress 0/1
    expect(lrLambda('linear', 0, 0, 0)).toBe(0); // (0 − 0)/max(1, 0)
  });
});

describe('warmup steps (HF get_warmup_steps)', () => {
  it('takes integer warmup_steps, a fractional warmup_steps as a ratio (transformers 5), or warmup_ratio', () => {
    expect(numWarmupSteps({ warmup_steps: 100, warmup_ratio: 0 }, 5826)).toBe(100);
    expect(numWarmupSteps({ warmup_steps: 0.1, warmup_ratio: 0 }, 95)).toBe(10); // ceil(9.5)
    expect(numWarmupSteps({ warmup_steps: 0, warmup_ratio: 0.03 }, 1000)).toBe(30);
    expect(numWarmupSteps({ warmup_steps: 0, warmup_ratio: 0.03 }, 1001)).toBe(31); // ceil(30.03)
    expect(numWarmupSteps({ warmup_steps: 0, warmup_ratio: 0 }, 1000)).toBe(0);
    expect(numWarmupSteps({ warmup_steps: 2000, warmup_ratio: 0 }, 1000)).toBe(2000); // not capped, as HF
  });

  it('learningRateAt = learning_rate · lambda(step) with the resolved warmup', () => {
    const c = cfg({ learning_rate: 2e-4, lr_scheduler_type: 'linear', warmup_ratio: 0.1 });
    // total 20 → warmup ceil(2) = 2: step 1 → ½ · 2e-4; step 11 → (20 − 11)/18 · 2e-4.
    close(learningRateAt(1, 20, c), 1e-4);
    close(learningRateAt(11, 20, c), (9 / 18) * 2e-4);
    expect(learningRateAt(0, 20, c)).toBe(0);
  });
});

describe('trainingPlan (HF set_initial_training_values)', () => {
  it('lays out the seed pipeline on ultrafeedback_binarized', () => {
    // 62,135 pairs, batch 32: ceil(1941.72) = 1942 batches = 1942 updates per epoch; 3 epochs → 5826 steps.
    const p = trainingPlan(parseRewardConfig({ per_device_train_batch_size: 32, warmup_steps: 100 }), 62135);
    expect(p).toEqual({
      numPairs: 62135, batchesPerEpoch: 1942, updatesPerEpoch: 1942, maxSteps: 5826, numEpochs: 3, epochBased: true, warmupSteps: 100,
      loggingSteps: 10, evalSteps: null, saveSteps: 500,
    });
  });

  it('rounds the last partial accumulation up, and max_steps overrides epochs', () => {
    // 1942 batches, accumulation 4: ceil(485.5) = 486 updates per epoch.
    const ga = trainingPlan(cfg({ per_device_train_batch_size: 32, gradient_accumulation_steps: 4 }), 62135);
    expect([ga.updatesPerEpoch, ga.maxSteps, ga.numEpochs]).toEqual([486, 1458, 3]);
    const ms = trainingPlan(cfg({ per_device_train_batch_size: 32, gradient_accumulation_steps: 4, max_steps: 1000 }), 62135);
    expect([ms.maxSteps, ms.numEpochs, ms.epochBased]).toEqual([1000, 3, false]); // ceil(1000/486)
    const frac = trainingPlan(cfg({ per_device_train_batch_size: 32, gradient_accumulation_steps: 4, num_train_epochs: 1.5 }), 62135);
    expect([frac.maxSteps, frac.numEpochs]).toEqual([729, 2]); // ceil(1.5 · 486), ceil(1.5)
    // Fewer batches than the accumulation: still one update per epoch.
    const tiny = trainingPlan(cfg({ per_device_train_batch_size: 8, gradient_accumulation_steps: 16 }), 10);
    expect([tiny.batchesPerEpoch, tiny.updatesPerEpoch, tiny.maxSteps]).toEqual([2, 1, 3]);
  });

  it('resolves ratio intervals and eval_steps = logging_steps (HF compute_steps, __post_init__)', () => {
    const p = trainingPlan(cfg({ per_device_train_batch_size: 32, gradient_accumulation_steps: 4, num_train_epochs: 1.5, logging_steps: 0.1, eval_strategy: 'steps', save_steps: 0.5 }), 62135);
    expect([p.loggingSteps, p.evalSteps, p.saveSteps]).toEqual([73, 73, 365]); // ceil(72.9), same, ceil(364.5)
    const q = trainingPlan(cfg({ eval_strategy: 'steps', eval_steps: 25, save_strategy: 'no' }), 100);
    expect([q.evalSteps, q.saveSteps]).toEqual([25, null]);
    const w = trainingPlan(cfg({ warmup_steps: 0.05 }), 800); // 100 batches · 3 epochs = 300 steps → ceil(15)
    expect(w.warmupSteps).toBe(15);
  });

  it('refuses an empty training set with what to check', () => {
    expect(() => trainingPlan(defaultRewardConfig(), 0)).toThrow(/max_length filtering/);
  });

  it('splits an epoch into updates of gradient_accumulation_steps micro-batches, the last one shorter', () => {
    const c = cfg({ per_device_train_batch_size: 1, gradient_accumulation_steps: 4 });
    const p = trainingPlan(c, 10); // 10 batches → updates of 4, 4, 2
    expect([0, 1, 2].map((u) => microBatchesInUpdate(p, c, u))).toEqual([4, 4, 2]);
    expect(() => microBatchesInUpdate(p, c, 3)).toThrow(RangeError);
    const even = trainingPlan(c, 8);
    expect([0, 1].map((u) => microBatchesInUpdate(even, c, u))).toEqual([4, 4]);
    expect(() => microBatchesInUpdate(even, c, 2)).toThrow(RangeError);
  });

  it('reports the epoch as HF does and finds interval steps', () => {
    const p = trainingPlan(cfg({ per_device_train_batch_size: 4 }), 10); // 3 batches per epoch
    close(epochProgress(p, 1, 2), 1 + 2 / 3);
    expect([10, 20, 25].map((s) => isIntervalStep(s, 10))).toEqual([true, true, false]);
    expect(isIntervalStep(10, null)).toBe(false);
  });
});
