// PEFT LoRA adapters for a Qwen3ForSequenceClassification reward model: the LoraConfig settings (PEFT's names and
// defaults), the adapter_config.json PEFT writes for task_type SEQ_CLS, and adapter_model.safetensors key names, both
// ways. Export → `PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base, num_labels=1),
// folder)` loads with no missing or unexpected keys; import reads such a folder back.
//
// Facts from PEFT's source (v0.18.1: src/peft/config.py, src/peft/tuners/lora/config.py, utils/save_and_load.py,
// peft_model.py):
// - save_pretrained writes `json.dumps(config.to_dict(), indent=2, sort_keys=True)` (no trailing newline); to_dict is
//   dataclasses.asdict minus `runtime_config`; sets (target_modules) become `list(set)`, i.e. arbitrary order — we
//   write them sorted; inference_mode is true in the saved file.
// - PeftModelForSequenceClassification appends ["classifier", "score"] to modules_to_save (None → exactly that list).
// - Adapter keys drop the adapter name: `base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight` [r, in],
//   `...lora_B.weight` [out, r]; a modules_to_save head is stored without its `modules_to_save.default.` infix:
//   `base_model.model.score.weight` [1, hidden]. Safetensors metadata {"format": "pt"}.
// - Loading a config with keys a PEFT version does not know drops them with a warning (PEFT ≥ 0.14), and absent keys
//   take their defaults; we write exactly v0.18.1's key set.
//
// Legend: L layers, C hidden, R LoRA rank.
import { serializeSafetensors, type TensorToWrite } from './safetensors.ts';
import { ConfigError, Fields, describe, isPlainObject, type FieldIssue } from './fields.ts';

/** The seven linear layers LoRA can target (PEFT module names) in HF module order, with their parent module. */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];
const PARENT: Record<LoraTarget, 'self_attn' | 'mlp'> = {
  q_proj: 'self_attn', k_proj: 'self_attn', v_proj: 'self_attn', o_proj: 'self_attn',
  gate_proj: 'mlp', up_proj: 'mlp', down_proj: 'mlp',
};

/** PEFT's default target_modules for model_type qwen3 (TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING). */
export const QWEN3_DEFAULT_TARGETS: LoraTarget[] = ['q_proj', 'v_proj'];

/** The PEFT version whose adapter_config.json key set we write. */
export const PEFT_FORMAT_VERSION = '0.18.1';

/** LoraConfig fields the engine implements, PEFT names and defaults. */
export interface LoraSettings {
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: LoraTarget[];
  use_rslora: boolean;
  /** Extra modules the user listed (PEFT then appends "classifier", "score"); the score head always trains in full. */
  modules_to_save: string[] | null;
}

export const LORA_DEFAULTS: LoraSettings = {
  r: 8,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: [...QWEN3_DEFAULT_TARGETS],
  use_rslora: false,
  modules_to_save: null,
};

/** scale = lora_alpha / r, or lora_alpha / √r with use_rslora (PEFT LoraLayer.update_layer). */
export function loraScaling(s: Pick<LoraSettings, 'r' | 'lora_alpha' | 'use_rslora'>): number {
  return s.use_rslora ? s.lora_alpha / Math.sqrt(s.r) : s.lora_alpha / s.r;
}

// ---------------------------------------------------------------------------------------------- settings parsing

const SUPPORTED_KEYS = ['r', 'lora_alpha', 'lora_dropout', 'target_modules', 'use_rslora', 'modules_to_save', 'task_type', 'bias', 'init_lora_weights'] as const;

/**
 * PEFT LoraConfig / adapter_config.json keys the engine does not implement: accepted only with PEFT's default value,
 * so a pasted adapter_config.json or LoraConfig dump parses, and a non-default value is refused with the reason.
 */
