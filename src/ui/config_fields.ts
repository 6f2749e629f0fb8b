// The Configure panel's field table: every trainer field under TRL's name (RewardConfig / TrainingArguments) with
// its TRL default, a label, a group and a one-line help, plus PEFT's LoraConfig fields under `lora`
// (null = full fine-tuning). The page only checks types and ranges here so it can mark a field as it is typed; the
// worker validates the whole config with src/train/config.ts before anything runs.
// TODO(config.ts): once src/train/config.ts lands, take defaults and presets from it (tests/ui/config_fields.test.ts
// should then compare this table with its defaults field by field).
import type { ConfigJson } from '../worker/protocol.ts';

export type FieldKind = 'float' | 'int' | 'bool' | 'select' | 'nullable-float' | 'nullable-int' | 'list';

export type FieldGroup = 'training' | 'optimizer' | 'schedule' | 'reward' | 'evaluation' | 'memory' | 'lora';

export interface FieldSpec {
  name: string;
  label: string;
  group: FieldGroup;
  kind: FieldKind;
  default: number | boolean | string | string[] | null;
  options?: readonly string[];
  min?: number;
  max?: number;
  /** min is exclusive (learning_rate > 0). */
  minExclusive?: boolean;
  help: string;
}

export const GROUP_LABELS: Record<FieldGroup, string> = {
  training: 'Training',
  optimizer: 'Optimizer (AdamW)',
  schedule: 'Learning-rate schedule',
  reward: 'Reward model',
  evaluation: 'Evaluation, logging and checkpoints',
  memory: 'Memory and precision',
  lora: 'LoRA (PEFT LoraConfig)',
};

