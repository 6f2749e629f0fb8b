// Checks a model folder's weights against its config.json before anything is allocated or stored: the tensor list
// (every tensor the parameter table needs, with config.json's shapes, in a dtype the engine reads) and the score
// head. Pure (no GPU), so the data worker checks a local folder with it before copying it into storage, and
// load.ts checks every checkpoint with checkCheckpointTensors at load time.
import type { Qwen3Config } from './config.ts';
import { modelDims, withPadTokenId } from './config.ts';
import { buildParamTable, type ParamTable } from './params.ts';
import { UserError } from '../util/user_error.ts';

/** Tensor names transformers drops without a word when a causal LM is loaded for sequence classification. */
const EXPECTED_UNUSED = new Set(['lm_head.weight']);
const READABLE = ['F32', 'F16', 'BF16'];

export type TensorList = Map<string, { file: string; dtype: string; shape: number[] }>;

/**
 * Checks a checkpoint's tensor list against the parameter table before anything is allocated: a score head that
 * contradicts config.json's num_labels, and a tensor the engine needs stored in a dtype it cannot read, are refused;
 * tensors the config does not use (a layer beyond num_hidden_layers, …) are returned as a warning.
 */
export function checkCheckpointTensors(config: Qwen3Config, table: ParamTable, tensors: TensorList, source: string): string[] {
  const score = tensors.get('score.weight');
  if (score && config.num_labels !== null && config.num_labels !== 1) {
    throw new UserError(`${source}: num_labels is ${config.num_labels} but a reward model has one label, and score.weight in ${score.file} has shape [${score.shape}]; ` +
      'set "num_labels": 1 (and one id2label entry) if this checkpoint is a reward model, or start from the base model without a score head');
  }
  for (const [name, t] of tensors) {
    if (table.byName.has(name) && !READABLE.includes(t.dtype)) {
      throw new UserError(`${name} in ${t.file} is stored as ${t.dtype}; the engine reads F32, F16 or BF16 weights — re-export the checkpoint in one of them`);
    }
  }
  const unused = [...tensors.keys()].filter((n) => !table.byName.has(n) && !EXPECTED_UNUSED.has(n) && !/lora_|modules_to_save/.test(n));
  if (unused.length === 0) return [];
  const shown = unused.slice(0, 3).join(', ') + (unused.length > 3 ? `, … (${unused.length} in all)` : '');
  return [`${unused.length} tensor${unused.length === 1 ? '' : 's'} of the checkpoint ${unused.length === 1 ? 'is' : 'are'} not used by this config (${source}: ` +
    `num_hidden_layers ${config.num_hidden_layers}, hidden_size ${config.hidden_size}): ${shown}. Check that config.json belongs to these weights.`];
}

/**
 * A whole model folder's check (what loadWeights would find at load time, found before copying): every tensor of a
 * full fine-tune's table is present (score.weight may be missing: a base model) with config.json's shape, plus
 * checkCheckpointTensors. Returns its warnings; throws a UserError naming the tensor and file.
 */
export function checkModelFolderTensors(config: Qwen3Config, tensors: TensorList, source: string): string[] {
  // shapes do not depend on the pad id; modelDims needs one (load.ts sets the tokenizer's), so any valid id does
  const dims = modelDims(config.pad_token_id === null ? withPadTokenId(config, 0) : config);
  const table = buildParamTable(dims, { lora: null, frozenDtype: 'f32', maxBlockBytes: Number.MAX_SAFE_INTEGER });
  const warnings = checkCheckpointTensors(config, table, tensors, source);
  const files = [...new Set([...tensors.values()].map((t) => t.file))].join(', ') || 'no tensors';
  for (const e of table.trainable) {
    const t = tensors.get(e.name);
    if (!t) {
      if (e.kind === 'score') continue;
      throw new UserError(`${e.name} is missing from the weights (${files}). Is this a Qwen3 model folder with all its safetensors shards?`);
    }
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new UserError(`${e.name} in ${t.file} has shape [${t.shape}] but ${source} implies [${e.shape}]; the config and the weights do not belong together`);
    }
  }
  return warnings;
}
