// Qwen3 config.json: parse, validate, resolve defaults exactly as transformers' Qwen3Config does, and count
// parameters. Field names stay snake_case as in Hugging Face, so a config.json reads the same here.
//
// Resolution rules (transformers configuration_qwen3.py, v4 and v5):
// - head_dim absent → 128 (Qwen3Config's default; NOT hidden_size / num_attention_heads — the shapes of the weights
//   then tell whether the file is consistent). num_key_value_heads null → num_attention_heads; absent → 32.
// - rope_theta: top-level `rope_theta` (v4 files) or `rope_parameters.rope_theta` (v5 files); absent → 10000.
//   Only the default RoPE (rope_type "default", no rope_scaling) is implemented.
// - pad_token_id is absent in base checkpoints: null here; the trainer sets it to the tokenizer's pad (151643 for
//   Qwen3) as TRL does (`model.config.pad_token_id = tokenizer.pad_token_id`), see withPadTokenId.
// - The five core sizes (hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, vocab_size) are
//   required: transformers would silently fall back to Qwen3-8B's sizes, which is never what a user means.
//
// Legend: C hidden, F ffn dim, H query heads, Hkv kv heads, D head dim, V vocab, L layers.
import { ConfigError, Fields, describe, isPlainObject } from '../formats/fields.ts';
import { parseJsonText } from '../formats/json_text.ts';
import type { ModelDims } from './params.ts';
import type { HfModelShape } from '../formats/hf_model.ts';

/** vocab_size V, hidden_size C, intermediate_size F, num_hidden_layers L, num_attention_heads H,
 *  num_key_value_heads Hkv, head_dim D (resolved) come from HfModelShape. */
export interface Qwen3Config extends HfModelShape {
  architectures: string[];
  model_type: 'qwen3';
  rms_norm_eps: number;
  rope_theta: number; // resolved from either place
  max_position_embeddings: number;
  initializer_range: number;
  tie_word_embeddings: boolean;
  attention_bias: false;
  hidden_act: 'silu';
  pad_token_id: number | null;
  bos_token_id: number | null;
  eos_token_id: number | number[] | null;
  /** num_labels, or the size of id2label; null when neither is given (a base causal-LM checkpoint). */
  num_labels: number | null;
  /** `torch_dtype` (v4) or `dtype` (v5) as written, e.g. "bfloat16"; null when absent. */
  torch_dtype: string | null;
  /** The parsed JSON as given, kept so an export can carry the fields we do not interpret. */
  raw: Record<string, unknown>;
}

/** transformers' Qwen3Config defaults for the fields config.json may omit. */
export const QWEN3_DEFAULTS = {
  head_dim: 128,
  num_key_value_heads: 32,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  max_position_embeddings: 32768,
  initializer_range: 0.02,
  tie_word_embeddings: false,
} as const;

/** Qwen3's tokenizer pad token `<|endoftext|>`, which TRL writes into config.pad_token_id. */
export const QWEN3_PAD_TOKEN_ID = 151643;

/**
 * Upper bounds on config.json's sizes, checked before anything is sized or allocated from them (a lying
 * `num_hidden_layers: 1e12` must be a refusal, not a loop that runs the process out of memory). Each is far above any
 * released checkpoint (Qwen3-235B: hidden 4096, 94 layers, vocab 151936, 40960 positions; Llama-3.1-405B: hidden
 * 16384, ffn 53248, 126 layers) and keeps every id and index inside a signed 32-bit integer, as the kernels need.
 */
export const MODEL_LIMITS = {
  hidden_size: 65536,
  intermediate_size: 262144,
  num_hidden_layers: 1024,
  num_attention_heads: 1024,
  num_key_value_heads: 1024,
  head_dim: 1024,
  vocab_size: 1 << 24,
  max_position_embeddings: 1 << 24,
} as const;

const REQUIRED = ['hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size'] as const;
const REQUIRED_EXAMPLE: Record<(typeof REQUIRED)[number], number> = {
  hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16, vocab_size: 151936,
};

function tokenId(f: Fields, key: string): number | null {
  return f.nullableNumber(key, null, { integer: true, min: 0 });
}

