// Reward loss (TRL RewardTrainer: Bradley–Terry with optional margin and center_rewards_coefficient), its gradient and
// metrics on the GPU against the float64 reference; the reference gradient against finite differences.
import { describe, expect, it } from 'vitest';
import { rewardLossForward } from '../../src/ops/reward_loss.ts';
import { rewardLossBackwardRef, rewardLossRef, rewardMetricsRef } from '../../src/ops/reward_loss.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { checkGradFD, expectClose, roundF32 } from '../helpers/check.ts';

// Inputs are f32-rounded, so the only GPU errors are f32 arithmetic: d = r_c − r_r − m rounds with relative error
// 2^-24 (absolute ≤ 1e-4 at |d| ~ 1000), exp/log1p are a few ulp, and sums of ≤ 300 terms (sequential per thread,
// then a tree) add ≲ 20 ulp. Loss/metrics: rtol 1e-5. Gradients: sigmoid(−d)/P has relative error ≈ |d|·2^-24 from
// the rounding of d (≤ 3e-5 at |d| = 500), and underflows to 0 where the reference is < 1e-38: atol 1e-9 + rtol 5e-5.
const TOL_METRICS = { atol: 1e-6, rtol: 1e-5 };
const TOL_GRAD = { atol: 1e-9, rtol: 5e-5 };

interface Case { P: number; scale: number; margins?: boolean; c?: number; gradScale?: number; ties?: boolean; seed: number }

async function runCase({ P, scale, margins = false, c = 0, gradScale = 1, ties = false, seed }: Case) {
  const gpu = await getTestGpu();
  const rng = new Rng(seed);
  const rewards = roundF32(randomArray(rng, 2 * P, -scale, scale));
  if (ties) for (let i = 0; i < P; i += 2) rewards[P + i] = rewards[i];
  const marg = margins ? roundF32(randomArray(rng, P, 0, 2)) : null;
  const off = 8; // metrics slot 1 of 3: the kernel must touch only [8, 16)
  const metricsB = f32Buffer(gpu, 'metrics', new Float32Array(24).fill(-3));
  const rB = f32Buffer(gpu, 'rewards', rewards), dB = createStorage(gpu, 'drewards', 2 * P * 4);
  const mB = marg ? f32Buffer(gpu, 'margins', marg) : null;
  await runKernels(gpu, [rewardLossForward(gpu, metricsB, dB, rB, mB, P, { centerRewardsCoefficient: c, gradScale, metricsOffset: off })]);

  const metrics = await readF32(gpu, metricsB, 24);
  const ref = rewardMetricsRef(rewards, marg, P, c);
  const got = Array.from(metrics.subarray(off, off + 8));
  expect(got.every(Number.isFinite), `metrics finite: ${got}`).toBe(true);
  expectClose('metrics', got, ref, TOL_METRICS);
  expect(got[1], 'accuracy is an exact count / P').toBe(Math.fround(ref[1]));
  expect(got[3], 'min_reward is exact').toBe(ref[3]);
  expect(got[5], 'max_reward is exact').toBe(ref[5]);
  expect([...metrics.subarray(0, off), ...metrics.subarray(off + 8)].every((v) => v === -3), 'other slots untouched').toBe(true);

  const dRef = new Float64Array(2 * P);
  rewardLossBackwardRef(dRef, rewards, marg, P, c, gradScale);
  const d = await readF32(gpu, dB, 2 * P);
  expect(d.every(Number.isFinite), 'drewards finite').toBe(true);
  expectClose('drewards', d, dRef, TOL_GRAD);
  return got;
}

