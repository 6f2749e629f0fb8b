// `npm run cli -- train`: trains a reward model and writes <out>/metrics.jsonl, checkpoints, and the export
// (<out>/adapter for LoRA, <out>/model for full fine-tuning).
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, required, optional, UsageError } from './args.ts';
import { CliInputError, closeModelFiles, modelFolderFiles, folderTokenizer, readModelLimits, tokenizePreferenceFile } from './files.ts';
import { openFileSource } from '../formats/bytes-node.ts';
import { parseAdapterConfig } from '../formats/peft.ts';
import { parseJsonText } from '../formats/json_text.ts';
import { peftForContinue } from '../train/continue.ts';
import { cliGpu, readRunConfig, writeFiles, readTokenizerFiles, gpuMemoryBytes, activationDtypeArg } from './common.ts';
import { FsCheckpointStore } from './checkpoint-fs.ts';
import { checkEvalData, createSession } from '../train/session.ts';
import { fileTuneStore } from '../ops/matmul_tune_node.ts';
import { rewardConfigToJson, type RewardConfig } from '../train/config.ts';
import { formatBytes } from '../model/plan.ts';
import type { TrainEvent } from '../train/trainer.ts';

const HELP = `usage: npm run cli -- train --model DIR --train FILE [--eval FILE] [--config JSON|FILE] --out DIR
  [--adapter DIR] [--resume [--override-resume-check]] [--gpu-memory GiB] [--export-dtype bfloat16|float32]
  [--activation-dtype auto|float32|float16]
  --adapter continues training from a PEFT adapter (adapter_config.json + adapter_model.safetensors) trained on
  --model: its LoRA and score weights are the starting point and its r / lora_alpha / target_modules are the run's.
  To continue from a trained model folder, pass it as --model.
  --config holds RewardConfig / TrainingArguments fields at the top level and, for LoRA, a "peft" object with
  LoraConfig's fields; no "peft" means full fine-tuning.
  --resume continues from the last checkpoint in <out>/checkpoints; it is refused when the config or the training data
  differ from the checkpoint's, unless --override-resume-check is given (the run then continues with the new values).
  --activation-dtype: storage of the activations saved for the backward (auto, the default: float32 when the plan fits
  the GPU memory, else float16, which halves them; the math is f32 either way, gradients move by ~1e-3 relative).`;

const metricsLine = (type: string, metrics: Record<string, number>) => JSON.stringify({ type, ...metrics }) + '\n';

