// `npm run bench:plan`: the memory plan (src/model/plan.ts, the same layout the engine allocates from) of
// Qwen3-0.6B at max_length 1024 for LoRA r=16 (all linears) and full fine-tuning, micro-batches of 1–8 pairs, in
// every checkpointing mode (none, selective, selective_mlp, full: src/model/activations.ts) with float32 and float16
// activation storage, as a Markdown table for BENCHMARKS.md, then what the trainer chooses (gradient_checkpointing
// unset, activation storage auto) at a few budgets. Needs no GPU.
import { readFileSync } from 'node:fs';
import { parseQwen3Config, modelDims, withPadTokenId } from '../src/model/config.ts';
import { memoryPlan } from '../src/model/plan.ts';
import { LINEAR_NAMES, type LoraSpec } from '../src/model/params.ts';
import { ACTIVATION_DTYPES, CHECKPOINT_MODES } from '../src/model/activations.ts';
import { chooseCheckpointing } from '../src/train/session.ts';

const cfg = withPadTokenId(parseQwen3Config(JSON.parse(readFileSync(new URL('./configs/Qwen3-0.6B.config.json', import.meta.url), 'utf8'))));
const dims = modelDims(cfg);
const GiB = (n: number) => (n / 2 ** 30).toFixed(2);
const modes: [string, LoraSpec | null][] = [['lora r=16', { r: 16, alpha: 32, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false }], ['full', null]];
console.log('| mode | checkpointing | activations stored | micro-batch (pairs) | weights frozen | weights trainable | grads | AdamW | activations | workspace | total GiB |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const [mode, lora] of modes) {
  for (const ckpt of CHECKPOINT_MODES) {
    for (const dtype of ACTIVATION_DTYPES) {
      if (ckpt === 'full' && dtype === 'float16') continue; // only the residual stream is kept: nothing to store 16-bit
      for (const p of [1, 2, 4, 8]) {
        const m = memoryPlan({ dims, lora, frozenDtype: 'bf16', microPairs: p, maxLength: 1024, gradientCheckpointing: false, checkpointing: ckpt, activationDtype: dtype, maxBlockBytes: 2 ** 31 });
        console.log(`| ${mode} | ${ckpt} | ${m.activation_dtype} | ${p} | ${GiB(m.weights_frozen)} | ${GiB(m.weights_trainable)} | ${GiB(m.gradients)} | ${GiB(m.optimizer)} | ${GiB(m.activations)} | ${GiB(m.workspace)} | **${GiB(m.total)}** |`);
      }
    }
  }
}
console.log('\nThe trainer\'s choice with gradient_checkpointing unset and activation storage auto, 8 pairs per batch (src/train/session.ts chooseCheckpointing):\n');
console.log('| mode | budget | checkpointing | activations stored | micro-batch (pairs) | total GiB |');
console.log('|---|---|---|---|---|---|');
for (const [mode, lora] of modes) {
  for (const budget of [8, 16, 24, 32, 48]) {
    const base = { dims, lora, frozenDtype: 'bf16' as const, maxLength: 1024, gradientCheckpointing: false, maxBlockBytes: 2 ** 31 };
    const c = chooseCheckpointing(base, { gradient_checkpointing: null }, 8, budget * 2 ** 30, 2 ** 31);
    const total = c.microPairs ? GiB(memoryPlan({ ...base, microPairs: c.microPairs, checkpointing: c.mode, activationDtype: c.activationDtype }).total) : '—';
    console.log(`| ${mode} | ${budget} GiB | ${c.microPairs ? c.mode : 'does not fit'} | ${c.microPairs ? c.activationDtype : '—'} | ${c.microPairs} | ${total} |`);
  }
}
