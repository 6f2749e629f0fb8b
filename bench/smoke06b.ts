// Smoke test at Qwen3-0.6B's real dims (random weights, tiny batch; `npm run bench:smoke`): one LoRA and one full fine-tuning step inside
// GPU error scopes, to catch limit/validation problems that tiny test shapes cannot (D=128 attention, V=151936,
// multi-block parameters). Not part of npm test (slow on SwiftShader). Run: node --import tsx --import ./tools/node-hooks.mjs bench/smoke06b.ts
import { requestNodeGpu } from '../src/gpu/node.ts';
import { checked, describeGpu } from '../src/gpu/device.ts';
import { recordKernels } from '../src/gpu/kernel.ts';
import { readF32, writeBuffer } from '../src/gpu/buffers.ts';
import { buildParamTable, LINEAR_NAMES, type ModelDims } from '../src/model/params.ts';
import { allocateWeights, initNewParams, destroyWeights, type ModelWeights } from '../src/model/weights.ts';
import { Qwen3RewardModel } from '../src/model/qwen3.ts';
import { Optimizer } from '../src/train/optimizer.ts';

/** Random weights (≈ N(0, 0.02) for matrices, 1 for norms), generated in 16 MiB chunks with a cheap LCG. */
function fillRandom(w: ModelWeights): void {
  let x = 12345;
  const rnd = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5) * 0.07; // uniform, std ≈ 0.02
  const bf16 = (v: number) => (new Uint32Array(new Float32Array([v]).buffer)[0] >>> 16) & 0xffff;
  for (const e of [...w.table.frozen, ...w.table.trainable]) {
    if (e.kind === 'lora_A' || e.kind === 'lora_B' || e.kind === 'score') continue;
    const fr = w.frozen.get(e.name);
    const dst = fr?.buffer ?? w.params[e.block];
    const base = fr ? (fr.offset ?? 0) : e.offset;
    const words = e.bytes / 4;
    for (let start = 0; start < words; start += 1 << 22) {
      const n = Math.min(1 << 22, words - start);
      const chunk = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        if (e.kind === 'norm') chunk[i] = 0x3f800000; // f32 1.0
        else if (e.dtype === 'bf16') chunk[i] = bf16(rnd()) | (bf16(rnd()) << 16);
        else chunk[i] = new Uint32Array(new Float32Array([rnd()]).buffer)[0];
      }
      writeBuffer(gpu, dst, chunk, base + start * 4);
    }
  }
}

const dims: ModelDims = { C: 1024, F: 3072, L: 28, H: 16, Hkv: 8, D: 128, V: 151936, eps: 1e-6, theta: 1e6, padId: 151643, initializerRange: 0.02 };
const gpu = await requestNodeGpu({ swiftShaderFallback: true });
console.log(describeGpu(gpu), 'maxStorageBufferBindingSize', gpu.device.limits.maxStorageBufferBindingSize);
for (const mode of (process.argv[2] ?? 'lora,full').split(',')) {
  const lora = mode === 'lora' ? { r: 16, alpha: 32, dropout: 0.05, targets: [...LINEAR_NAMES], useRslora: false } : null;
  const table = buildParamTable(dims, { lora, frozenDtype: 'bf16', maxBlockBytes: Math.min(gpu.device.limits.maxBufferSize, gpu.device.limits.maxStorageBufferBindingSize) });
  console.log(mode, 'trainable blocks', table.trainableBlockBytes.map((b) => (b / 2 ** 20).toFixed(0) + ' MiB').join(', '));
  const t0 = performance.now();
  const w = allocateWeights(gpu, table);
  fillRandom(w);
  initNewParams(gpu, w, table.trainable.filter((e) => e.kind === 'score' || e.kind === 'lora_A').map((e) => e.name), 1);
  const B = 2, T = 16;
  const model = new Qwen3RewardModel(gpu, w, { maxB: B, maxT: T, gradientCheckpointing: true, training: true });
  model.writeInputs(new Uint32Array(B * T).map((_, i) => (i * 7919) % 150000), new Uint32Array([T, 9]), null, 3);
  const plan = model.plan(B, T);
  const opt = new Optimizer(gpu, w, 1);
  opt.setHyper({ lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 });
  await checked(gpu, `${mode} step at Qwen3-0.6B dims`, async () => {
    const enc = gpu.device.createCommandEncoder();
    recordKernels(enc, [...model.forwardKernels(plan), model.lossKernel(plan, 1, false, 1, 0), ...model.backwardKernels(plan), ...opt.kernels]);
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
  });
  const m = await readF32(gpu, model.acts.metrics, 8);
  const n = await readF32(gpu, opt.norm, 2);
  console.log(mode, `loss ${m[0]} rewards [${[...(await readF32(gpu, model.acts.rewards, 2))]}] grad_norm ${n[0]} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (!Number.isFinite(m[0]) || !(n[0] > 0) || !Number.isFinite(n[0])) process.exitCode = 1;
  opt.destroy();
  model.destroy();
  destroyWeights(w);
}
process.exit(process.exitCode ?? 0);
