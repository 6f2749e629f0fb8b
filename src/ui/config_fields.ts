// The Configure panel's view of src/train/config.ts: the config as JSON in its export form (TRL RewardConfig names at
// the top level, PEFT LoraConfig names under "peft", null = full fine-tuning), the UI metadata of each field (label,
// group, control, one-line help), and validation through parseRewardConfig itself, so the panel marks exactly the
// fields the trainer would refuse, with the parser's message. Defaults and presets come from config.ts.
import { LORA_DEFAULTS, LORA_TARGETS } from '../formats/peft.ts';
import { ConfigError } from '../formats/fields.ts';
import {
  configWarnings,
  defaultRewardConfig,
  INTERVAL_STRATEGIES,
  SAMPLING_STRATEGIES,
  LR_SCHEDULER_TYPES,
  OPTIMIZERS,
  parseRewardConfig,
  REWARD_PRESETS,
  rewardConfigToJson,
  type RewardConfig,
} from '../train/config.ts';
import type { ConfigJson } from '../worker/protocol.ts';

/** auto-bool: true / false / null (not set: the engine decides, e.g. the memory plan for gradient_checkpointing). */
export type FieldKind = 'number' | 'nullable-number' | 'bool' | 'auto-bool' | 'select' | 'list';

export type FieldGroup = 'training' | 'optimizer' | 'schedule' | 'reward' | 'evaluation' | 'memory' | 'lora';

export interface FieldSpec {
  name: string;
  group: FieldGroup;
  kind: FieldKind;
  options?: readonly string[];
  help: string;
}

export const GROUP_LABELS: Record<FieldGroup, string> = {
  training: 'Training',
  optimizer: 'Optimizer (AdamW)',
  schedule: 'Learning-rate schedule',
  reward: 'Reward loss and data',
  evaluation: 'Evaluation, logging and checkpoints',
  memory: 'Reproducibility, memory and precision',
  lora: 'LoRA (PEFT LoraConfig)',
};

/** Every RewardConfig field the engine reads, in config.ts's order, with its control and help. */
export const TRAINER_FIELDS: readonly FieldSpec[] = [
  { name: 'learning_rate', group: 'training', kind: 'number', help: 'Peak AdamW learning rate (RewardConfig default 1e-4).' },
  { name: 'num_train_epochs', group: 'training', kind: 'number', help: 'Passes over the training pairs (unless max_steps is set).' },
  { name: 'max_steps', group: 'training', kind: 'number', help: 'Total optimizer steps; -1 = num_train_epochs decides.' },
  { name: 'per_device_train_batch_size', group: 'training', kind: 'number', help: 'Preference pairs per step (each pair is 2 sequences).' },
  { name: 'gradient_accumulation_steps', group: 'training', kind: 'number', help: 'Batches summed before each optimizer step.' },
  { name: 'optim', group: 'optimizer', kind: 'select', options: OPTIMIZERS, help: 'Both are torch AdamW (same math).' },
  { name: 'weight_decay', group: 'optimizer', kind: 'number', help: 'Decoupled weight decay (not on layernorms, as HF).' },
  { name: 'adam_beta1', group: 'optimizer', kind: 'number', help: 'AdamW β1.' },
  { name: 'adam_beta2', group: 'optimizer', kind: 'number', help: 'AdamW β2.' },
  { name: 'adam_epsilon', group: 'optimizer', kind: 'number', help: 'AdamW ε.' },
  { name: 'max_grad_norm', group: 'optimizer', kind: 'number', help: 'Clip the global gradient norm (0 = no clipping).' },
  { name: 'lr_scheduler_type', group: 'schedule', kind: 'select', options: LR_SCHEDULER_TYPES, help: 'Decay after warmup.' },
  { name: 'warmup_steps', group: 'schedule', kind: 'number', help: 'Warmup steps (or a ratio in (0, 1) of all steps).' },
  { name: 'warmup_ratio', group: 'schedule', kind: 'number', help: 'Warmup as a ratio of all steps (set this or warmup_steps).' },
  { name: 'center_rewards_coefficient', group: 'reward', kind: 'nullable-number', help: 'Adds c·mean((r_c + r_r)²); empty = None (off), 0.01 suggested.' },
  { name: 'max_length', group: 'reward', kind: 'nullable-number', help: 'Pairs longer than this (chosen or rejected) are filtered out; empty = no limit.' },
  { name: 'disable_dropout', group: 'reward', kind: 'bool', help: 'TRL sets every dropout (LoRA\'s too) to 0.' },
  { name: 'per_device_eval_batch_size', group: 'evaluation', kind: 'number', help: 'Pairs per evaluation batch.' },
  { name: 'logging_steps', group: 'evaluation', kind: 'number', help: 'Log metrics every N steps (or a ratio of all steps).' },
  { name: 'eval_strategy', group: 'evaluation', kind: 'select', options: INTERVAL_STRATEGIES, help: 'When to evaluate on the test split.' },
  { name: 'eval_steps', group: 'evaluation', kind: 'nullable-number', help: 'Evaluate every N steps; empty = logging_steps.' },
  { name: 'save_strategy', group: 'evaluation', kind: 'select', options: INTERVAL_STRATEGIES, help: 'When to checkpoint (in browser storage).' },
  { name: 'save_steps', group: 'evaluation', kind: 'number', help: 'Checkpoint every N steps; a reload resumes from the last one.' },
  { name: 'seed', group: 'memory', kind: 'number', help: 'Seeds the score-head / LoRA init and the data order.' },
  { name: 'train_sampling_strategy', group: 'memory', kind: 'select', options: SAMPLING_STRATEGIES, help: 'random: a seeded shuffle each epoch (the studio\'s own order); sequential: the pairs in file order, as Python\'s SequentialSampler.' },
  { name: 'gradient_checkpointing', group: 'memory', kind: 'auto-bool', help: 'Recompute activations in the backward: less memory, more compute. auto: the memory plan keeps them when the micro-batch fits, else recomputes only what it must (selective), else every layer.' },
  { name: 'bf16', group: 'memory', kind: 'bool', help: 'Recorded for the TRL script; the WebGPU engine computes in f32.' },
];