/** Parses and validates a Qwen3 config.json (already JSON-parsed). Throws ConfigError naming every bad field. */
export function parseQwen3Config(json: unknown, file = 'config.json'): Qwen3Config {
  if (!isPlainObject(json)) throw new ConfigError(file, [{ field: '(root)', message: `expected a JSON object, got ${describe(json)}` }]);
  const f = new Fields(json);

  const architectures = f.stringList('architectures', []);
  const modelType = json.model_type;
  if (modelType === undefined) {
    if (!architectures.some((a) => a.startsWith('Qwen3'))) {
      f.fail('model_type', 'is missing; a Qwen3 config.json has "model_type": "qwen3"');
    }
  } else if (modelType !== 'qwen3') {
    f.fail('model_type', `${describe(modelType)} is not supported: the engine implements Qwen3 ("qwen3") only — choose a Qwen3 checkpoint such as Qwen/Qwen3-0.6B`);
  }

  const core = {} as Record<(typeof REQUIRED)[number], number>;
  for (const key of REQUIRED) {
    if (!f.has(key)) f.fail(key, `is missing; config.json must give it (Qwen3-0.6B: ${REQUIRED_EXAMPLE[key]})`);
    core[key] = f.integer(key, 0, { min: 1, max: MODEL_LIMITS[key] });
  }
  let num_key_value_heads: number = QWEN3_DEFAULTS.num_key_value_heads;
  if (f.has('num_key_value_heads') && json.num_key_value_heads === null) num_key_value_heads = core.num_attention_heads;
  else num_key_value_heads = f.integer('num_key_value_heads', num_key_value_heads, { min: 1, max: MODEL_LIMITS.num_key_value_heads });
  const head_dim = f.integer('head_dim', QWEN3_DEFAULTS.head_dim, { min: 2, max: MODEL_LIMITS.head_dim });
  if (head_dim % 2 !== 0) f.fail('head_dim', `must be even for the half-split RoPE, got ${head_dim}`);
  if (core.num_attention_heads > 0 && num_key_value_heads > 0 && core.num_attention_heads % num_key_value_heads !== 0) {
    f.fail('num_key_value_heads', `must divide num_attention_heads (${core.num_attention_heads}) for grouped-query attention, got ${num_key_value_heads}`);
  }

  const rms_norm_eps = f.number('rms_norm_eps', QWEN3_DEFAULTS.rms_norm_eps, { min: 0, minExclusive: true, max: 1 });
  const rope_theta = readRopeTheta(f);
  const max_position_embeddings = f.integer('max_position_embeddings', QWEN3_DEFAULTS.max_position_embeddings, { min: 1, max: MODEL_LIMITS.max_position_embeddings });
  const initializer_range = f.number('initializer_range', QWEN3_DEFAULTS.initializer_range, { min: 0 });
  const tie_word_embeddings = f.boolean('tie_word_embeddings', QWEN3_DEFAULTS.tie_word_embeddings);

  if (f.boolean('attention_bias', false)) f.fail('attention_bias', 'true is not supported: the engine has no q/k/v/o biases (Qwen3 checkpoints use false)');
  f.oneOf('hidden_act', 'silu', ['silu']);
  if (f.boolean('use_sliding_window', false)) f.fail('use_sliding_window', 'true is not supported: the engine implements full causal attention only');
  if (f.has('layer_types') && json.layer_types !== null) {
    const lt = f.stringList('layer_types', [], undefined, true);
    if (lt.some((t) => t !== 'full_attention')) f.fail('layer_types', `only "full_attention" layers are supported, got ${describe(lt)}`);
    else if (core.num_hidden_layers > 0 && lt.length !== core.num_hidden_layers) {
      f.fail('layer_types', `has ${lt.length} entries but num_hidden_layers is ${core.num_hidden_layers}`);
    }
  }
  const attnDrop = f.number('attention_dropout', 0, { min: 0, max: 1 });
  void attnDrop; // dropout is off in training (TRL disable_dropout) and in eval; any value is accepted

  const pad_token_id = tokenId(f, 'pad_token_id');
  const bos_token_id = tokenId(f, 'bos_token_id');
  let eos_token_id: number | number[] | null = null;
  if (Array.isArray(json.eos_token_id)) {
    if (json.eos_token_id.every((x) => Number.isInteger(x) && (x as number) >= 0)) eos_token_id = json.eos_token_id as number[];
    else f.fail('eos_token_id', `expected a token id or a list of token ids, got ${describe(json.eos_token_id)}`);
  } else eos_token_id = tokenId(f, 'eos_token_id');
  for (const [key, id] of [['pad_token_id', pad_token_id], ['bos_token_id', bos_token_id]] as const) {
    if (id !== null && core.vocab_size > 0 && id >= core.vocab_size) f.fail(key, `${id} is outside the vocabulary (vocab_size ${core.vocab_size})`);
  }

  let num_labels: number | null = f.nullableNumber('num_labels', null, { integer: true, min: 1, max: 65536 });
  if (f.has('id2label') && json.id2label !== null) {
    if (!isPlainObject(json.id2label)) f.fail('id2label', `expected an object like {"0": "LABEL_0"}, got ${describe(json.id2label)}`);
    else {
      const n = Object.keys(json.id2label).length;
      if (num_labels !== null && num_labels !== n) f.fail('num_labels', `is ${num_labels} but id2label has ${n} entries`);
      num_labels = n;
    }
  }
  const torch_dtype = f.has('torch_dtype') && json.torch_dtype !== null ? f.string('torch_dtype', '') : f.nullableString('dtype', null);

  f.throwIfAny(file);
  return {
    architectures,
    model_type: 'qwen3',
    ...core,
    num_key_value_heads,
    head_dim,
    rms_norm_eps,
    rope_theta,
    max_position_embeddings,
    initializer_range,
    tie_word_embeddings,
    attention_bias: false,
    hidden_act: 'silu',
    pad_token_id,
    bos_token_id,
    eos_token_id,
    num_labels,
    torch_dtype,
    raw: json,
  };
}

