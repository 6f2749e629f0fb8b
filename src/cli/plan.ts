// `npm run cli -- plan`: the GPU memory a run needs, from config.json alone (no weights), and whether it fits.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, required, optional } from './args.ts';
import { CliInputError } from './files.ts';
import { readRunConfig, gpuMemoryBytes, activationDtypeArg } from './common.ts';
import { parseModelConfigText, modelDims, withPadTokenId } from '../model/config.ts';
import { memoryPlan, formatBytes } from '../model/plan.ts';
import { loraSpecOf, planRun, chooseCheckpointing, memoryCandidates, DEFAULT_GPU_MEMORY_BYTES } from '../train/session.ts';

const HELP = `usage: npm run cli -- plan --model DIR|config.json [--config JSON|FILE] [--micro-batch N] [--gpu-memory GiB] [--max-buffer GiB]
  [--activation-dtype auto|float32|float16] [--json]
  Prints the GPU memory of a training run: weights (frozen bf16 + trainable f32), gradients, AdamW state,
  activations and workspace, for max_length tokens per sequence, with the checkpointing mode the trainer would use
  (gradient_checkpointing true: full, false: none, unset: the least recompute that fits: none, selective,
  selective_mlp, full) and the storage of the saved activations (auto: float32 when it fits, else float16; the
  math stays f32 either way).`;

export async function planCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (console.log(HELP), 0);
  const a = parseArgs(argv, { values: ['model', 'config', 'micro-batch', 'gpu-memory', 'max-buffer', 'activation-dtype'], flags: ['json'] });
  const m = required(a, 'model');
  const cfgPath = m.endsWith('.json') ? m : path.join(m, 'config.json');
  if (!existsSync(cfgPath)) throw new CliInputError(`${cfgPath} not found: --model takes a model folder or its config.json`);
  const cfg = withPadTokenId(parseModelConfigText(await readFile(cfgPath, 'utf8'), cfgPath));
  const config = await readRunConfig(optional(a, 'config'));
  const dims = modelDims(cfg);
  const maxLength = config.max_length ?? 1024;
  const budget = gpuMemoryBytes(optional(a, 'gpu-memory')) ?? DEFAULT_GPU_MEMORY_BYTES;
  const maxBuffer = gpuMemoryBytes(optional(a, 'max-buffer')) ?? 2 ** 31;
  const mb = optional(a, 'micro-batch');
  const dtype = activationDtypeArg(optional(a, 'activation-dtype'));
  const last = memoryCandidates(config, dtype).at(-1)!;
  let plan;
  let fits = true;
  let note = '';
  const base = { dims, lora: loraSpecOf(config), frozenDtype: 'bf16' as const, maxLength, gradientCheckpointing: config.gradient_checkpointing === true, maxBlockBytes: maxBuffer };
  if (mb !== undefined) {
    const n = Number(mb);
    if (!Number.isInteger(n) || n < 1) throw new CliInputError(`--micro-batch ${mb}: expected an integer ≥ 1 (pairs)`);
    const c = chooseCheckpointing(base, config, n, budget, maxBuffer, dtype);
    const pick = c.microPairs === n ? c : last;
    plan = memoryPlan({ ...base, microPairs: n, checkpointing: pick.mode, activationDtype: pick.activationDtype });
    fits = plan.total <= budget && plan.largest_buffer <= maxBuffer;
  } else {
    try {
      plan = planRun({ dims, config, maxLength, budgetBytes: budget, maxBufferBytes: maxBuffer, frozenDtype: 'bf16', activationDtype: dtype }).plan;
    } catch (e) {
      plan = memoryPlan({ ...base, microPairs: 1, checkpointing: last.mode, activationDtype: last.activationDtype });
      fits = false;
      note = (e as Error).message;
    }
  }
  if (a.options.has('json')) {
    process.stdout.write(JSON.stringify({ ...plan, budget, fits, mode: config.peft ? 'lora' : 'full', gradient_checkpointing: config.gradient_checkpointing }, null, 2) + '\n');
    return 0;
  }
  const row = (k: string, v: number) => `  ${k.padEnd(22)} ${formatBytes(v).padStart(12)}`;
  console.log(`${config.peft ? `LoRA r=${config.peft.r} (${config.peft.target_modules.join(', ')})` : 'full fine-tuning'}, max_length ${maxLength}, ` +
    `micro-batch ${plan.micro_batch_pairs} pairs (${2 * plan.micro_batch_pairs} sequences), checkpointing ${plan.checkpointing_mode} ` +
    `(gradient_checkpointing ${config.gradient_checkpointing ?? 'not set: chosen by the plan'}), activations stored ${plan.activation_dtype}` +
    `${dtype === 'auto' ? ' (--activation-dtype auto)' : ''}`);
  console.log(`  parameters             ${plan.params_total.toLocaleString('en-US')} (${plan.params_trainable.toLocaleString('en-US')} trainable)`);
  console.log([row('frozen weights', plan.weights_frozen), row('trainable weights', plan.weights_trainable), row('gradients', plan.gradients),
    row('optimizer (AdamW m, v)', plan.optimizer), row('activations', plan.activations), row('workspace', plan.workspace),
    row('total', plan.total), row('largest buffer', plan.largest_buffer)].join('\n'));
  console.log(`  ${fits ? 'fits' : 'does NOT fit'} a budget of ${formatBytes(budget)} (set with --gpu-memory)${note ? `\n  ${note}` : ''}`);
  return 0;
}
