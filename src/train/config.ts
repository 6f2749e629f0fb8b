// The trainer configuration: TRL RewardConfig / transformers TrainingArguments field names and defaults at the top
// level, and PEFT LoraConfig's names under "peft" (absent or null = full fine-tuning). The same JSON is read by the
// CLI (--config), the studio (import/export, URL, localStorage) and rendered into a TRL script (trl_script.ts).
//
// Defaults are TRL's RewardConfig (learning_rate 1e-4, logging_steps 10, bf16 true,
// max_length 1024, disable_dropout true) over TrainingArguments (linear schedule, no warmup, AdamW (0.9, 0.999, 1e-8),
// weight_decay 0, max_grad_norm 1.0, 3 epochs, batch 8, seed 42). parseRewardConfig rejects unknown fields (with a
// "did you mean"), wrong types and out-of-range values, naming the field and the allowed range. TRL/Trainer fields
// that do not change the math are accepted and ignored (IGNORED_FIELDS says why for each); options the engine does
// not implement are accepted only at their default value. One studio default differs on purpose: gradient_checkpointing
// left unset (null) lets the memory plan choose (src/train/session.ts, chooseCheckpointing); TRL's default is true.
import { ConfigError, Fields, describe, isPlainObject } from '../formats/fields.ts';
import { LORA_CONFIG_KEYS, LORA_DEFAULTS, LORA_TARGETS, readLoraSettings, type LoraSettings } from '../formats/peft.ts';