const DEFAULT_ONLY: Record<string, [unknown, string]> = {
  fan_in_fan_out: [false, 'Qwen3 linears are (out, in) nn.Linear'],
  use_dora: [false, 'DoRA is not implemented'],
  lora_bias: [false, 'LoRA biases are not implemented'],
  exclude_modules: [null, 'use target_modules to choose the layers'],
  layers_to_transform: [null, 'LoRA applies to every layer'],
  layers_pattern: [null, 'LoRA applies to every layer'],
  rank_pattern: [{}, 'one rank for every module'],
  alpha_pattern: [{}, 'one lora_alpha for every module'],
  trainable_token_indices: [null, 'trainable tokens are not implemented'],
  use_qalora: [false, 'QA-LoRA is not implemented'],
  layer_replication: [null, 'layer replication is not implemented'],
  target_parameters: [null, 'only nn.Linear modules are targeted'],
  alora_invocation_tokens: [null, 'aLoRA is not implemented'],
  megatron_config: [null, 'Megatron is not used'],
  loftq_config: [{}, 'LoftQ init is not implemented'],
  eva_config: [null, 'EVA init is not implemented'],
  corda_config: [null, 'CorDA init is not implemented'],
  lora_ga_config: [null, 'LoRA-GA init is not implemented'],
  arrow_config: [null, 'Arrow routing is not implemented'],
  use_bdlora: [null, 'block-diagonal LoRA is not implemented'],
  velora_config: [null, 'VeLoRA is not implemented'],
  monteclora_config: [null, 'MonteCLoRA is not implemented'],
  ensure_weight_tying: [false, 'no tied adapter weights'],
};
/** Informational adapter_config.json keys, read by parseAdapterConfig and otherwise ignored. */
const ADAPTER_INFO_KEYS = ['peft_type', 'base_model_name_or_path', 'revision', 'inference_mode', 'auto_mapping', 'peft_version', 'megatron_core', 'qalora_group_size'] as const;

/** Every key parseLoraSettings accepts (for "did you mean" suggestions). */
export const LORA_CONFIG_KEYS: readonly string[] = [...SUPPORTED_KEYS, ...Object.keys(DEFAULT_ONLY)];

/**
 * Reads LoraConfig fields from `obj` into `f`'s issue list (paths prefixed like "peft."). target_modules may be the
 * list of module names or "all-linear" (PEFT: every linear layer but the output head → all seven). With
 * `allowAdapterKeys`, the informational keys of LoraConfig.to_dict() / adapter_config.json (peft_type,
 * base_model_name_or_path, revision, inference_mode, ...) are accepted and ignored, so a dumped config can be pasted.
 */
export function readLoraSettings(f: Fields, opts: { allowAdapterKeys?: boolean } = {}): LoraSettings {
  const r = f.integer('r', LORA_DEFAULTS.r, { min: 1, max: 4096 });
  const lora_alpha = f.number('lora_alpha', LORA_DEFAULTS.lora_alpha, { min: 0, minExclusive: true });
  const lora_dropout = f.number('lora_dropout', LORA_DEFAULTS.lora_dropout, { min: 0, max: 1, maxExclusive: true });
  let target_modules = [...LORA_DEFAULTS.target_modules];
  if (f.has('target_modules') && f.obj.target_modules !== null) {
    const v = f.obj.target_modules;
    if (v === 'all-linear') target_modules = [...LORA_TARGETS];
    else if (typeof v === 'string') {
      f.fail('target_modules', `a regular expression (${describe(v)}) is not supported; list module names among ${LORA_TARGETS.join(', ')} or use "all-linear"`);
    } else {
      const list = f.stringList('target_modules', target_modules, LORA_TARGETS);
      if (f.issues.every((i) => i.field !== f.path('target_modules'))) {
        if (list.length === 0) f.fail('target_modules', 'is empty; list at least one of ' + LORA_TARGETS.join(', '));
        else target_modules = LORA_TARGETS.filter((t) => list.includes(t));
      }
    }
  }
  const use_rslora = f.boolean('use_rslora', LORA_DEFAULTS.use_rslora);
  let modules_to_save: string[] | null = null;
  if (f.has('modules_to_save') && f.obj.modules_to_save !== null) {
    modules_to_save = f.stringList('modules_to_save', [], ['score', 'classifier']);
  }
  f.oneOf('task_type', 'SEQ_CLS', ['SEQ_CLS']);
  f.oneOf('bias', 'none', ['none']);
  if (f.has('init_lora_weights') && f.obj.init_lora_weights !== true) {
    f.fail('init_lora_weights', `only true (Kaiming-uniform A, zero B) is supported, got ${describe(f.obj.init_lora_weights)}`);
  }
  for (const [key, [def, why]] of Object.entries(DEFAULT_ONLY)) f.onlyDefault(key, def, why);
  if (opts.allowAdapterKeys && f.has('peft_type') && f.obj.peft_type !== 'LORA') {
    f.fail('peft_type', `only LoRA is supported (peft_type "LORA"), got ${describe(f.obj.peft_type)}`);
  }
  const known = opts.allowAdapterKeys ? [...LORA_CONFIG_KEYS, ...ADAPTER_INFO_KEYS] : LORA_CONFIG_KEYS;
  f.rejectUnknown(known);
  return { r, lora_alpha, lora_dropout, target_modules, use_rslora, modules_to_save };
}