export const TRAINER_FIELDS: readonly FieldSpec[] = [
  { name: 'learning_rate', label: 'learning_rate', group: 'training', kind: 'float', default: 1e-4, min: 0, minExclusive: true, help: 'Peak AdamW learning rate (RewardConfig default 1e-4).' },
  { name: 'num_train_epochs', label: 'num_train_epochs', group: 'training', kind: 'float', default: 3, min: 0, minExclusive: true, help: 'Passes over the training pairs (ignored when max_steps > 0).' },
  { name: 'max_steps', label: 'max_steps', group: 'training', kind: 'int', default: -1, min: -1, help: 'Total optimizer steps; -1 means num_train_epochs decides.' },
  { name: 'per_device_train_batch_size', label: 'per_device_train_batch_size', group: 'training', kind: 'int', default: 8, min: 1, help: 'Preference pairs per micro-batch (each pair is 2 sequences).' },
  { name: 'gradient_accumulation_steps', label: 'gradient_accumulation_steps', group: 'training', kind: 'int', default: 1, min: 1, help: 'Micro-batches summed before each optimizer step.' },
  { name: 'max_length', label: 'max_length', group: 'training', kind: 'nullable-int', default: 1024, min: 1, help: 'Pairs whose chosen or rejected sequence is longer are filtered out, not truncated.' },
  { name: 'seed', label: 'seed', group: 'training', kind: 'int', default: 42, min: 0, help: 'Seeds the score-head / LoRA init and the data shuffle.' },
  { name: 'weight_decay', label: 'weight_decay', group: 'optimizer', kind: 'float', default: 0, min: 0, help: 'Decoupled weight decay (AdamW).' },
  { name: 'adam_beta1', label: 'adam_beta1', group: 'optimizer', kind: 'float', default: 0.9, min: 0, max: 1, help: 'AdamW β1.' },
  { name: 'adam_beta2', label: 'adam_beta2', group: 'optimizer', kind: 'float', default: 0.999, min: 0, max: 1, help: 'AdamW β2.' },
  { name: 'adam_epsilon', label: 'adam_epsilon', group: 'optimizer', kind: 'float', default: 1e-8, min: 0, minExclusive: true, help: 'AdamW ε.' },
  { name: 'max_grad_norm', label: 'max_grad_norm', group: 'optimizer', kind: 'float', default: 1, min: 0, help: 'Clip the global gradient norm to this (0 turns clipping off).' },
  { name: 'lr_scheduler_type', label: 'lr_scheduler_type', group: 'schedule', kind: 'select', default: 'linear', options: ['linear', 'cosine', 'constant', 'constant_with_warmup'], help: 'Shape of the learning-rate decay after warmup.' },
  { name: 'warmup_steps', label: 'warmup_steps', group: 'schedule', kind: 'int', default: 0, min: 0, help: 'Linear warmup steps (overrides warmup_ratio when > 0).' },
  { name: 'warmup_ratio', label: 'warmup_ratio', group: 'schedule', kind: 'float', default: 0, min: 0, max: 1, help: 'Warmup as a fraction of all steps.' },
  { name: 'center_rewards_coefficient', label: 'center_rewards_coefficient', group: 'reward', kind: 'nullable-float', default: null, min: 0, help: 'Adds c·mean((r_c + r_r)²) to keep rewards centred; empty = None (off), 0.01 is suggested.' },
  { name: 'disable_dropout', label: 'disable_dropout', group: 'reward', kind: 'bool', default: true, help: 'Turn dropout off in the model (Qwen3 has attention_dropout 0 anyway).' },
  { name: 'per_device_eval_batch_size', label: 'per_device_eval_batch_size', group: 'evaluation', kind: 'int', default: 8, min: 1, help: 'Pairs per evaluation micro-batch.' },
  { name: 'eval_strategy', label: 'eval_strategy', group: 'evaluation', kind: 'select', default: 'no', options: ['no', 'steps', 'epoch'], help: 'When to evaluate on the test split.' },
  { name: 'eval_steps', label: 'eval_steps', group: 'evaluation', kind: 'nullable-int', default: null, min: 1, help: 'Evaluate every N steps (eval_strategy "steps"); empty = logging_steps.' },
  { name: 'logging_steps', label: 'logging_steps', group: 'evaluation', kind: 'int', default: 10, min: 1, help: 'Log training metrics every N steps.' },
  { name: 'save_steps', label: 'save_steps', group: 'evaluation', kind: 'int', default: 500, min: 1, help: 'Write a checkpoint (browser storage) every N steps; a reload resumes from the last one.' },
  { name: 'gradient_checkpointing', label: 'gradient_checkpointing', group: 'memory', kind: 'bool', default: true, help: 'Recompute activations in the backward pass: less memory, ~30% more compute.' },
  { name: 'bf16', label: 'bf16', group: 'memory', kind: 'bool', default: true, help: 'Keep frozen weights in 16 bits where the GPU allows (math stays f32).' },
];