export const LR_SCHEDULER_TYPES = ['linear', 'cosine', 'constant', 'constant_with_warmup'] as const;
export type LrSchedulerType = (typeof LR_SCHEDULER_TYPES)[number];
export const INTERVAL_STRATEGIES = ['no', 'steps', 'epoch'] as const;
export type IntervalStrategy = (typeof INTERVAL_STRATEGIES)[number];
/** Both are torch.optim.AdamW (the fused kernel is the same math). */
export const OPTIMIZERS = ['adamw_torch', 'adamw_torch_fused'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export const SAMPLING_STRATEGIES = ['random', 'sequential'] as const;
export type SamplingStrategy = (typeof SAMPLING_STRATEGIES)[number];

export interface RewardConfig {
  // --- length and batch
  num_train_epochs: number;
  /** > 0 overrides num_train_epochs; -1 = train num_train_epochs. */
  max_steps: number;
  per_device_train_batch_size: number;
  per_device_eval_batch_size: number;
  gradient_accumulation_steps: number;
  // --- optimizer (AdamW, decoupled weight decay; see weightDecayApplies)
  learning_rate: number;
  weight_decay: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_epsilon: number;
  /** Clip the global gradient 2-norm to this; 0 disables clipping (as HF). */
  max_grad_norm: number;
  optim: OptimizerName;
  // --- schedule (schedule.ts)
  lr_scheduler_type: LrSchedulerType;
  /** An integer ≥ 1: warmup steps; a float in (0, 1): ratio of the total steps (transformers ≥ 5). */
  warmup_steps: number;
  /** transformers 4's ratio field (deprecated in 5); use it or a fractional warmup_steps, not both. */
  warmup_ratio: number;
  // --- loss and data
  /** Adds c · mean((r_c + r_r)²) to the loss; null = off. */
  center_rewards_coefficient: number | null;
  /** Pairs whose chosen or rejected token length exceeds this are filtered out; null = no filtering. */
  max_length: number | null;
  /** TRL sets every nn.Dropout's p to 0 after get_peft_model, so lora_dropout is off too when true. */
  disable_dropout: boolean;
  // --- logging, evaluation, checkpoints (integers ≥ 1, or a ratio in (0, 1) of the total steps)
  logging_steps: number;
  eval_strategy: IntervalStrategy;
  /** null → logging_steps (HF, when eval_strategy is "steps"). */
  eval_steps: number | null;
  save_strategy: IntervalStrategy;
  save_steps: number;
  // --- reproducibility, memory, precision
  seed: number;
  /**
   * TrainingArguments.train_sampling_strategy (transformers 5): "random" (default) shuffles each epoch with the
   * studio's own seeded order (not torch's RandomSampler, so per-step batches differ from a Python run); "sequential"
   * takes the pairs in file order, exactly like Python's SequentialSampler.
   */
  train_sampling_strategy: SamplingStrategy;
  /**
   * true: transformers' gradient checkpointing (every layer's forward recomputed in the backward); false: none;
   * null (not set, the studio's default): the memory plan chooses the least recompute that fits the micro-batch
   * (none, then selective, selective_mlp, full: src/model/activations.ts). Not written to JSON when null, so TRL
   * applies its own default (true).
   */
  gradient_checkpointing: boolean | null;
  /** Recorded and passed to the TRL script; the WebGPU engine computes in f32 either way. */
  bf16: boolean;
  // --- LoRA (PEFT LoraConfig names); null = full fine-tuning
  peft: LoraSettings | null;
  /** Accepted TRL/Trainer fields that do not affect the engine (IGNORED_FIELDS), kept for the round trip. */
  ignored: Record<string, unknown>;
}

export function defaultRewardConfig(): RewardConfig {
  return {
    num_train_epochs: 3,
    max_steps: -1,
    per_device_train_batch_size: 8,
    per_device_eval_batch_size: 8,
    gradient_accumulation_steps: 1,
    learning_rate: 1e-4,
    weight_decay: 0,
    adam_beta1: 0.9,
    adam_beta2: 0.999,
    adam_epsilon: 1e-8,
    max_grad_norm: 1.0,
    optim: 'adamw_torch',
    lr_scheduler_type: 'linear',
    warmup_steps: 0,
    warmup_ratio: 0,
    center_rewards_coefficient: null,
    max_length: 1024,
    disable_dropout: true,
    logging_steps: 10,
    eval_strategy: 'no',
    eval_steps: null,
    save_strategy: 'steps',
    save_steps: 500,
    seed: 42,
    train_sampling_strategy: 'random',
    gradient_checkpointing: null,
    bf16: true,
    peft: null,
    ignored: {},
  };
}

/** The fields RewardConfig carries (order = the order toJson writes them in). */
export const REWARD_CONFIG_FIELDS = Object.keys(defaultRewardConfig()).filter((k) => k !== 'ignored') as (keyof Omit<RewardConfig, 'ignored'>)[];

type Check = 'string' | 'string?' | 'bool' | 'number' | 'number?' | 'object?' | 'strings';
/** TRL / TrainingArguments fields accepted and ignored, with why (they do not change what is computed). */
export const IGNORED_FIELDS: Record<string, [Check, string]> = {
  output_dir: ['string?', 'the CLI --out folder and the studio run decide where files go'],
  overwrite_output_dir: ['bool', 'output placement is decided by the CLI and the studio'],
  run_name: ['string?', 'runs are named by the studio'],
  logging_dir: ['string?', 'metrics go to metrics.jsonl and the studio charts'],
  report_to: ['strings', 'metrics go to metrics.jsonl and the studio charts'],
  hub_model_id: ['string?', 'the studio exports folders; push them with huggingface_hub'],
  save_total_limit: ['number?', 'the engine keeps the latest checkpoint'],
  save_only_model: ['bool', 'checkpoints always hold the optimizer state for an exact resume'],
  dataloader_num_workers: ['number', 'no Python data loader'],
  dataloader_pin_memory: ['bool', 'no Python data loader'],
  dataloader_persistent_workers: ['bool', 'no Python data loader'],
  dataloader_prefetch_factor: ['number?', 'no Python data loader'],
  dataset_num_proc: ['number?', 'tokenization runs in the studio workers'],
  remove_unused_columns: ['bool', 'the data pipeline keeps what it needs'],
  pad_to_multiple_of: ['number?', 'padding does not change the rewards; the engine buckets lengths itself'],
  disable_tqdm: ['bool', 'progress is a stderr line / the studio progress bar'],
  do_train: ['bool', 'informational in TrainingArguments too'],
  do_eval: ['bool', 'eval_strategy decides'],
  tf32: ['bool', 'WebGPU has no TF32 mode'],
  torch_compile: ['bool', 'no torch'],
  use_liger_kernel: ['bool', 'no torch'],
  activation_offloading: ['bool', 'no CPU offload'],
  gradient_checkpointing_kwargs: ['object?', 'recomputation is per layer'],
  model_init_kwargs: ['object?', 'the model loads from its folder'],
  trust_remote_code: ['bool', 'Qwen3 needs no remote code'],
  include_tokens_per_second: ['bool', 'tokens_per_second is always logged'],
  full_determinism: ['bool', 'the engine is deterministic'],
  average_tokens_across_devices: ['bool', 'one device'],
};

/** Fields accepted only at their default (non-default changes the math in a way the engine does not implement). */
const DEFAULT_ONLY: Record<string, [unknown, string]> = {
  fp16: [false, 'the engine trains in f32 (bf16 is recorded for the TRL script)'],
  bf16_full_eval: [false, 'evaluation runs in f32'],
  fp16_full_eval: [false, 'evaluation runs in f32'],
  push_to_hub: [false, 'export the folder and push it with huggingface_hub'],
  logging_strategy: ['steps', 'metrics are logged every logging_steps'],
  logging_first_step: [false, 'the first log is at logging_steps'],
  lr_scheduler_kwargs: [null, 'schedules take no extra arguments'],
  dataloader_drop_last: [false, 'the last partial batch is trained, as by default'],
  data_seed: [null, 'seed orders the data'],
  auto_find_batch_size: [false, 'micro-batches are sized to the device automatically; the batch is per_device_train_batch_size'],
  load_best_model_at_end: [false, 'the final weights are exported'],
  eval_on_start: [false, 'evaluation follows eval_strategy'],
  label_smoothing_factor: [0, 'the reward loss has no label smoothing'],
  neftune_noise_alpha: [null, 'NEFTune is not implemented'],
  eos_token: [null, 'the tokenizer\'s EOS is used, as TRL by default'],
  pad_token: [null, 'the tokenizer\'s pad token is used, as TRL by default'],
  chat_template_path: [null, 'the model\'s own chat template is used'],
  use_cpu: [false, 'the engine runs on the GPU'],
};

const KNOWN_TOP = [...REWARD_CONFIG_FIELDS, ...Object.keys(IGNORED_FIELDS), ...Object.keys(DEFAULT_ONLY)];

function checkIgnored(f: Fields, key: string, check: Check): boolean {
  const v = f.obj[key];
  const ok =
    check === 'string' ? typeof v === 'string'
    : check === 'string?' ? v === null || typeof v === 'string'
    : check === 'bool' ? typeof v === 'boolean'
    : check === 'number' ? typeof v === 'number' && Number.isFinite(v)
    : check === 'number?' ? v === null || (typeof v === 'number' && Number.isFinite(v))
    : check === 'object?' ? v === null || isPlainObject(v) || typeof v === 'string'
    : v === null || typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  if (!ok) {
    const want = { string: 'a string', 'string?': 'a string or null', bool: 'true or false', number: 'a number', 'number?': 'a number or null', 'object?': 'an object or null', strings: 'a string or a list of strings' }[check];
    f.fail(key, `expected ${want}, got ${describe(v)}`);
  }
  return ok;
}

/** An interval (logging/eval/save steps): an integer ≥ 1, or a ratio in (0, 1) of the total steps (HF). */
function readInterval(f: Fields, key: string, def: number): number {
  if (!f.has(key)) return def;
  const v = f.obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (v > 1 && !Number.isInteger(v))) {
    f.fail(key, `expected an integer ≥ 1 or a ratio in (0, 1) of the total steps, got ${describe(v)}`);
    return def;
  }
  return v;
}

