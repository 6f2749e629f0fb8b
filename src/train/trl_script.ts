// Renders a RewardConfig (+ LoRA) as a ready-to-run Python script with trl.RewardTrainer, so a run configured in
// the studio moves unchanged to a cluster. Every field that changes the math is written explicitly, defaults
// included: TRL's defaults have changed between releases (learning_rate, gradient_checkpointing), and an explicit
// value keeps the script meaning what the studio ran. Accepted-and-ignored fields (output_dir, report_to, ...) are
// passed through as given.
//
// The script loads the model itself (AutoModelForSequenceClassification, num_labels=1) after set_seed(seed), as
// RewardTrainer does for a model id, so the new score head is initialised reproducibly; it sets the tokenizer's pad
// token and model.config.pad_token_id as TRL does.
import { pyFloatRepr } from '../formats/peft.ts';
import type { RewardConfig } from './config.ts';

export interface TrlScriptOptions {
  /** Hub id or local path of the base model, e.g. "Qwen/Qwen3-0.6B". */
  modelId: string;
  /** Hub dataset id (e.g. "trl-lib/ultrafeedback_binarized"), or null when dataFiles are given. */
  datasetId: string | null;
  /** Local JSONL/Parquet files instead of a Hub dataset (TRL's preference formats). */
  dataFiles?: { train: string; eval?: string | null } | null;
  trainSplit?: string;
  /** The evaluation split; null = none. Default "test". */
  evalSplit?: string | null;
  /** output_dir when the config has none; default "<model name>-Reward". */
  outputDir?: string;
  /** Lines for the docstring saying where the data and the model come from (e.g. how the studio split a file). */
  notes?: string[];
}

/** Python literal for a JSON-like value (numbers as ints when integral unless `float`). */
function py(v: unknown, float = false): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return float || !Number.isInteger(v) ? pyFloatRepr(v) : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => py(x)).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${py(x)}`).join(', ')}}`;
  }
  throw new TypeError(`cannot render ${String(v)} as Python`);
}

/** RewardConfig fields written by the script, grouped, with their Python type (f = float literal). */
const GROUPS: { title: string; fields: [keyof RewardConfig, 'i' | 'f' | 'b' | 's' | 'o'][] }[] = [
  { title: 'Length and batch', fields: [['num_train_epochs', 'f'], ['max_steps', 'i'], ['per_device_train_batch_size', 'i'], ['per_device_eval_batch_size', 'i'], ['gradient_accumulation_steps', 'i']] },
  { title: 'Optimizer (AdamW)', fields: [['optim', 's'], ['learning_rate', 'f'], ['weight_decay', 'f'], ['adam_beta1', 'f'], ['adam_beta2', 'f'], ['adam_epsilon', 'f'], ['max_grad_norm', 'f']] },
  { title: 'Schedule', fields: [['lr_scheduler_type', 's']] },
  { title: 'Loss and data', fields: [['center_rewards_coefficient', 'o'], ['max_length', 'o'], ['disable_dropout', 'b']] },
  { title: 'Logging, evaluation, checkpoints', fields: [['logging_steps', 'o'], ['eval_strategy', 's'], ['eval_steps', 'o'], ['save_strategy', 's'], ['save_steps', 'o']] },
  { title: 'Reproducibility, memory, precision', fields: [['seed', 'i'], ['train_sampling_strategy', 's'], ['gradient_checkpointing', 'b'], ['bf16', 'b']] },
];

function fieldValue(c: RewardConfig, key: keyof RewardConfig, kind: 'i' | 'f' | 'b' | 's' | 'o'): string {
  const v = c[key];
  if (kind === 'f') return py(v, true);
  if (key === 'gradient_checkpointing' && v === null) return 'True'; // not set in the studio (its plan chose): TRL's default
  if (key === 'center_rewards_coefficient' && typeof v === 'number') return py(v, true);
  return py(v);
}

function defaultOutputDir(modelId: string): string {
  const name = modelId.replace(/\/+$/, '').split('/').pop() || 'model';
  return `${name}-Reward`;
}