/** Parses a standalone LoraConfig JSON object (the studio's "peft" block). Throws ConfigError listing every issue. */
export function parseLoraSettings(json: unknown, source = 'peft'): LoraSettings {
  if (!isPlainObject(json)) throw new ConfigError(source, [{ field: '(root)', message: `expected a JSON object with LoraConfig fields, got ${describe(json)}` }]);
  const f = new Fields(json);
  const s = readLoraSettings(f);
  f.throwIfAny(source);
  return s;
}

// ---------------------------------------------------------------------------------------------- adapter_config.json

/** modules_to_save as PEFT writes it for SEQ_CLS: the user's list, then "classifier", "score" appended. */
export function savedModulesToSave(s: LoraSettings): string[] {
  return [...(s.modules_to_save ?? []), 'classifier', 'score'];
}

/** A float that json.dumps must print as a Python float (0 → 0.0). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** The adapter_config.json object (PEFT v0.18.1 LoraConfig.to_dict for task_type SEQ_CLS, inference_mode true). */
export function adapterConfigObject(s: LoraSettings, opts: { base_model_name_or_path: string | null; revision?: string | null }): Record<string, unknown> {
  return {
    alora_invocation_tokens: null,
    alpha_pattern: {},
    arrow_config: null,
    auto_mapping: null,
    base_model_name_or_path: opts.base_model_name_or_path,
    bias: 'none',
    corda_config: null,
    ensure_weight_tying: false,
    eva_config: null,
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: Number.isInteger(s.lora_alpha) ? s.lora_alpha : new PyFloat(s.lora_alpha),
    lora_bias: false,
    lora_dropout: new PyFloat(s.lora_dropout),
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: savedModulesToSave(s),
    peft_type: 'LORA',
    peft_version: PEFT_FORMAT_VERSION,
    qalora_group_size: 16,
    r: s.r,
    rank_pattern: {},
    revision: opts.revision ?? null,
    target_modules: [...s.target_modules].sort(),
    target_parameters: null,
    task_type: 'SEQ_CLS',
    trainable_token_indices: null,
    use_dora: false,
    use_qalora: false,
    use_rslora: s.use_rslora,
  };
}

/** adapter_config.json text, byte-identical to PEFT's save_pretrained for the same settings (target_modules sorted). */
export function buildAdapterConfig(s: LoraSettings, opts: { base_model_name_or_path: string | null; revision?: string | null }): string {
  return pythonJsonDumps(adapterConfigObject(s, opts));
}

/** What parseAdapterConfig returns: the settings plus the adapter's own fields. */
export interface AdapterConfig {
  lora: LoraSettings;
  /** As written (PEFT's list, "classifier"/"score" included). */
  modules_to_save: string[];
  base_model_name_or_path: string | null;
  revision: string | null;
  peft_version: string | null;
}

/**
 * Validates an adapter_config.json (parsed JSON) for loading back: a LoRA adapter for sequence classification that
 * the engine can run. Unknown keys from newer PEFT versions are refused only if they are not in PEFT's key set;
 * every problem is reported with its field.
 */