/**
 * Parses a RewardConfig JSON (TRL names at the top level, LoraConfig names under "peft"). Absent fields take TRL's
 * defaults. Throws ConfigError with one issue per bad field.
 */
export function parseRewardConfig(json: unknown, source = 'config'): RewardConfig {
  if (!isPlainObject(json)) {
    throw new ConfigError(source, [{ field: '(root)', message: `expected a JSON object with RewardConfig fields at the top level, got ${describe(json)}` }]);
  }
  const d = defaultRewardConfig();
  const f = new Fields(json);
  const c: RewardConfig = {
    num_train_epochs: f.number('num_train_epochs', d.num_train_epochs, { min: 0, minExclusive: true, max: 1e6 }),
    max_steps: d.max_steps,
    per_device_train_batch_size: f.integer('per_device_train_batch_size', d.per_device_train_batch_size, { min: 1, max: 65536 }),
    per_device_eval_batch_size: f.integer('per_device_eval_batch_size', d.per_device_eval_batch_size, { min: 1, max: 65536 }),
    gradient_accumulation_steps: f.integer('gradient_accumulation_steps', d.gradient_accumulation_steps, { min: 1, max: 65536 }),
    learning_rate: f.number('learning_rate', d.learning_rate, { min: 0, max: 1 }),
    weight_decay: f.number('weight_decay', d.weight_decay, { min: 0, max: 10 }),
    adam_beta1: f.number('adam_beta1', d.adam_beta1, { min: 0, max: 1, maxExclusive: true }),
    adam_beta2: f.number('adam_beta2', d.adam_beta2, { min: 0, max: 1, maxExclusive: true }),
    adam_epsilon: f.number('adam_epsilon', d.adam_epsilon, { min: 0, minExclusive: true, max: 1 }),
    max_grad_norm: d.max_grad_norm,
    optim: f.oneOf('optim', d.optim, OPTIMIZERS),
    lr_scheduler_type: f.oneOf('lr_scheduler_type', d.lr_scheduler_type, LR_SCHEDULER_TYPES),
    warmup_steps: d.warmup_steps,
    warmup_ratio: f.number('warmup_ratio', d.warmup_ratio, { min: 0, max: 1 }),
    center_rewards_coefficient: f.nullableNumber('center_rewards_coefficient', d.center_rewards_coefficient, { min: 0 }),
    max_length: f.nullableNumber('max_length', d.max_length, { integer: true, min: 1 }),
    disable_dropout: f.boolean('disable_dropout', d.disable_dropout),
    logging_steps: readInterval(f, 'logging_steps', d.logging_steps),
    eval_strategy: f.oneOf('eval_strategy', d.eval_strategy, INTERVAL_STRATEGIES),
    eval_steps: f.has('eval_steps') && json.eval_steps !== null ? readInterval(f, 'eval_steps', 1) : null,
    save_strategy: f.oneOf('save_strategy', d.save_strategy, INTERVAL_STRATEGIES),
    save_steps: readInterval(f, 'save_steps', d.save_steps),
    seed: f.integer('seed', d.seed, { min: 0, max: 2 ** 32 - 1 }),
    train_sampling_strategy: f.oneOf('train_sampling_strategy', d.train_sampling_strategy, SAMPLING_STRATEGIES),
    gradient_checkpointing: f.has('gradient_checkpointing') && json.gradient_checkpointing !== null ? f.boolean('gradient_checkpointing', false) : null,
    bf16: f.boolean('bf16', d.bf16),
    peft: null,
    ignored: {},
  };

  if (f.has('max_steps')) {
    const v = json.max_steps;
    if (typeof v !== 'number' || !Number.isInteger(v) || (v !== -1 && v < 1)) {
      f.fail('max_steps', `expected -1 (train num_train_epochs) or an integer ≥ 1, got ${describe(v)}`);
    } else c.max_steps = v;
  }
  if (f.has('max_grad_norm') && json.max_grad_norm === null) c.max_grad_norm = 0;
  else c.max_grad_norm = f.number('max_grad_norm', d.max_grad_norm, { min: 0 });
  if (f.has('warmup_steps')) {
    const v = json.warmup_steps;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (v >= 1 && !Number.isInteger(v))) {
      f.fail('warmup_steps', `expected an integer ≥ 0 (steps) or a ratio in (0, 1) of the total steps, got ${describe(v)}`);
    } else c.warmup_steps = v;
  }
  if (c.warmup_steps > 0 && c.warmup_ratio > 0) {
    f.fail('warmup_ratio', `is ${c.warmup_ratio} while warmup_steps is ${c.warmup_steps}: transformers 4 and 5 disagree on which wins — set only one`);
  }

  if (f.has('peft') && json.peft !== null) {
    if (!isPlainObject(json.peft)) f.fail('peft', `expected null (full fine-tuning) or an object with LoraConfig fields, got ${describe(json.peft)}`);
    else c.peft = readLoraSettings(new Fields(json.peft, 'peft.', f.issues), { allowAdapterKeys: true });
  }

  for (const [key, [check]] of Object.entries(IGNORED_FIELDS)) {
    if (f.has(key) && checkIgnored(f, key, check)) c.ignored[key] = json[key];
  }
  for (const [key, [def, why]] of Object.entries(DEFAULT_ONLY)) f.onlyDefault(key, def, why);
  f.rejectUnknown([...KNOWN_TOP, 'peft'], (key) => {
    if (key === 'lora' || key === 'lora_config' || key === 'peft_config') return 'put the LoRA settings in "peft": {"r": 16, ...} (null = full fine-tuning)';
    if (LORA_CONFIG_KEYS.includes(key)) return `"${key}" is a LoraConfig field: put it inside "peft": {...}`;
    return null;
  });
  f.throwIfAny(source);
  return c;
}

