// The step benchmark shared by `npm run bench` (Node + Dawn) and the studio's "Benchmark this GPU" (train worker):
// one training step (micro-step forward + loss + backward through MicroStepRunner, as the trainer submits it, then
// the optimizer) of a Qwen3 reward model with random weights, on a micro-batch of unequal sequence lengths, and its
// structure: dispatches per layer and per step, submissions, GPU objects created per step after the first (via
// the counting wrapper in src/gpu/stats.ts), rows the token-parallel ops process vs real tokens. Time: GPU
// timestamp queries around the step's kernels (forward, loss, backward, optimizer in one pass: the GPU's own time,
// no submission or readback gaps) where the adapter has `timestamp-query`, else the wall clock (submit to
// onSubmittedWorkDone); `timing` says which, and `ms_wall` is always the wall clock of the step as the trainer
// submits it. A benchmark, not a test: nothing asserts on time.
import { checkGemmVariants } from '../ops/sgmat_check.ts';
import { bf16ScaleRange, recordBf16Range } from '../ops/f16_tiles.ts';
import type { Gpu } from '../gpu/device.ts';
import { dispatchStats, recordKernels } from '../gpu/kernel.ts';
import { timeGpu } from '../gpu/timer.ts';
import { allocationCount, countAllocations, submitCounted, submitStats } from '../gpu/stats.ts';
import { buildParamTable, LINEAR_NAMES, type ModelDims } from '../model/params.ts';
import { allocateWeights, destroyWeights, initNewParams } from '../model/weights.ts';
import { Qwen3RewardModel } from '../model/qwen3.ts';
import { Optimizer } from '../train/optimizer.ts';
import { MicroStepRunner } from '../train/micro_step.ts';
import { packSequences } from '../train/batches.ts';
import { attentionFlops } from '../ops/attention.ts';
import { Rng } from '../util/random.ts';
import type { ActivationDtype, CheckpointMode } from '../model/activations.ts';
import { chooseCheckpointing } from '../train/session.ts';

export const QWEN3_0_6B_DIMS: ModelDims = { C: 1024, F: 3072, L: 28, H: 16, Hkv: 8, D: 128, V: 151936, eps: 1e-6, theta: 1e6, padId: 151643, initializerRange: 0.02 };
/** Tiny dims for CPU (SwiftShader) runs: the real structure, small sizes (vocab cut so the table stays small). */
export const TINY_DIMS: ModelDims = { ...QWEN3_0_6B_DIMS, C: 64, F: 128, L: 2, H: 4, Hkv: 2, D: 32, V: 1024, padId: 1000 };

export interface StepConfig {
  mode: 'lora' | 'full';
  /** true = 'full', false = 'none', unless `checkpointing` is given. */
  gradientCheckpointing: boolean;
  checkpointing?: CheckpointMode;
  /** Storage of the saved activations (default float32). */
  activationDtype?: ActivationDtype;
  /** Pairs per micro-batch (2× sequences). */
  pairs: number;
  /** max_length: the longest sequence; the others are drawn shorter (unequal lengths). */
  maxLength: number;
  /** Fixed layers per submission (0: the trainer's default budget of 250 ms per submission, from measured speed). */
  layersPerSubmission?: number;
  /** Submission budget in ms (default 250; Infinity: one submission per micro-step). */
  budgetMs?: number;
}

