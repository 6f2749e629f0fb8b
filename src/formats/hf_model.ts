// The exported reward model folder in Hugging Face layout: config.json for Qwen3ForSequenceClassification and the
// tensor list (names, shapes) of model.safetensors, so `AutoModelForSequenceClassification.from_pretrained(folder)`
// loads it with no missing or unexpected keys. Used for a full fine-tune and for LoRA merged into the base weights.
//
// config.json = the base config.json's fields (kept, so the export loads like the base) with: architectures
// ["Qwen3ForSequenceClassification"], num_labels 1 with id2label {"0": "LABEL_0"} / label2id {"LABEL_0": 0} (what
// `from_pretrained(..., num_labels=1)` writes back), pad_token_id set (TRL sets it from the tokenizer), and the dtype
// of the saved weights under the key(s) the base used (`torch_dtype` for transformers v4 files, `dtype` for v5).
// Text as transformers' to_json_file: json.dumps(indent=2, sort_keys=True) + "\n".
//
// Legend: C hidden, F ffn dim, H query heads, Hkv kv heads, D head dim, V vocab, L layers.
import { PyFloat, pythonJsonDumps } from './peft.ts';

/** The dims the tensor list needs (field names as config.json). */
export interface HfModelShape {
  vocab_size: number; // V
  hidden_size: number; // C
  intermediate_size: number; // F
  num_hidden_layers: number; // L
  num_attention_heads: number; // H
  num_key_value_heads: number; // Hkv
  head_dim: number; // D
}

export type ExportDtype = 'float32' | 'bfloat16';

/** safetensors dtype for an export dtype. */
export function exportSafetensorsDtype(d: ExportDtype): 'F32' | 'BF16' {
  return d === 'float32' ? 'F32' : 'BF16';
}

/** Every tensor of Qwen3ForSequenceClassification in named_parameters order, with (out, in) shapes. */
export function hfTensorList(cfg: HfModelShape, numLabels = 1): { name: string; shape: number[] }[] {
  const C = cfg.hidden_size;
  const qd = cfg.num_attention_heads * cfg.head_dim; // H·D
  const kvd = cfg.num_key_value_heads * cfg.head_dim; // Hkv·D
  const F = cfg.intermediate_size;
  const out: { name: string; shape: number[] }[] = [{ name: 'model.embed_tokens.weight', shape: [cfg.vocab_size, C] }];
  for (let i = 0; i < cfg.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      { name: `${p}self_attn.q_proj.weight`, shape: [qd, C] },
      { name: `${p}self_attn.k_proj.weight`, shape: [kvd, C] },
      { name: `${p}self_attn.v_proj.weight`, shape: [kvd, C] },
      { name: `${p}self_attn.o_proj.weight`, shape: [C, qd] },
      { name: `${p}self_attn.q_norm.weight`, shape: [cfg.head_dim] },
      { name: `${p}self_attn.k_norm.weight`, shape: [cfg.head_dim] },
      { name: `${p}mlp.gate_proj.weight`, shape: [F, C] },
      { name: `${p}mlp.up_proj.weight`, shape: [F, C] },
      { name: `${p}mlp.down_proj.weight`, shape: [C, F] },
      { name: `${p}input_layernorm.weight`, shape: [C] },
      { name: `${p}post_attention_layernorm.weight`, shape: [C] },
    );
  }
  out.push({ name: 'model.norm.weight', shape: [C] }, { name: 'score.weight', shape: [numLabels, C] });
  return out;
}

/** Fields transformers stores as Python floats (printed "1e-06", "1000000.0"). */
const FLOAT_FIELDS = ['rms_norm_eps', 'rope_theta', 'initializer_range', 'attention_dropout'];

/**
 * The exported config.json object. `base` is the base model's config.json as parsed (Qwen3Config.raw).
 * Removes keys that would contradict a one-label head (problem_type stays as the base had it).
 */
export function rewardModelConfigObject(base: Record<string, unknown>, opts: { pad_token_id: number; torch_dtype: ExportDtype }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  out.architectures = ['Qwen3ForSequenceClassification'];
  out.num_labels = 1;
  out.id2label = { '0': 'LABEL_0' };
  out.label2id = { LABEL_0: 0 };
  out.pad_token_id = opts.pad_token_id;
  const hasV4 = 'torch_dtype' in base;
  const hasV5 = 'dtype' in base;
  if (hasV4 || !hasV5) out.torch_dtype = opts.torch_dtype;
  if (hasV5) out.dtype = opts.torch_dtype;
  if (out.rope_parameters && typeof out.rope_parameters === 'object') {
    const rp = { ...(out.rope_parameters as Record<string, unknown>) };
    if (typeof rp.rope_theta === 'number') rp.rope_theta = new PyFloat(rp.rope_theta);
    out.rope_parameters = rp;
  }
  for (const k of FLOAT_FIELDS) if (typeof out[k] === 'number') out[k] = new PyFloat(out[k] as number);
  return out;
}

/** config.json text for the exported model (json.dumps(indent=2, sort_keys=True) + "\n", as transformers writes it). */
export function rewardModelConfigJson(base: Record<string, unknown>, opts: { pad_token_id: number; torch_dtype: ExportDtype }): string {
  return pythonJsonDumps(rewardModelConfigObject(base, opts)) + '\n';
}