/**
 * The JSON form (the --config / studio export format). With `onlyNonDefault`, fields equal to TRL's defaults are
 * left out (the "peft" key is always written: null for full fine-tuning).
 */
export function rewardConfigToJson(c: RewardConfig, opts: { onlyNonDefault?: boolean } = {}): Record<string, unknown> {
  const d = defaultRewardConfig();
  const out: Record<string, unknown> = {};
  for (const k of REWARD_CONFIG_FIELDS) {
    if (k === 'peft') continue;
    if (k === 'gradient_checkpointing' && c[k] === null) continue; // not set: TRL's default applies there, the plan's choice here
    if (opts.onlyNonDefault && c[k] === d[k]) continue;
    out[k] = c[k];
  }
  for (const [k, v] of Object.entries(c.ignored)) out[k] = v;
  out.peft = c.peft === null ? null : loraToJson(c.peft, opts.onlyNonDefault ?? false);
  return out;
}

function loraToJson(s: LoraSettings, onlyNonDefault: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s) as [keyof LoraSettings, unknown][]) {
    if (onlyNonDefault && JSON.stringify(v) === JSON.stringify(LORA_DEFAULTS[k])) continue;
    out[k] = v;
  }
  return out;
}

/** Pretty JSON text of rewardConfigToJson. */
export function rewardConfigToText(c: RewardConfig, opts: { onlyNonDefault?: boolean } = {}): string {
  return JSON.stringify(rewardConfigToJson(c, opts), null, 2) + '\n';
}

