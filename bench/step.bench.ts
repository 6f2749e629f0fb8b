// One whole training micro-step (forward + loss + backward) and optimizer step of a Qwen3 reward model with
// random weights, at Qwen3-0.6B's dims (or tiny dims), LoRA r=16 on all linears and full fine-tuning: the number
// the studio's tokens/s comes from. Weights are random bf16-shaped f32/bf16 buffers (no checkpoint needed).
import type { Gpu } from '../src/gpu/device.ts';
import { recordKernels, dispatchStats } from '../src/gpu/kernel.ts';
import { buildParamTable, LINEAR_NAMES, type ModelDims } from '../src/model/params.ts';
import { allocateWeights, initNewParams } from '../src/model/weights.ts';
import { Qwen3RewardModel } from '../src/model/qwen3.ts';
import { Optimizer } from '../src/train/optimizer.ts';
import type { Report } from './ops/timing.ts';

const QWEN3_0_6B: ModelDims = { C: 1024, F: 3072, L: 28, H: 16, Hkv: 8, D: 128, V: 151936, eps: 1e-6, theta: 1e6, padId: 151643, initializerRange: 0.02 };
const TINY: ModelDims = { ...QWEN3_0_6B, C: 64, F: 128, L: 2, H: 4, Hkv: 2, D: 32 };

export async function benchStep(gpu: Gpu, report: Report, opts: { tiny?: boolean } = {}): Promise<void> {
  const dims = opts.tiny ? TINY : QWEN3_0_6B;
  const shapes = opts.tiny ? [{ B: 4, T: 32 }] : [{ B: 8, T: 512 }, { B: 2, T: 1024 }];
  for (const mode of ['lora', 'full'] as const) {
    if (mode === 'full' && !opts.tiny) continue; // full FT of 0.6B needs ~10 GB: run with --full explicitly
    const lora = mode === 'lora' ? { r: 16, alpha: 32, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false } : null;
    const table = buildParamTable(dims, { lora, frozenDtype: 'bf16', maxBlockBytes: Math.min(gpu.device.limits.maxBufferSize, gpu.device.limits.maxStorageBufferBindingSize) });
    const w = allocateWeights(gpu, table);
    initNewParams(gpu, w, table.trainable.filter((e) => e.kind !== 'embed').map((e) => e.name), 1);
    for (const { B, T } of shapes) {
      for (const ckpt of [false, true]) {
        const model = new Qwen3RewardModel(gpu, w, { maxB: B, maxT: T, gradientCheckpointing: ckpt, training: true });
        const ids = new Uint32Array(B * T).map((_, i) => (i * 7919) % 150000);
        model.writeInputs(ids, new Uint32Array(B).fill(T), null);
        const plan = model.plan(B, T);
        const opt = new Optimizer(gpu, w, 1);
        const kernels = [...model.forwardKernels(plan), model.lossKernel(plan, B / 2, false, 1, 0), ...model.backwardKernels(plan)];
        const run = async () => {
          const enc = gpu.device.createCommandEncoder();
          recordKernels(enc, kernels);
          recordKernels(enc, opt.kernels);
          gpu.device.queue.submit([enc.finish()]);
          await gpu.device.queue.onSubmittedWorkDone();
        };
        await run();
        const before = dispatchStats.count;
        const reps = opts.tiny ? 1 : 3;
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) await run();
        const ms = (performance.now() - t0) / reps;
        const dispatches = (dispatchStats.count - before) / reps;
        // FLOPs: 6 × (non-embedding params) × tokens for the linears (+ attention's 4·T²·H·D·L/2 forward ×3)
        const linParams = dims.L * (dims.C * (dims.H + 2 * dims.Hkv) * dims.D + dims.H * dims.D * dims.C + 3 * dims.C * dims.F);
        const tokens = B * T;
        const flops = 6 * linParams * tokens + 3 * 2 * dims.L * B * T * T * dims.H * dims.D;
        report(`step ${mode}${ckpt ? '+ckpt' : ''} B=${B} T=${T} (${dispatches} dispatches, ${(tokens / ms * 1000).toFixed(0)} tok/s)`, ms, flops, 0);
        opt.destroy();
        model.destroy();
      }
    }
  }
}