export const LORA_FIELDS: readonly FieldSpec[] = [
  { name: 'r', label: 'r', group: 'lora', kind: 'int', default: 8, min: 1, help: 'LoRA rank.' },
  { name: 'lora_alpha', label: 'lora_alpha', group: 'lora', kind: 'float', default: 8, min: 0, minExclusive: true, help: 'Scale is lora_alpha / r (or / √r with use_rslora).' },
  { name: 'lora_dropout', label: 'lora_dropout', group: 'lora', kind: 'float', default: 0, min: 0, max: 1, help: 'Dropout on the LoRA input.' },
  { name: 'target_modules', label: 'target_modules', group: 'lora', kind: 'list', default: ['q_proj', 'v_proj'], options: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'], help: 'Linear layers that get an adapter (PEFT default for Qwen3: q_proj, v_proj).' },
  { name: 'use_rslora', label: 'use_rslora', group: 'lora', kind: 'bool', default: false, help: 'Rank-stabilised scale lora_alpha / √r.' },
];

export function defaultLora(): ConfigJson {
  const out: ConfigJson = {};
  for (const f of LORA_FIELDS) out[f.name] = Array.isArray(f.default) ? [...f.default] : f.default;
  return out;
}

/** TRL defaults, LoRA off. */
export function defaultConfigJson(): ConfigJson {
  const out: ConfigJson = {};
  for (const f of TRAINER_FIELDS) out[f.name] = f.default;
  out.lora = null;
  return out;
}

export interface Preset {
  id: string;
  label: string;
  description: string;
  config: ConfigJson;
}

export const PRESETS: readonly Preset[] = [
  { id: 'trl', label: 'TRL defaults', description: 'RewardConfig as TRL ships it: lr 1e-4, batch 8, 3 epochs, full fine-tuning.', config: defaultConfigJson() },
  {
    id: 'seed',
    label: 'Original pipeline',
    description: 'The Python pipeline this studio replaces: lr 1.41e-5, batch 32, 3 epochs, warmup 100, no gradient checkpointing.',
    config: { ...defaultConfigJson(), learning_rate: 1.41e-5, per_device_train_batch_size: 32, num_train_epochs: 3, warmup_steps: 100, gradient_checkpointing: false },
  },
  {
    id: 'fast-lora',
    label: 'Fast LoRA',
    description: 'LoRA r 16 on all attention projections, lr 2e-4, batch 8, 1 epoch, max_length 512.',
    config: {
      ...defaultConfigJson(),
      learning_rate: 2e-4,
      num_train_epochs: 1,
      max_length: 512,
      lora: { ...defaultLora(), r: 16, lora_alpha: 32, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] },
    },
  },
];

/** The fields that differ from the defaults (what the URL hash and localStorage keep). */
export function configDiff(config: ConfigJson): ConfigJson {
  const d = defaultConfigJson();
  const out: ConfigJson = {};
  for (const [k, v] of Object.entries(config)) if (JSON.stringify(v) !== JSON.stringify(d[k])) out[k] = v;
  return out;
}

/** Problems with one value, or null. Names the field and the allowed range. */
export function checkField(f: FieldSpec, v: unknown): string | null {
  const nullable = f.kind === 'nullable-float' || f.kind === 'nullable-int';
  if (v === null) return nullable ? null : `${f.name} must be set`;
  switch (f.kind) {
    case 'bool':
      return typeof v === 'boolean' ? null : `${f.name} must be true or false`;
    case 'select':
      return f.options!.includes(v as string) ? null : `${f.name} must be one of ${f.options!.join(', ')}`;
    case 'list':
      return Array.isArray(v) && v.length > 0 && v.every((x) => f.options!.includes(x)) ? null : `${f.name} must be a non-empty list of ${f.options!.join(', ')}`;
    default: {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${f.name} must be a number`;
      if ((f.kind === 'int' || f.kind === 'nullable-int') && !Number.isInteger(v)) return `${f.name} must be a whole number`;
      if (f.min !== undefined && (f.minExclusive ? v <= f.min : v < f.min)) return `${f.name} must be ${f.minExclusive ? '>' : '≥'} ${f.min}`;
      if (f.max !== undefined && v > f.max) return `${f.name} must be ≤ ${f.max}`;
      return null;
    }
  }
}

/** Every problem of a config, one message per field ('lora.r must be ≥ 1'); unknown keys are reported too. */
export function validateConfigJson(config: ConfigJson): string[] {
  const problems: string[] = [];
  const known = new Set([...TRAINER_FIELDS.map((f) => f.name), 'lora']);
  for (const k of Object.keys(config)) if (!known.has(k)) problems.push(`unknown field "${k}"`);
  for (const f of TRAINER_FIELDS) {
    const p = checkField(f, config[f.name]);
    if (p) problems.push(p);
  }
  const lora = config.lora;
  if (lora !== null && lora !== undefined) {
    if (typeof lora !== 'object' || Array.isArray(lora)) problems.push('lora must be an object or null');
    else
      for (const f of LORA_FIELDS) {
        const p = checkField(f, (lora as ConfigJson)[f.name]);
        if (p) problems.push(`lora.${p}`);
      }
  }
  return problems;
}