function readRopeTheta(f: Fields): number {
  const json = f.obj;
  let top: number | null = null;
  if (f.has('rope_theta')) top = f.number('rope_theta', QWEN3_DEFAULTS.rope_theta, { min: 0, minExclusive: true });
  let nested: number | null = null;
  if (f.has('rope_parameters') && json.rope_parameters !== null) {
    const rp = json.rope_parameters;
    if (!isPlainObject(rp)) f.fail('rope_parameters', `expected an object like {"rope_type": "default", "rope_theta": 1000000.0}, got ${describe(rp)}`);
    else {
      const sub = new Fields(rp, 'rope_parameters.', f.issues);
      sub.oneOf('rope_type', 'default', ['default']);
      if (sub.has('rope_theta')) nested = sub.number('rope_theta', QWEN3_DEFAULTS.rope_theta, { min: 0, minExclusive: true });
    }
  }
  if (f.has('rope_scaling') && json.rope_scaling !== null) {
    const rs = json.rope_scaling;
    const type = isPlainObject(rs) ? (rs.rope_type ?? rs.type) : undefined;
    if (type !== 'default') f.fail('rope_scaling', `only the default RoPE is supported (rope_scaling null), got ${describe(rs)}`);
  }
  if (top !== null && nested !== null && top !== nested) {
    f.fail('rope_theta', `is ${top} but rope_parameters.rope_theta is ${nested}; keep one, or make them equal`);
  }
  return nested ?? top ?? QWEN3_DEFAULTS.rope_theta;
}

/** config.json's text (BOM, empty, truncated and over-deep files are refused with file:line:column) → a bounded,
 *  validated config. The one entry every loader uses (CLI score/eval/train/plan, the studio's workers). */
export function parseModelConfigText(text: string, file = 'config.json'): Qwen3Config {
  return parseQwen3Config(parseJsonText(text, file, { what: 'a model config.json object' }), file);
}

/** A copy with pad_token_id set (TRL: the tokenizer's pad token; Qwen3: 151643). */
export function withPadTokenId(cfg: Qwen3Config, padTokenId: number = QWEN3_PAD_TOKEN_ID): Qwen3Config {
  if (!Number.isInteger(padTokenId) || padTokenId < 0 || padTokenId >= cfg.vocab_size) {
    throw new Error(`pad_token_id ${padTokenId} is outside the vocabulary (vocab_size ${cfg.vocab_size})`);
  }
  return { ...cfg, pad_token_id: padTokenId };
}

/** The engine's dims. Needs pad_token_id (set it with withPadTokenId first). */
export function modelDims(cfg: Qwen3Config): ModelDims {
  if (cfg.pad_token_id === null) {
    throw new Error('config.json has no pad_token_id: set it to the tokenizer\'s pad token (Qwen3: 151643) with withPadTokenId before building the model');
  }
  return {
    C: cfg.hidden_size,
    F: cfg.intermediate_size,
    L: cfg.num_hidden_layers,
    H: cfg.num_attention_heads,
    Hkv: cfg.num_key_value_heads,
    D: cfg.head_dim,
    V: cfg.vocab_size,
    eps: cfg.rms_norm_eps,
    theta: cfg.rope_theta,
    padId: cfg.pad_token_id,
    initializerRange: cfg.initializer_range,
  };
}

export interface Qwen3ParamCount {
  embedding: number; // V·C
  perLayer: number; // q, k, v, o, q_norm, k_norm, gate, up, down, 2 norms
  layers: number; // L·perLayer
  finalNorm: number; // C
  score: number; // num_labels (1 for a reward model) · C
  total: number;
  /** total − embedding. */
  nonEmbedding: number;
}

/** Parameter count of Qwen3ForSequenceClassification (no lm_head; the score head has `numLabels` rows). */
export function qwen3ParamCount(cfg: HfModelShape, numLabels = 1): Qwen3ParamCount {
  const C = cfg.hidden_size;
  const F = cfg.intermediate_size;
  const qd = cfg.num_attention_heads * cfg.head_dim; // H·D
  const kvd = cfg.num_key_value_heads * cfg.head_dim; // Hkv·D
  const embedding = cfg.vocab_size * C;
  const perLayer = qd * C + 2 * kvd * C + C * qd + 2 * cfg.head_dim + 3 * F * C + 2 * C;
  const layers = cfg.num_hidden_layers * perLayer;
  const finalNorm = C;
  const score = numLabels * C;
  const total = embedding + layers + finalNorm + score;
  return { embedding, perLayer, layers, finalNorm, score, total, nonEmbedding: total - embedding };
}