export function parseAdapterConfig(json: unknown, file = 'adapter_config.json'): AdapterConfig {
  if (!isPlainObject(json)) throw new ConfigError(file, [{ field: '(root)', message: `expected a JSON object, got ${describe(json)}` }]);
  const f = new Fields(json);
  if (!f.has('peft_type')) f.fail('peft_type', 'is missing; a PEFT adapter_config.json has "peft_type": "LORA"');
  if (f.has('task_type') && json.task_type !== 'SEQ_CLS') {
    f.fail('task_type', `expected "SEQ_CLS" (an adapter for AutoModelForSequenceClassification), got ${describe(json.task_type)}`);
  }
  // task_type and modules_to_save are checked here as an adapter writes them; the rest as LoraConfig settings.
  const rest = Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'task_type' && k !== 'modules_to_save'));
  const lora = readLoraSettings(new Fields(rest, '', f.issues), { allowAdapterKeys: true });
  const modules_to_save = f.has('modules_to_save') && json.modules_to_save !== null ? f.stringList('modules_to_save', []) : [];
  if (!modules_to_save.includes('score')) {
    f.fail('modules_to_save', `must include "score" (the reward head is stored in the adapter), got ${describe(json.modules_to_save ?? null)}`);
  }
  const other = modules_to_save.filter((m) => m !== 'score' && m !== 'classifier');
  if (other.length) f.fail('modules_to_save', `only the score head can be saved in full, got ${describe(other)}`);
  lora.modules_to_save = null;
  const base_model_name_or_path = f.nullableString('base_model_name_or_path', null);
  const revision = f.nullableString('revision', null);
  const peft_version = f.nullableString('peft_version', null);
  f.throwIfAny(file);
  return { lora, modules_to_save, base_model_name_or_path, revision, peft_version };
}

// ---------------------------------------------------------------------------------------------- tensor names

export const ADAPTER_PREFIX = 'base_model.model.';
/** The HF name of the reward head, and its key in adapter_model.safetensors. */
export const SCORE_NAME = 'score.weight';

/** HF-side LoRA tensor name, as the engine's parameter table names it: model.layers.{i}.self_attn.q_proj.lora_A.weight. */
export function loraTensorName(layer: number, target: LoraTarget, ab: 'A' | 'B'): string {
  return `model.layers.${layer}.${PARENT[target]}.${target}.lora_${ab}.weight`;
}

/** HF-side name → adapter_model.safetensors key (adds "base_model.model."). */
export function hfToAdapterKey(name: string): string {
  return ADAPTER_PREFIX + name;
}

/**
 * adapter_model.safetensors key → HF-side name. Strips "base_model.model." and the infixes older or raw state dicts
 * carry: "modules_to_save.default." (score) and a ".default" adapter name after lora_A / lora_B. Returns null for a
 * key without the prefix.
 */
export function adapterKeyToHf(key: string): string | null {
  if (!key.startsWith(ADAPTER_PREFIX)) return null;
  return key
    .slice(ADAPTER_PREFIX.length)
    .replace('.modules_to_save.default.', '.')
    .replace(/\.lora_([AB])\.default\.weight$/, '.lora_$1.weight');
}

/** The adapter's tensor keys in HF module order (layer by layer, attention then MLP, score last). */
export function adapterTensorNames(s: Pick<LoraSettings, 'target_modules'>, numLayers: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < numLayers; i++) {
    for (const t of LORA_TARGETS) {
      if (!s.target_modules.includes(t)) continue;
      out.push(hfToAdapterKey(loraTensorName(i, t, 'A')), hfToAdapterKey(loraTensorName(i, t, 'B')));
    }
  }
  out.push(hfToAdapterKey(SCORE_NAME));
  return out;
}

/** The dims a LoRA shape needs. */
export interface AdapterDims {
  L: number; // num_hidden_layers
  C: number; // hidden_size
  F: number; // intermediate_size
  H: number; // num_attention_heads
  Hkv: number; // num_key_value_heads
  D: number; // head_dim
}

/** (out, in) of a target linear. */
export function targetShape(d: AdapterDims, t: LoraTarget): [number, number] {
  switch (t) {
    case 'q_proj': return [d.H * d.D, d.C];
    case 'k_proj':
    case 'v_proj': return [d.Hkv * d.D, d.C];
    case 'o_proj': return [d.C, d.H * d.D];
    case 'gate_proj':
    case 'up_proj': return [d.F, d.C];
    case 'down_proj': return [d.C, d.F];
  }
}

/** Every adapter tensor with its shape: lora_A [R, in], lora_B [out, R], score [1, C]. */
export function adapterTensorShapes(s: Pick<LoraSettings, 'target_modules' | 'r'>, d: AdapterDims): { key: string; name: string; shape: number[] }[] {
  const out: { key: string; name: string; shape: number[] }[] = [];
  for (let i = 0; i < d.L; i++) {
    for (const t of LORA_TARGETS) {
      if (!s.target_modules.includes(t)) continue;
      const [o, inn] = targetShape(d, t);
      for (const [ab, shape] of [['A', [s.r, inn]], ['B', [o, s.r]]] as const) {
        const name = loraTensorName(i, t, ab);
        out.push({ key: hfToAdapterKey(name), name, shape: [...shape] });
      }
    }
  }
  out.push({ key: hfToAdapterKey(SCORE_NAME), name: SCORE_NAME, shape: [1, d.C] });
  return out;
}