/** The Python script text. */
export function renderTrlScript(c: RewardConfig, o: TrlScriptOptions): string {
  if (!o.datasetId && !o.dataFiles) throw new Error('renderTrlScript: give datasetId (a Hub dataset) or dataFiles (local files)');
  const evalSplit = o.evalSplit === undefined ? 'test' : o.evalSplit;
  const trainSplit = o.trainSplit ?? 'train';
  const lines: string[] = [];
  const out = (s = '') => lines.push(s);
  const lora = c.peft;

  out('"""Train a reward model with TRL\'s RewardTrainer: exported from Reward Studio with the same configuration.');
  out('');
  out(`Model: ${o.modelId}. Data: ${o.datasetId ?? [o.dataFiles?.train, o.dataFiles?.eval].filter(Boolean).join(', ')}.`);
  for (const n of o.notes ?? []) out(n);
  out(lora ? `LoRA r=${lora.r}, lora_alpha=${lora.lora_alpha} on ${lora.target_modules.join(', ')}; the score head trains in full.` : 'Full fine-tuning of every weight.');
  out('');
  out(`Install: pip install trl${lora ? ' peft' : ''} datasets transformers accelerate`);
  out('Run:     python train_reward_model.py        (several GPUs: accelerate launch train_reward_model.py)');
  out('"""');
  out('');
  out('import transformers');
  out('from datasets import load_dataset');
  if (lora) out('from peft import LoraConfig');
  out('from transformers import AutoModelForSequenceClassification, AutoTokenizer, set_seed');
  out('from trl import RewardConfig, RewardTrainer');
  out('');
  out(`MODEL_ID = ${py(o.modelId)}`);
  if (o.datasetId) out(`DATASET_ID = ${py(o.datasetId)}`);
  out('');

  const warmupRatio = c.warmup_steps > 0 && c.warmup_steps < 1 ? c.warmup_steps : c.warmup_ratio > 0 ? c.warmup_ratio : null;
  if (warmupRatio !== null) {
    out('# Warmup as a ratio of the total steps: `warmup_ratio` before transformers 5, a fractional `warmup_steps` from 5 on.');
    out('WARMUP = (');
    out(`    {"warmup_steps": ${pyFloatRepr(warmupRatio)}}`);
    out('    if int(transformers.__version__.split(".")[0]) >= 5');
    out(`    else {"warmup_ratio": ${pyFloatRepr(warmupRatio)}}`);
    out(')');
  } else {
    out(`WARMUP = {"warmup_steps": ${Math.trunc(c.warmup_steps)}}`);
  }
  out('');

  const hasEval = evalSplit !== null && (!o.dataFiles || Boolean(o.dataFiles.eval));
  // without evaluation data the studio does not evaluate whatever eval_strategy says; the script must not either
  // (RewardTrainer refuses eval_strategy != "no" without an eval_dataset)
  const noEvalOverride = !hasEval && c.eval_strategy !== 'no';
  out('training_args = RewardConfig(');
  const outputDir = typeof c.ignored.output_dir === 'string' ? c.ignored.output_dir : (o.outputDir ?? defaultOutputDir(o.modelId));
  out(`    output_dir=${py(outputDir)},`);
  for (const g of GROUPS) {
    out(`    # ${g.title}`);
    for (const [key, kind] of g.fields) {
      if (key === 'eval_steps' && c.eval_steps === null) continue; // None → logging_steps, as HF
      if (key === 'eval_strategy' && noEvalOverride) {
        out(`    eval_strategy="no",  # the run's config says ${py(c.eval_strategy)}, but its data has no evaluation split`);
        continue;
      }
      out(`    ${key}=${fieldValue(c, key, kind)},`);
    }
  }
  const passThrough = Object.entries(c.ignored).filter(([k]) => k !== 'output_dir');
  if (passThrough.length) {
    out('    # Accepted by the studio without effect there, passed through');
    for (const [k, v] of passThrough) out(`    ${k}=${py(v)},`);
  }
  out('    **WARMUP,');
  out(')');
  out('');

  if (lora) {
    out('peft_config = LoraConfig(');
    out('    task_type="SEQ_CLS",  # PEFT then also saves the score head (modules_to_save += ["classifier", "score"])');
    out(`    r=${lora.r},`);
    out(`    lora_alpha=${py(lora.lora_alpha)},`);
    out(`    lora_dropout=${pyFloatRepr(lora.lora_dropout)},${c.disable_dropout && lora.lora_dropout > 0 ? '  # set to 0 by disable_dropout=True, as in the studio' : ''}`);
    out(`    target_modules=${py(lora.target_modules)},`);
    out(`    use_rslora=${py(lora.use_rslora)},`);
    if (lora.modules_to_save) out(`    modules_to_save=${py(lora.modules_to_save)},`);
    out(')');
    out('');
  }

  out('# RewardTrainer seeds before creating the score head when given a model id; do the same here.');
  out('set_seed(training_args.seed)');
  out('tokenizer = AutoTokenizer.from_pretrained(MODEL_ID)');
  out('if tokenizer.pad_token is None:');
  out('    tokenizer.pad_token = tokenizer.eos_token');
  out('model = AutoModelForSequenceClassification.from_pretrained(MODEL_ID, num_labels=1)');
  out('model.config.pad_token_id = tokenizer.pad_token_id');
  out('');

  if (o.dataFiles) {
    const files: Record<string, string> = { [trainSplit]: o.dataFiles.train };
    if (o.dataFiles.eval && evalSplit) files[evalSplit] = o.dataFiles.eval;
    const kind = o.dataFiles.train.endsWith('.parquet') ? 'parquet' : 'json';
    out(`dataset = load_dataset(${py(kind)}, data_files=${py(files)})`);
  } else {
    out('dataset = load_dataset(DATASET_ID)');
  }
  out('');
  out('trainer = RewardTrainer(');
  out('    model=model,');
  out('    args=training_args,');
  out(`    train_dataset=dataset[${py(trainSplit)}],`);
  if (hasEval) out(`    eval_dataset=dataset[${py(evalSplit)}],`);
  out('    processing_class=tokenizer,');
  if (lora) out('    peft_config=peft_config,');
  out(')');
  out('trainer.train()');
  out('trainer.save_model(training_args.output_dir)');
  if (hasEval) {
    out('metrics = trainer.evaluate()');
    out('print(metrics)');
  }
  return lines.join('\n') + '\n';
}