export interface StepResult {
  name: string;
  mode: 'lora' | 'full';
  /** TRL's meaning: every layer recomputed (checkpointing_mode 'full'). */
  gradient_checkpointing: boolean;
  /** What the backward recomputes (src/model/activations.ts): none, selective, selective_mlp or full. */
  checkpointing_mode: CheckpointMode;
  /** Storage of the saved activations (src/model/activations.ts): float32, or float16 (packed per layer). */
  activation_dtype: ActivationDtype;
  pairs: number;
  max_length: number;
  layers: number;
  dispatches_per_layer: number;
  /** The last layer's dispatches (forward, recompute, backward; after attention on the B pooled rows only). */
  last_layer_dispatches: number;
  /** Model-counted FLOPs of the last layer per step: as run (pooled rows), and were every row computed. */
  last_layer_flops: number;
  last_layer_flops_all_rows: number;
  /** Dispatches of attention per layer in one micro-step (forward, recompute when checkpointing, backward), from the plan. */
  attention_dispatches_per_layer: number;
  /** Model-counted attention FLOPs per real token (all layers; causal pairs of each sequence, src/ops/attention.ts). */
  attention_flops_fwd_per_token: number;
  attention_flops_bwd_per_token: number;
  /** Dispatches per micro-step that run on subgroup matrices (src/ops/matmul_sgmat.ts; 0 where the variant is off). */
  matrix_unit_dispatches: number;
  dispatches_per_step: number;
  submissions_per_micro_step: number;
  submissions_per_step: number;
  allocations_per_step: number;
  rows_processed: number;
  real_tokens: number;
  padded_tokens: number;
  bytes_read_back_per_step: number;
  /** Step time by `timing`: GPU timestamps where the adapter has them, else = ms_wall. */
  ms: number;
  /** Wall clock of the step as the trainer submits it (submissions, waits). */
  ms_wall: number;
  tokens_per_second: number;
  tflops: number;
  timing: 'gpu-timestamps' | 'wall-clock';
}

export function stepName(c: StepConfig): string {
  const split = c.layersPerSubmission ? ` split/${c.layersPerSubmission}` : '';
  const m = ckptMode(c);
  return `${c.mode}${m === 'full' ? '+ckpt' : m === 'none' ? '' : `+${m}`}${c.activationDtype === 'float16' ? '+f16' : ''} P=${c.pairs} T=${c.maxLength}${split}`;
}

export function ckptMode(c: StepConfig): CheckpointMode {
  return c.checkpointing ?? (c.gradientCheckpointing ? 'full' : 'none');
}

/** Sequence lengths of a micro-batch: the first is maxLength, the rest drawn in [maxLength/4, maxLength] (seeded). */
export function benchLengths(B: number, maxLength: number, seed = 1): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: B }, (_, i) => (i === 0 ? maxLength : Math.max(1, Math.round(maxLength * (0.25 + 0.75 * rng.uniform())))));
}

/** FLOPs of one training step: 6 × linear params × real tokens + attention (causal, fwd + 2× bwd), + recompute
 *  (full: the forward; selective_mlp: the gate|up product; selective: elementwise only, not counted). The last layer
 *  runs o_proj and the MLP on the B pooled rows only (`pooledLastLayer`, the model's default: src/model/qwen3.ts). */
export function stepFlops(d: ModelDims, lengths: number[], ckpt: boolean | CheckpointMode, pooledLastLayer = true): number {
  return (d.L - 1) * layerFlops(d, lengths, ckpt, false) + layerFlops(d, lengths, ckpt, pooledLastLayer);
}

/** FLOPs of one decoder layer in a training step (stepFlops' count); `pooled` (the last layer): attention for the B
 *  pooled queries only (each against its whole sequence, the pooled row counted as the last), o_proj, gate|up and
 *  down on the B pooled rows; q|k|v on every token. */
export function layerFlops(d: ModelDims, lengths: number[], ckpt: boolean | CheckpointMode, pooled: boolean): number {
  const mode = ckpt === true ? 'full' : ckpt === false ? 'none' : ckpt;
  const tokens = lengths.reduce((a, b) => a + b, 0);
  const rowsAfter = pooled ? lengths.length : tokens; // rows after attention
  const qkv = 2 * d.C * (d.H + 2 * d.Hkv) * d.D;
  const after = 2 * (d.H * d.D * d.C + 3 * d.C * d.F); // o, gate|up, down
  // QKᵀ and PV, causal half: 2·(2·T²/2); one query per sequence: 2·2·T
  const att = lengths.reduce((s, t) => s + (pooled ? 4 * t : 2 * t * t) * d.H * d.D, 0);
  const fwd = qkv * tokens + after * rowsAfter + att;
  return 3 * fwd + (mode === 'full' ? fwd : mode === 'selective_mlp' ? 2 * d.C * 2 * d.F * rowsAfter : 0);
}