/**
 * Matches the tensors of an adapter_model.safetensors (key → shape) against what the settings and dims require.
 * Returns HF name → file key. Throws one error listing missing, unexpected and mis-shaped tensors.
 */
export function matchAdapterTensors(found: Map<string, number[]>, s: LoraSettings, d: AdapterDims, file = 'adapter_model.safetensors'): Map<string, string> {
  const want = new Map(adapterTensorShapes(s, d).map((e) => [e.name, e.shape]));
  const issues: FieldIssue[] = [];
  const byName = new Map<string, string>();
  for (const [key, shape] of found) {
    const name = adapterKeyToHf(key);
    const expected = name === null ? undefined : want.get(name);
    if (name === null || expected === undefined) {
      issues.push({ field: key, message: 'unexpected tensor for this adapter_config.json (wrong target_modules or num_hidden_layers, or not a LoRA key)' });
      continue;
    }
    if (byName.has(name)) {
      issues.push({ field: key, message: `duplicates ${byName.get(name)}` });
      continue;
    }
    if (shape.length !== expected.length || shape.some((x, i) => x !== expected[i])) {
      issues.push({ field: key, message: `shape [${shape}] but r=${s.r} and the model's config.json imply [${expected}]` });
    }
    byName.set(name, key);
  }
  for (const name of want.keys()) {
    if (!byName.has(name)) issues.push({ field: hfToAdapterKey(name), message: 'missing (the adapter does not match adapter_config.json or the base model)' });
  }
  if (issues.length) throw new ConfigError(file, issues);
  return byName;
}

/** One adapter tensor to export: HF-side name, shape, f32 values. */
export interface AdapterTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

/** adapter_model.safetensors parts (F32, PEFT key names, metadata {"format": "pt"}); write them in order. */
export function serializeAdapter(tensors: AdapterTensor[]): Uint8Array[] {
  const items: TensorToWrite[] = tensors.map((t) => ({
    name: hfToAdapterKey(t.name),
    dtype: 'F32',
    shape: t.shape,
    data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
  }));
  return serializeSafetensors(items, { format: 'pt' });
}

// ---------------------------------------------------------------------------------------------- Python's json.dumps

/** Python repr of a float: shortest round-trip digits, scientific when exponent < -4 or ≥ 16 ("1e-05", "0.05"). */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mant, expText] = x.toExponential().split('e');
  const exp = Number(expText);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const sign = neg ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const intLen = exp + 1;
  if (digits.length <= intLen) return `${sign}${digits}${'0'.repeat(intLen - digits.length)}.0`;
  return `${sign}${digits.slice(0, intLen)}.${digits.slice(intLen)}`;
}

function pyString(s: string): string {
  // json.dumps(ensure_ascii=True): like JSON.stringify, plus DEL and every non-ASCII UTF-16 unit as \uXXXX (lowercase).
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * `json.dumps(value, indent=2, sort_keys=True)` as Python writes it. Numbers print as Python ints when integral
 * (wrap a value in PyFloat to print it as a float), objects sort their keys by code point.
 */
export function pythonJsonDumps(value: unknown, indent = 2, level = 0): string {
  const pad = (n: number) => ' '.repeat(indent * n);
  if (value === null || value === undefined) return 'null';
  if (value instanceof PyFloat) return pyFloatRepr(value.value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) < 1e16 ? String(value) : pyFloatRepr(value);
  if (typeof value === 'string') return pyString(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => pad(level + 1) + pythonJsonDumps(v, indent, level + 1)).join(',\n')}\n${pad(level)}]`;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (keys.length === 0) return '{}';
    return `{\n${keys.map((k) => `${pad(level + 1)}${pyString(k)}: ${pythonJsonDumps(value[k], indent, level + 1)}`).join(',\n')}\n${pad(level)}}`;
  }
  throw new TypeError(`pythonJsonDumps: cannot serialize ${describe(value)}`);
}
