// The CPU side of the metrics: aggregate() (the train window as HF/TRL log it) and evalMetrics() (TRL's eval
// aggregation), on hand-made numbers whose expected values are worked out in the comments.
import { describe, expect, it } from 'vitest';
import { aggregate, evalMetrics, type MicroRecord } from '../../src/train/metrics.ts';
import { REWARD_METRICS_COUNT } from '../../src/ops/reward_loss.ts';

/** A micro-batch's metric row: [loss, accuracy, margin, min, mean, max, P, 0]. */
function row(loss: number, accuracy: number, margin: number, min: number, mean: number, max: number, P: number): number[] {
  const r = [loss, accuracy, margin, min, mean, max, P, 0];
  expect(r).toHaveLength(REWARD_METRICS_COUNT);
  return r;
}

describe('aggregate (train window)', () => {
  // Step 1: two per_device batches (a full accumulation group of 2); batch 0 (4 pairs) was split into two micro-batches
  // of 2 pairs. Step 2: the epoch's last, partial group: one batch of 3 pairs.
  const micro: MicroRecord[] = [
    { step: 1, batch: 0, P: 2, batchP: 4, batches: 2 },
    { step: 1, batch: 0, P: 2, batchP: 4, batches: 2 },
    { step: 1, batch: 1, P: 4, batchP: 4, batches: 2 },
    { step: 2, batch: 0, P: 3, batchP: 3, batches: 1 },
  ];
  const m = [
    ...row(0.8, 1.0, 0.2, -0.5, 0.1, 0.4, 2),
    ...row(0.6, 0.5, 0.4, -0.7, 0.3, 0.9, 2),
    ...row(0.5, 0.25, 0.0, -0.2, 0.0, 0.2, 4),
    ...row(0.3, 2 / 3, 0.6, -1.0, -0.1, 1.5, 3),
  ];
  const n = [3.0, 0.33, 2.0, 0.5]; // [norm, clip coef] per step

  it('recombines split batches and means over batches; loss divides each step by its own batch count (HF)', () => {
    const { metrics, nonFinite } = aggregate(micro, m, [1, 2], n);
    expect(nonFinite).toBeNull();
    // batch (1,0) = weighted by P/batchP: loss 0.7, acc 0.75, margin 0.3, min min(-0.5,-0.7) = -0.7, mean 0.2, max 0.9
    // step 1: (0.7 + 0.5) / 2 batches = 0.6; step 2 (partial group of 1 batch): 0.3 / 1 = 0.3 → window mean 0.45
    // (dividing by gradient_accumulation_steps = 2 would give (0.6 + 0.15) / 2 = 0.375)
    expect(metrics.loss).toBeCloseTo(0.45, 12);
    expect(metrics.accuracy).toBeCloseTo((0.75 + 0.25 + 2 / 3) / 3, 12);
    expect(metrics.margin).toBeCloseTo((0.3 + 0.0 + 0.6) / 3, 12);
    expect(metrics.min_reward).toBeCloseTo((-0.7 - 0.2 - 1.0) / 3, 12); // mean of per-batch minima
    expect(metrics.mean_reward).toBeCloseTo((0.2 + 0.0 - 0.1) / 3, 12);
    expect(metrics.max_reward).toBeCloseTo((0.9 + 0.2 + 1.5) / 3, 12);
    expect(metrics.grad_norm).toBe(2.0); // the last step's pre-clip norm
  });

  it('names the first non-finite loss or gradient norm with its step', () => {
    const bad = [...m];
    bad[3 * REWARD_METRICS_COUNT] = NaN;
    expect(aggregate(micro, bad, [1, 2], n).nonFinite).toEqual({ step: 2, what: 'loss', value: NaN });
    expect(aggregate(micro, m, [1, 2], [Infinity, 0, 1, 1]).nonFinite).toEqual({ step: 1, what: 'grad_norm', value: Infinity });
  });
});

describe('evalMetrics (TRL eval aggregation)', () => {
  // 5 pairs in eval batches of 2, 2, 1.
  const chosen = [1.0, 0.0, 0.5, -1.0, 2.0];
  const rejected = [0.0, 1.0, 0.0, -0.5, 3.0];
  const lsig = (d: number) => Math.log(1 + Math.exp(-d)); // -logsigmoid(d)

  it('averages per-batch values; loss is weighted by batch size; extras under their own names', () => {
    const e = evalMetrics(chosen, rejected, null, 2);
    const b = [
      { loss: (lsig(1) + lsig(-1)) / 2, acc: 0.5, margin: 0, min: 0, max: 1, mean: 0.5 },
      { loss: (lsig(0.5) + lsig(-0.5)) / 2, acc: 0.5, margin: 0, min: -1, max: 0.5, mean: -0.25 },
      { loss: lsig(-1), acc: 0, margin: -1, min: 2, max: 3, mean: 2.5 },
    ];
    expect(e.loss).toBeCloseTo((2 * b[0].loss + 2 * b[1].loss + b[2].loss) / 5, 12);
    expect(e.accuracy).toBeCloseTo((0.5 + 0.5 + 0) / 3, 12); // the global view would be 2/5
    expect(e.margin).toBeCloseTo(-1 / 3, 12);
    expect(e.min_reward).toBeCloseTo((0 - 1 + 2) / 3, 12); // mean of minima, not the global -1
    expect(e.max_reward).toBeCloseTo((1 + 0.5 + 3) / 3, 12);
    expect(e.mean_reward).toBeCloseTo((0.5 - 0.25 + 2.5) / 3, 12);
    expect(e.num_pairs).toBe(5);
    expect(e.global_min_reward).toBe(-1);
    expect(e.global_max_reward).toBe(3);
  });

  it('subtracts margins and adds the centering term per batch', () => {
    const margins = [0.5, -0.5, 0, 0, 1];
    const e = evalMetrics(chosen, rejected, margins, 5, 0.01);
    let loss = 0, c2 = 0;
    for (let i = 0; i < 5; i++) {
      loss += lsig(chosen[i] - rejected[i] - margins[i]);
      c2 += (chosen[i] + rejected[i]) ** 2;
    }
    expect(e.loss).toBeCloseTo(loss / 5 + (0.01 * c2) / 5, 12);
  });
});

describe('pairMetrics (global view: every pair in one batch)', () => {
  it('equals the plain per-pair means and the global min/max', async () => {
    const { pairMetrics } = await import('../../src/train/trainer.ts');
    const chosen = [1.0, 0.0, 0.5, -1.0, 2.0];
    const rejected = [0.0, 1.0, 0.0, -0.5, 3.0];
    const m = pairMetrics(chosen, rejected, [0, 0, 0, 0, 0]);
    let loss = 0;
    for (let i = 0; i < 5; i++) loss += Math.log(1 + Math.exp(-(chosen[i] - rejected[i])));
    expect(m.loss).toBeCloseTo(loss / 5, 12);
    expect(m.accuracy).toBeCloseTo(2 / 5, 12);
    expect(m.margin).toBeCloseTo((1 - 1 + 0.5 - 0.5 - 1) / 5, 12);
    expect(m.min_reward).toBe(-1);
    expect(m.max_reward).toBe(3);
    expect(m.mean_reward).toBeCloseTo((1 + 1 + 0.5 - 1.5 + 5) / 10, 12);
    expect(m.num_pairs).toBe(5);
    expect(Object.keys(m).sort()).toEqual(['accuracy', 'loss', 'margin', 'max_reward', 'mean_reward', 'min_reward', 'num_pairs']);
  });
});