describe('reward_loss', () => {
  const cases: Case[] = [
    { P: 1, scale: 3, seed: 1 },
    { P: 7, scale: 3, seed: 2 },
    { P: 7, scale: 3, margins: true, seed: 3 },
    { P: 7, scale: 3, c: 0.01, gradScale: 0.25, seed: 4 },
    { P: 300, scale: 5, margins: true, c: 0.01, gradScale: 0.5, seed: 5 }, // more pairs than threads
    { P: 33, scale: 500, seed: 6 },                                         // |d| up to 1000: stable tails
    { P: 33, scale: 500, margins: true, c: 0.01, seed: 7 },
    { P: 9, scale: 3, ties: true, seed: 8 },
  ];
  for (const cs of cases) {
    it(`matches float64: ${JSON.stringify(cs)}`, async () => {
      await runCase(cs);
    });
  }

  it('all ties: accuracy 0 (strict >), loss log 2, margin 0', async () => {
    const gpu = await getTestGpu();
    const P = 5;
    const rewards = [0.5, -1, 2, 3.25, 0, 0.5, -1, 2, 3.25, 0];
    const metricsB = createStorage(gpu, 'metrics', 32), dB = createStorage(gpu, 'drewards', 2 * P * 4);
    await runKernels(gpu, [rewardLossForward(gpu, metricsB, dB, f32Buffer(gpu, 'r', rewards), null, P)]);
    const m = await readF32(gpu, metricsB, 8);
    expect(m[1]).toBe(0);
    expect(m[2]).toBe(0);
    expect(Math.abs(m[0] - Math.LN2)).toBeLessThan(1e-6);
    expectClose('drewards', await readF32(gpu, dB, 2 * P), [...Array(P).fill(-0.5 / P), ...Array(P).fill(0.5 / P)], TOL_GRAD);
  });

  it('extreme rewards ±500: values from the closed form, no NaN/Inf', async () => {
    const gpu = await getTestGpu();
    // pair 0: d = +1000 → loss term ~ 0; pair 1: d = −1000 → loss term 1000 exactly-ish; gradient: sigmoid(−d)/P.
    const rewards = [500, -500, -500, 500];
    const metricsB = createStorage(gpu, 'metrics', 32), dB = createStorage(gpu, 'drewards', 16);
    await runKernels(gpu, [rewardLossForward(gpu, metricsB, dB, f32Buffer(gpu, 'r', rewards), null, 2)]);
    const m = await readF32(gpu, metricsB, 8);
    expectClose('metrics', Array.from(m), [500, 0.5, 0, -500, 0, 500, 2, 0], { atol: 1e-6, rtol: 1e-7 });
    expectClose('drewards', await readF32(gpu, dB, 4), [0, -0.5, 0, 0.5], { atol: 1e-30, rtol: 1e-7 });
  });

  it('small |d|: log1p path keeps relative accuracy of tiny loss terms', async () => {
    const gpu = await getTestGpu();
    // d = 20 → loss = log1p(e^-20) ≈ 2.06e-9; a plain log(1 + e^-20) in f32 would give 0.
    const rewards = [10, -10];
    const metricsB = createStorage(gpu, 'metrics', 32), dB = createStorage(gpu, 'drewards', 8);
    await runKernels(gpu, [rewardLossForward(gpu, metricsB, dB, f32Buffer(gpu, 'r', rewards), null, 1)]);
    const m = await readF32(gpu, metricsB, 8);
    expectClose('loss', [m[0]], [Math.log1p(Math.exp(-20))], { atol: 0, rtol: 1e-5 });
  });

  it('reference gradient matches finite differences (margins, center coefficient)', () => {
    const P = 6;
    const rng = new Rng(9);
    const rewards = randomArray(rng, 2 * P, -4, 4), marg = randomArray(rng, P, 0, 1);
    for (const c of [0, 0.01, 0.3]) {
      for (const m of [null, marg]) {
        const d = new Float64Array(2 * P);
        rewardLossBackwardRef(d, rewards, m, P, c, 1);
        checkGradFD(`drewards c=${c} margins=${!!m}`, (r) => rewardLossRef(r, m, P, c), rewards, d);
      }
    }
  });

  it('rejects bad arguments with the place and the fix', async () => {
    const gpu = await getTestGpu();
    const b = createStorage(gpu, 'b', 64);
    expect(() => rewardLossForward(gpu, b, b, b, null, 0)).toThrow(/P = 0/);
    expect(() => rewardLossForward(gpu, b, b, b, null, 2, { metricsOffset: 12 })).toThrow(/metricsOffset/);
    expect(() => rewardLossForward(gpu, b, b, b, null, 2, { centerRewardsCoefficient: -1 })).toThrow(/center_rewards_coefficient/);
  });
});