// ---------------------------------------------------------------------------------------------- derived settings

/** HF Trainer's weight-decay grouping; the rule lives with the parameter table (src/model/params.ts). */
export { weightDecayApplies } from '../model/params.ts';

/** The LoRA dropout the trainer applies: 0 when disable_dropout (TRL zeroes every dropout after get_peft_model). */
export function effectiveLoraDropout(c: RewardConfig): number {
  return c.peft === null || c.disable_dropout ? 0 : c.peft.lora_dropout;
}

/** Non-fatal notes on a valid config (shown by the studio, printed by the CLI). */
export function configWarnings(c: RewardConfig): string[] {
  const w: string[] = [];
  if (c.lr_scheduler_type === 'constant' && (c.warmup_steps > 0 || c.warmup_ratio > 0)) {
    w.push('lr_scheduler_type "constant" ignores warmup (as transformers\' get_scheduler); use "constant_with_warmup" to warm up');
  }
  if (c.peft && c.peft.lora_dropout > 0 && c.disable_dropout) {
    w.push(`peft.lora_dropout ${c.peft.lora_dropout} has no effect while disable_dropout is true (TRL sets every dropout to 0); set disable_dropout false to use it`);
  }
  if (c.eval_strategy === 'no' && c.eval_steps !== null) w.push('eval_steps is set but eval_strategy is "no": no evaluation will run');
  if (c.save_strategy === 'no' && c.save_steps !== defaultRewardConfig().save_steps) w.push('save_steps is set but save_strategy is "no": no checkpoints will be written');
  return w;
}

// ---------------------------------------------------------------------------------------------- presets

export interface RewardPreset {
  id: 'trl_defaults' | 'seed_pipeline' | 'fast_lora';
  label: string;
  description: string;
  /** A fresh config (callers may mutate it). */
  config(): RewardConfig;
}

export const REWARD_PRESETS: readonly RewardPreset[] = [
  {
    id: 'trl_defaults',
    label: 'TRL defaults',
    description: 'RewardConfig() as TRL ships it: lr 1e-4, batch 8, 3 epochs, linear schedule, full fine-tuning.',
    config: defaultRewardConfig,
  },
  {
    id: 'seed_pipeline',
    label: 'Original Python recipe',
    description: 'The settings of the original Python training recipe: lr 1.41e-5, batch 32, 3 epochs, 100 warmup steps, adamw_torch, bf16, no gradient checkpointing.',
    config: () => ({
      ...defaultRewardConfig(),
      learning_rate: 1.41e-5,
      per_device_train_batch_size: 32,
      num_train_epochs: 3,
      warmup_steps: 100,
      optim: 'adamw_torch',
      bf16: true,
      gradient_checkpointing: false,
      gradient_accumulation_steps: 1,
    }),
  },
  {
    id: 'fast_lora',
    label: 'Fast LoRA',
    description: 'LoRA r 16 / alpha 32 on every linear layer, lr 2e-4, 1 epoch, 3% warmup, pairs up to 512 tokens, no gradient checkpointing.',
    config: () => ({
      ...defaultRewardConfig(),
      learning_rate: 2e-4,
      num_train_epochs: 1,
      warmup_ratio: 0.03,
      max_length: 512,
      gradient_checkpointing: false,
      eval_strategy: 'steps',
      eval_steps: 100,
      peft: { ...LORA_DEFAULTS, r: 16, lora_alpha: 32, target_modules: [...LORA_TARGETS] },
    }),
  },
];

export function rewardPreset(id: RewardPreset['id']): RewardConfig {
  const p = REWARD_PRESETS.find((x) => x.id === id);
  if (!p) throw new Error(`unknown preset "${id}"; presets: ${REWARD_PRESETS.map((x) => x.id).join(', ')}`);
  return p.config();
}
