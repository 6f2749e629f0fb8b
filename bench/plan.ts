// `npm run bench:plan`: the memory plan (src/model/plan.ts, the same tables the engine allocates from) of
// Qwen3-0.6B at max_length 1024 for LoRA r=16 (all linears) and full fine-tuning, micro-batches of 1–8 pairs, with
// and without gradient checkpointing, as a Markdown table for BENCHMARKS.md. Needs no GPU.
import { readFileSync } from 'node:fs';
import { parseQwen3Config, modelDims, withPadTokenId } from '../src/model/config.ts';
import { memoryPlan } from '../src/model/plan.ts';
import { LINEAR_NAMES } from '../src/model/params.ts';

const cfg = withPadTokenId(parseQwen3Config(JSON.parse(readFileSync(new URL('./configs/Qwen3-0.6B.config.json', import.meta.url), 'utf8'))));
const dims = modelDims(cfg);
const GiB = (n: number) => (n / 2 ** 30).toFixed(2);
console.log('| mode | grad ckpt | micro-batch (pairs) | weights frozen | weights trainable | grads | AdamW | activations | workspace | total GiB |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const mode of ['lora r=16', 'full'] as const) {
  const lora = mode === 'full' ? null : { r: 16, alpha: 32, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false };
  for (const ckpt of [true, false]) {
    for (const p of [1, 2, 4, 8]) {
      const m = memoryPlan({ dims, lora, frozenDtype: 'bf16', microPairs: p, maxLength: 1024, gradientCheckpointing: ckpt, maxBlockBytes: 2 ** 31 });
      console.log(`| ${mode} | ${ckpt ? 'on' : 'off'} | ${p} | ${GiB(m.weights_frozen)} | ${GiB(m.weights_trainable)} | ${GiB(m.gradients)} | ${GiB(m.optimizer)} | ${GiB(m.activations)} | ${GiB(m.workspace)} | **${GiB(m.total)}** |`);
    }
  }
}