export async function trainCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (console.log(HELP), 0);
  const a = parseArgs(argv, { values: ['model', 'train', 'eval', 'config', 'out', 'gpu-memory', 'export-dtype', 'adapter', 'activation-dtype'], flags: ['resume', 'override-resume-check'] });
  const modelDir = required(a, 'model');
  const out = required(a, 'out');
  const config = await readRunConfig(optional(a, 'config'));
  const adapterDir = optional(a, 'adapter');
  const configArg = optional(a, 'config');
  const init = adapterDir ? await openAdapterForContinue(adapterDir, config, configArg && !configArg.trim().startsWith('{') ? configArg : '--config') : [];
  const exportDtype = (optional(a, 'export-dtype') ?? (config.bf16 ? 'bfloat16' : 'float32')) as 'bfloat16' | 'float32';
  if (exportDtype !== 'bfloat16' && exportDtype !== 'float32') throw new UsageError(`--export-dtype ${exportDtype}: use bfloat16 or float32`);

  const evalFile = optional(a, 'eval');
  checkEvalData(config, evalFile !== undefined, '--eval FILE');
  const limits = await readModelLimits(modelDir);
  const tok = await folderTokenizer(modelDir);
  const maxLength = config.max_length ?? Number.MAX_SAFE_INTEGER;
  const train = await tokenizePreferenceFile(required(a, 'train'), tok, maxLength, limits);
  const evalSet = evalFile ? await tokenizePreferenceFile(evalFile, tok, maxLength, limits) : undefined;
  console.error(`[data] train: ${train.pairs.length} pairs (${train.filteredIndices.length} filtered by max_length ${config.max_length})` +
    (evalSet ? `; eval: ${evalSet.pairs.length} pairs (${evalSet.filteredIndices.length} filtered)` : ''));

  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'reward_config.json'), JSON.stringify(rewardConfigToJson(config), null, 2));
  const metricsFile = path.join(out, 'metrics.jsonl');
  const store = new FsCheckpointStore(path.join(out, 'checkpoints'));
  const gpu = await cliGpu();
  let maxSteps = 0;
  const onEvent = (e: TrainEvent) => {
    if (e.type === 'log' || e.type === 'eval') {
      appendFileSync(metricsFile, metricsLine(e.type, e.metrics));
      const m = e.metrics;
      if (e.type === 'log') {
        process.stderr.write(`[train] step ${e.step}/${maxSteps} epoch ${m.epoch.toFixed(2)} loss ${m.loss.toFixed(4)} accuracy ${m.accuracy.toFixed(3)} ` +
          `margin ${m.margin.toFixed(3)} lr ${m.learning_rate.toExponential(2)} grad_norm ${(m.grad_norm ?? NaN).toFixed(3)} ${m.tokens_per_second.toFixed(0)} tok/s\n`);
      } else {
        process.stderr.write(`[eval] step ${e.step} loss ${m.eval_loss.toFixed(4)} accuracy ${m.eval_accuracy.toFixed(3)} margin ${m.eval_margin.toFixed(3)}\n`);
      }
    } else if (e.type === 'checkpoint') process.stderr.write(`[checkpoint] ${e.name}\n`);
    else if (e.type === 'warning') process.stderr.write(`[warning] ${e.message}\n`);
  };
  const files = await modelFolderFiles(modelDir);
  const session = await createSession({
    gpu, files, config, train: train.pairs, eval: evalSet?.pairs, checkpoints: store,
    // the folder as the user named it: exported files carry no local path beyond what was typed
    budgetBytes: gpuMemoryBytes(optional(a, 'gpu-memory')), activationDtype: activationDtypeArg(optional(a, 'activation-dtype')), baseModel: modelDir.replace(/[\\/]+$/, ''), onEvent, init,
    gemmTuneStore: fileTuneStore(),
  }).finally(async () => {
    await closeModelFiles(files);
    for (const s of init) await s.close();
  });
  for (const w of session.loaded.warnings) console.error(`warning: ${w}`);
  maxSteps = session.trainer.maxSteps;
  console.error(`[plan] micro-batch ${session.microPairs} pairs, checkpointing ${session.plan.checkpointing_mode}${config.gradient_checkpointing === null ? ' (gradient_checkpointing unset: the least recompute that fits)' : ''}, activations stored ${session.plan.activation_dtype}, ${formatBytes(session.plan.total)} of GPU memory planned; ${maxSteps} optimizer steps`);
  if (a.options.has('resume')) {
    const names = await store.list();
    if (names.length === 0) console.error('[resume] no checkpoint yet: starting from step 0');
    else {
      await session.trainer.resumeFrom(names[names.length - 1], { allowConfigChange: a.options.has('override-resume-check') });
      console.error(`[resume] from ${names[names.length - 1]}`);
    }
  }
  // metrics.jsonl holds the run's history up to where it starts now (a killed run may have logged steps past its
  // last checkpoint, or died mid-line): rewritten from the checkpoint's log history, then appended to.
  writeFileSync(metricsFile, session.trainer.state.log_history.map((h) => metricsLine(Object.keys(h).some((k) => k.startsWith('eval_')) ? 'eval' : 'log', h)).join(''));
  const stop = () => session.trainer.stop();
  process.once('SIGINT', stop);
  await session.trainer.run();
  process.off('SIGINT', stop);

  if (config.peft) {
    await writeFiles(path.join(out, 'adapter'), await session.exportAdapter());
    console.error(`[export] PEFT adapter → ${path.join(out, 'adapter')}`);
  } else {
    const dir = path.join(out, 'model');
    await writeFiles(dir, [...(await session.exportModel(exportDtype)), ...(await readTokenizerFiles(modelDir))]);
    console.error(`[export] model (${exportDtype}) → ${dir}`);
  }
  session.destroy();
  return 0;
}

/** Reads a PEFT adapter folder to continue from: sets config.peft to the adapter's LoRA shape (refusing a conflicting
 *  "peft" in --config) and opens its weights. */
async function openAdapterForContinue(dir: string, config: RewardConfig, source: string) {
  const cfgPath = path.join(dir, 'adapter_config.json');
  const wPath = path.join(dir, 'adapter_model.safetensors');
  if (!existsSync(cfgPath) || !existsSync(wPath)) throw new CliInputError(`${dir}: --adapter needs a PEFT adapter folder with adapter_config.json and adapter_model.safetensors`);
  const ac = parseAdapterConfig(parseJsonText(await readFile(cfgPath, 'utf8'), cfgPath), cfgPath);
  config.peft = peftForContinue(ac, config.peft, source);
  console.error(`[adapter] continuing from ${dir} (r ${ac.lora.r}, lora_alpha ${ac.lora.lora_alpha}, ${ac.lora.target_modules.join(',')}; trained on ${ac.base_model_name_or_path ?? 'an unnamed base'})`);
  return [await openFileSource(wPath)];
}
