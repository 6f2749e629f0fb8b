// Bradley–Terry loss of TRL's RewardTrainer with its gradient and metrics, one kernel. Shader: shaders/reward_loss.wgsl.
// Reference: ./reward_loss.ref.ts. Test: tests/ops/reward_loss.test.ts.
//
// rewards (2P,) f32: chosen at [0,P), rejected at [P,2P) (TRL concatenates chosen then rejected).
// loss = -mean(logsigmoid(r_c - r_r - m)) + c·mean((r_c + r_r)²), m = margins (if given), c = center_rewards_coefficient.
// drewards (2P,) = gradScale · ∂loss/∂rewards, assigned.
//
// Micro-batch weighting (gradient accumulation): HF Trainer divides each micro-batch's loss by
// gradient_accumulation_steps k before backward (RewardTrainer's loss takes no num_items_in_batch), so the summed
// gradient of an optimizer step is (1/k)·Σ_microbatches ∇(mean over that micro-batch's own P pairs). Pass
// gradScale = 1/k for every micro-batch: each micro-batch has weight 1/k whatever its P (a short last micro-batch
// weighs its pairs more, exactly as in HF). The reported loss metric is the unscaled micro-batch loss.
//
// metrics: f32 at [metricsOffset, metricsOffset+8) ← [loss, accuracy, margin, min_reward, mean_reward, max_reward, P, 0]
//   accuracy = mean(r_c > r_r) (strict; ties count 0), margin = mean(r_c − r_r) (without the margin column),
//   min/mean/max over the 2P rewards together.
// Buffer arguments may be whole GPUBuffers or ranges of one (Buf); element offsets count from the range's start.
import code from '../../shaders/reward_loss.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bufLabel, bufSize, simpleKernel } from '../gpu/kernel.ts';
import { createStorage } from '../gpu/buffers.ts';

const WG = 256;
export const REWARD_METRICS = ['loss', 'accuracy', 'margin', 'min_reward', 'mean_reward', 'max_reward', 'num_pairs', 'unused'] as const;
export const REWARD_METRICS_COUNT = 8;

export interface RewardLossOptions {
  /** center_rewards_coefficient; 0 or undefined = off (TRL's None). */
  centerRewardsCoefficient?: number;
  /** 1/gradient_accumulation_steps (default 1). */
  gradScale?: number;
  /** Float offset of the 8 metrics in `metrics` (default 0). */
  metricsOffset?: number;
}

// metrics (≥ off+8,) f32, drewards (2P,) f32 out; rewards (2P,) f32, margins (P,) f32 or null.
export function rewardLossForward(
  gpu: Gpu, metrics: Buf, drewards: Buf, rewards: Buf, margins: Buf | null, P: number,
  opts: RewardLossOptions = {},
): Kernel {
  const label = 'reward_loss_forward';
  const c = opts.centerRewardsCoefficient ?? 0;
  const gradScale = opts.gradScale ?? 1;
  const off = opts.metricsOffset ?? 0;
  if (!Number.isInteger(P) || P < 1) throw new Error(`${label}: P = ${P} pairs must be a positive integer`);
  if (!Number.isFinite(c) || c < 0) throw new Error(`${label}: center_rewards_coefficient = ${c} must be a finite number ≥ 0`);
  if (!Number.isFinite(gradScale)) throw new Error(`${label}: gradScale = ${gradScale} must be finite`);
  if (!Number.isInteger(off) || off < 0 || (off + REWARD_METRICS_COUNT) * 4 > bufSize(metrics))
    throw new Error(`${label}: metricsOffset ${off} + 8 floats does not fit metrics ${bufLabel(metrics)} (${bufSize(metrics)} bytes)`);
  if (bufSize(rewards) < 2 * P * 4 || bufSize(drewards) < 2 * P * 4) throw new Error(`${label}: rewards/drewards hold fewer than 2P = ${2 * P} floats`);
  if (margins && bufSize(margins) < P * 4) throw new Error(`${label}: margins hold fewer than P = ${P} floats`);
  // Layout 'auto' keeps `margins` bound even when HAS_MARGIN is false: bind a 4-byte dummy, owned by the kernel.
  const owned: GPUBuffer[] = [];
  let m: Buf | null = margins;
  if (!m) owned.push((m = createStorage(gpu, `${label}.no_margins`, 4)));
  const k = simpleKernel(gpu, { label, code, entryPoint: 'forward', constants: { WG, HAS_MARGIN: margins ? 1 : 0 } },
    [metrics, drewards, rewards, m], [P, off, c, gradScale], [1, 1, 1], new Set([2, 3]));
  k.owned.push(...owned);
  return k;
}