export const LORA_FIELDS: readonly FieldSpec[] = [
  { name: 'r', group: 'lora', kind: 'number', help: 'LoRA rank.' },
  { name: 'lora_alpha', group: 'lora', kind: 'number', help: 'Scale = lora_alpha / r (/ √r with use_rslora).' },
  { name: 'lora_dropout', group: 'lora', kind: 'number', help: 'Dropout on the LoRA input (0 while disable_dropout).' },
  { name: 'target_modules', group: 'lora', kind: 'list', options: LORA_TARGETS, help: 'Linear layers that get an adapter (PEFT default for Qwen3: q_proj, v_proj).' },
  { name: 'use_rslora', group: 'lora', kind: 'bool', help: 'Rank-stabilised scale lora_alpha / √r.' },
];

/** TRL defaults, full fine-tuning, in the export form. */
export function defaultConfigJson(): ConfigJson {
  return rewardConfigToJson(defaultRewardConfig());
}

/** PEFT's LoraConfig defaults (as the "peft" object). */
export function defaultLora(): ConfigJson {
  return JSON.parse(JSON.stringify(LORA_DEFAULTS)) as ConfigJson;
}

export interface Preset {
  id: string;
  label: string;
  description: string;
  config: ConfigJson;
}

export const PRESETS: readonly Preset[] = REWARD_PRESETS.map((p) => ({ id: p.id, label: p.label, description: p.description, config: rewardConfigToJson(p.config()) }));

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** The fields that differ from the defaults (what the URL hash and localStorage keep). */
export function configDiff(config: ConfigJson): ConfigJson {
  const d = defaultConfigJson();
  const out: ConfigJson = {};
  for (const [k, v] of Object.entries(config)) if (!same(v, d[k])) out[k] = v;
  return out;
}

export interface ConfigCheck {
  /** The parsed config when valid. */
  config: RewardConfig | null;
  /** Problems by field path ('learning_rate', 'peft.r', '(root)'), with the parser's message. */
  issues: { field: string; message: string }[];
  /** Notes on a valid config (configWarnings). */
  warnings: string[];
}

/** Validates with src/train/config.ts's parser: the same rules the trainer applies. */
export function checkConfig(json: ConfigJson, source = 'config'): ConfigCheck {
  try {
    const config = parseRewardConfig(json, source);
    return { config, issues: [], warnings: configWarnings(config) };
  } catch (e) {
    if (e instanceof ConfigError) return { config: null, issues: e.issues, warnings: [] };
    throw e;
  }
}

/** One line per problem: 'learning_rate: expected …'. */
export function validateConfigJson(json: ConfigJson): string[] {
  return checkConfig(json).issues.map((i) => `${i.field}: ${i.message}`);
}