/** Runs `reps` timed steps of one configuration after one warm-up step. */
export async function benchStep(gpu: Gpu, dims: ModelDims, c: StepConfig, reps: number): Promise<StepResult> {
  await checkGemmVariants(gpu);
  countAllocations(gpu.device);
  const lora = c.mode === 'lora' ? { r: 16, alpha: 32, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false } : null;
  const lim = gpu.device.limits;
  const table = buildParamTable(dims, { lora, frozenDtype: 'bf16', maxBlockBytes: Math.min(lim.maxBufferSize, lim.maxStorageBufferBindingSize) });
  const w = allocateWeights(gpu, table);
  initNewParams(gpu, w, table.trainable.filter((e) => e.kind !== 'embed').map((e) => e.name), 1);
  // The frozen bf16 weights stay zero, which f16 holds exactly: recorded as the loader records a checked tensor, so
  // the GEMM takes its f16 weight tiles where the device has shader-f16 (REWARD_STUDIO_FLAGS=noF16 for the f32 tiles).
  for (const e of table.frozen) if (e.dtype === 'bf16') recordBf16Range(w.frozenBlocks[e.block], e.offset, e.bytes, bf16ScaleRange(new Uint16Array(0)));
  const B = 2 * c.pairs;
  const lengths = benchLengths(B, c.maxLength);
  const rng = new Rng(7);
  const seqs = lengths.map((n) => Uint32Array.from({ length: n }, () => rng.int(dims.padId)));
  const mb = packSequences(seqs, dims.padId, c.maxLength);
  const model = new Qwen3RewardModel(gpu, w, { maxB: B, maxT: mb.T, gradientCheckpointing: c.gradientCheckpointing, checkpointing: c.checkpointing, activationDtype: c.activationDtype, training: true });
  const opt = new Optimizer(gpu, w, 1);
  const runner = new MicroStepRunner(gpu, model, { budgetMs: c.budgetMs, layersPerSubmission: c.layersPerSubmission });
  try {
    const step = async () => {
      model.writeInputs(mb.ids, mb.lengths, null);
      const plan = model.plan(mb.B, mb.T);
      const loss = model.lossKernel(plan, c.pairs, false, 1, 0);
      await runner.run(plan, loss, 'bench micro-step');
      const enc = gpu.device.createCommandEncoder({ label: 'bench optimizer' });
      recordKernels(enc, opt.kernels, 'optimizer');
      submitCounted(gpu.device, [enc.finish()]);
      await gpu.device.queue.onSubmittedWorkDone();
      return plan;
    };
    // Warm-up: pipelines, plans, bind groups, and (with a budget) the speed measurement that sizes submissions.
    await step();
    const plan = await step();
    const a0 = allocationCount(), s0 = submitStats.count, d0 = dispatchStats.count;
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await step();
    const msWall = (performance.now() - t0) / reps;
    const optSubs = 1;
    const subs = (submitStats.count - s0) / reps;
    const a1 = allocationCount(), d1 = dispatchStats.count;
    // GPU time of the same kernels in one timed pass (timer's query set and buffers are outside the counts above).
    const kernels = [...model.forwardKernels(plan), model.lossKernel(plan, c.pairs, false, 1, 0), ...model.backwardKernels(plan), ...opt.kernels];
    const gpuTime = gpu.hasTimestamps ? await timeGpu(gpu, kernels, reps) : null;
    const timed = gpuTime?.method === 'timestamp';
    const ms = timed ? gpuTime.ms : msWall;
    const realTokens = lengths.reduce((a, b) => a + b, 0);
    const att = attentionFlops(lengths, dims.H, dims.D);
    return {
      name: stepName(c), mode: c.mode, gradient_checkpointing: model.checkpointing === 'full', checkpointing_mode: model.checkpointing, activation_dtype: model.activationDtype, pairs: c.pairs, max_length: c.maxLength,
      layers: dims.L,
      dispatches_per_layer: model.layerDispatches(plan),
      last_layer_dispatches: model.layerDispatches(plan, dims.L - 1),
      last_layer_flops: layerFlops(dims, lengths, model.checkpointing, true),
      last_layer_flops_all_rows: layerFlops(dims, lengths, model.checkpointing, false),
      attention_dispatches_per_layer: [...plan.layers[0], ...model.layerBackwardKernels(plan, 0)] // recompute included
        .filter((k) => k.label.startsWith('attention_')).reduce((n, k) => n + k.dispatches.length, 0),
      attention_flops_fwd_per_token: (dims.L * att.forward) / realTokens,
      attention_flops_bwd_per_token: (dims.L * att.backward) / realTokens,
      matrix_unit_dispatches: kernels.flatMap((k) => k.dispatches).filter((d) => d.pipeline.label.startsWith('matmul+sgmat')).length,
      dispatches_per_step: (d1 - d0) / reps,
      submissions_per_micro_step: subs - optSubs,
      submissions_per_step: subs,
      allocations_per_step: (a1 - a0) / reps,
      rows_processed: plan.M,
      real_tokens: realTokens,
      padded_tokens: mb.B * mb.T,
      bytes_read_back_per_step: 0,
      ms,
      ms_wall: msWall,
      tokens_per_second: realTokens / (ms / 1000),
      tflops: stepFlops(dims, lengths, model.checkpointing) / (ms / 1000) / 1e12,
      timing: timed ? 'gpu-timestamps' : 'wall-clock',
    };
  } finally {
    opt.destroy();
    model.destroy();
    destroyWeights(w);
  }
}

/** The configurations `npm run bench` and the studio run: tiny (CPU, structure: every checkpointing mode) or the
 *  real matrix, each in the checkpointing mode the trainer would choose for `budgetBytes` (default 24 GiB) with
 *  gradient_checkpointing unset (src/train/session.ts chooseCheckpointing). */
export function stepConfigs(tiny: boolean, opts: { full?: boolean; budgetBytes?: number } = {}): StepConfig[] {
  if (tiny) {
    const base = { pairs: 2, maxLength: 64 };
    return [
      { mode: 'lora', gradientCheckpointing: true, ...base, budgetMs: Infinity },
      { mode: 'lora', gradientCheckpointing: false, ...base, budgetMs: Infinity },
      { mode: 'full', gradientCheckpointing: true, ...base, budgetMs: Infinity },
      { mode: 'full', gradientCheckpointing: false, ...base, budgetMs: Infinity },
      { mode: 'lora', gradientCheckpointing: false, checkpointing: 'selective', ...base, budgetMs: Infinity },
      { mode: 'lora', gradientCheckpointing: false, checkpointing: 'selective_mlp', ...base, budgetMs: Infinity },
      { mode: 'lora', gradientCheckpointing: false, activationDtype: 'float16', ...base, budgetMs: Infinity },
      { mode: 'lora', gradientCheckpointing: true, ...base, layersPerSubmission: 1 },
    ];
  }
  const out: StepConfig[] = [];
  for (const mode of opts.full ? (['lora', 'full'] as const) : (['lora'] as const)) {
    for (const maxLength of [256, 512, 1024]) {
      for (const pairs of [1, 4, 8]) {
        const lora = mode === 'lora' ? { r: 16, alpha: 32, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false } : null;
        const base = { dims: QWEN3_0_6B_DIMS, lora, frozenDtype: 'bf16' as const, maxLength, gradientCheckpointing: false, maxBlockBytes: 2 ** 31 };
        const { mode: checkpointing, activationDtype } = chooseCheckpointing(base, { gradient_checkpointing: null }, pairs, opts.budgetBytes ?? 24 * 2 ** 30, 2 ** 31);
        out.push({ mode, gradientCheckpointing: checkpointing === 'full', checkpointing, activationDtype, pairs, maxLength });
      }
    }
  }
  return out;
}

/** PyTorch's numbers for the same configurations (tools/bench_torch.py --json): matched by mode, ckpt, pairs, T. */
export interface TorchStep {
  mode: string;
  gradient_checkpointing?: boolean;
  pairs: number;
  max_length: number;
  precision?: string;
  dtype?: string;
  tokens_per_second: number;
}

/** ours/PyTorch tokens-per-second ratios per precision for one of our results. */
export function torchRatios(r: StepResult, torch: TorchStep[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of torch) {
    if (t.mode !== r.mode || t.pairs !== r.pairs || t.max_length !== r.max_length) continue;
    if (t.gradient_checkpointing !== undefined && t.gradient_checkpointing !== r.gradient_checkpointing) continue;
    out[t.precision ?? t.dtype ?? 'fp32'] = r.tokens_per_second / t.tokens_per_second;
  }
  return out;
}
