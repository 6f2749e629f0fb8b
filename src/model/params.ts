// The parameter table of Qwen3ForSequenceClassification (+ optional LoRA): one entry per tensor with its HF name,
// shape, storage dtype, whether it trains, and where it lives (block, byte offset). The same table drives
// allocation, loading, gradients (same layout as the trainable params), AdamW state, checkpoints and export.
//
// Legend: B sequences, T tokens, C hidden, H query heads, Hkv kv heads, D head dim, F ffn dim, V vocab,
// R LoRA rank, L layers.

import { UserError } from '../util/user_error.ts';

export interface ModelDims {
  C: number; // hidden_size
  F: number; // intermediate_size
  L: number; // num_hidden_layers
  H: number; // num_attention_heads
  Hkv: number; // num_key_value_heads
  D: number; // head_dim
  V: number; // vocab_size
  eps: number; // rms_norm_eps
  theta: number; // rope_theta
  padId: number; // pad_token_id (TRL sets it from the tokenizer: Qwen3 <|endoftext|> 151643)
  initializerRange: number; // initializer_range, std of the new score head
}

/** The seven linear layers LoRA can target, with PEFT's names. */
export const LINEAR_NAMES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LinearName = (typeof LINEAR_NAMES)[number];
/** Linears that read the same input and run as one product when their tensors are adjacent. */
export const LINEAR_GROUPS: readonly (readonly LinearName[])[] = [['q_proj', 'k_proj', 'v_proj'], ['o_proj'], ['gate_proj', 'up_proj'], ['down_proj']];

export interface LoraSpec {
  r: number;
  alpha: number;
  dropout: number;
  targets: LinearName[];
  useRslora: boolean;
}

export function loraScale(l: LoraSpec): number {
  return l.useRslora ? l.alpha / Math.sqrt(l.r) : l.alpha / l.r;
}

/** Storage dtype on the GPU: f32, or 16-bit packed two per u32 along the row (frozen weights only). */
export type StoreDtype = 'f32' | 'f16' | 'bf16';

export type ParamKind = 'embed' | 'norm' | 'linear' | 'score' | 'lora_A' | 'lora_B';

export interface ParamEntry {
  name: string; // HF name, e.g. model.layers.0.self_attn.q_proj.weight; LoRA: ...q_proj.lora_A.weight
  kind: ParamKind;
  shape: number[]; // (out, in) for linears, (V, C) for the embedding, (C,) for norms, (1, C) for score
  trainable: boolean;
  dtype: StoreDtype;
  /** Decoupled weight decay applies: HF Trainer.get_decay_parameter_names decays every parameter whose lower-cased
   *  name contains none of 'bias', 'layernorm', 'rmsnorm' (so q_norm, k_norm and model.norm ARE decayed). */
  decay: boolean;
  block: number; // index into the frozen or trainable block list
  offset: number; // bytes into the block (256-aligned)
  bytes: number; // storage bytes
  numel: number;
}

export interface ParamTable {
  dims: ModelDims;
  lora: LoraSpec | null;
  frozen: ParamEntry[];
  trainable: ParamEntry[];
  frozenBlockBytes: number[];
  trainableBlockBytes: number[];
  byName: Map<string, ParamEntry>;
}

export const OFFSET_ALIGN = 256;
const align = (n: number, a = OFFSET_ALIGN) => Math.ceil(n / a) * a;

export function linearShape(d: ModelDims, name: LinearName): [number, number] {
  switch (name) {
    case 'q_proj': return [d.H * d.D, d.C];
    case 'k_proj': return [d.Hkv * d.D, d.C];
    case 'v_proj': return [d.Hkv * d.D, d.C];
    case 'o_proj': return [d.C, d.H * d.D];
    case 'gate_proj': return [d.F, d.C];
    case 'up_proj': return [d.F, d.C];
    case 'down_proj': return [d.C, d.F];
  }
}

export const linearModule = (name: LinearName): 'mlp' | 'self_attn' =>
  name === 'gate_proj' || name === 'up_proj' || name === 'down_proj' ? 'mlp' : 'self_attn';

export const layerPrefix = (i: number) => `model.layers.${i}`;
export const linearWeightName = (i: number, n: LinearName) => `${layerPrefix(i)}.${linearModule(n)}.${n}.weight`;
export const loraName = (i: number, n: LinearName, ab: 'A' | 'B') => `${layerPrefix(i)}.${linearModule(n)}.${n}.lora_${ab}.weight`;

/**
 * HF Trainer's weight-decay grouping (transformers `Trainer.get_decay_parameter_names`, current versions): no decay
 * for parameters whose lower-cased name matches any of `bias`, `layernorm`, `rmsnorm`, `(?:^|\.)norm(?:$|\.)`,
 * `_norm(?:$|\.)` (nn.LayerNorm modules are excluded too; Qwen3 has none). For Qwen3 every norm weight —
 * input_layernorm, post_attention_layernorm, self_attn.q_norm, self_attn.k_norm and model.norm — is NOT decayed;
 * the embedding, every linear weight, score and LoRA's lora_A / lora_B are. The one source of this rule: the
 * parameter table (and so the optimizer, checkpoints and export) reads it.
 */
export const NO_DECAY_PATTERNS: readonly RegExp[] = [/bias/, /layernorm/, /rmsnorm/, /(?:^|\.)norm(?:$|\.)/, /_norm(?:$|\.)/];

export function weightDecayApplies(hfName: string): boolean {
  const n = hfName.toLowerCase();
  return !NO_DECAY_PATTERNS.some((re) => re.test(n));
}

/** Bytes a tensor takes in storage: 16-bit dtypes pack two per u32 along the last dim (rows padded to even). */
export function storageBytes(shape: number[], dtype: StoreDtype): number {
  const K = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  return dtype === 'f32' ? rows * K * 4 : rows * Math.ceil(K / 2) * 4;
}

export interface TableOptions {
  lora: LoraSpec | null;
  /** Storage dtype of frozen linear and embedding weights (norms and trainable tensors are always f32). */
  frozenDtype: StoreDtype;
  /** Largest block, normally min(maxStorageBufferBindingSize, maxBufferSize). */
  maxBlockBytes: number;
}

/**
 * Lists every tensor in HF order. Full fine-tuning: all trainable, f32. LoRA: base weights frozen
 * (frozenDtype), LoRA A/B and the score head trainable (PEFT's modules_to_save for SEQ_CLS).
 */
export function buildParamTable(dims: ModelDims, opts: TableOptions): ParamTable {
  const full = opts.lora === null;
  const entries: Omit<ParamEntry, 'block' | 'offset' | 'bytes'>[] = [];
  const add = (name: string, kind: ParamKind, shape: number[], trainable: boolean) => {
    const big = kind === 'linear' || kind === 'embed';
    const dtype: StoreDtype = trainable || !big ? 'f32' : opts.frozenDtype;
    const decay = weightDecayApplies(name);
    entries.push({ name, kind, shape, trainable, dtype, decay, numel: shape.reduce((a, b) => a * b, 1) });
  };
  add('model.embed_tokens.weight', 'embed', [dims.V, dims.C], full);
  for (let i = 0; i < dims.L; i++) {
    const p = layerPrefix(i);
    add(`${p}.input_layernorm.weight`, 'norm', [dims.C], full);
    for (const n of LINEAR_NAMES.slice(0, 4)) add(linearWeightName(i, n), 'linear', linearShape(dims, n), full);
    add(`${p}.self_attn.q_norm.weight`, 'norm', [dims.D], full);
    add(`${p}.self_attn.k_norm.weight`, 'norm', [dims.D], full);
    add(`${p}.post_attention_layernorm.weight`, 'norm', [dims.C], full);
    for (const n of LINEAR_NAMES.slice(4)) add(linearWeightName(i, n), 'linear', linearShape(dims, n), full);
  }
  add('model.norm.weight', 'norm', [dims.C], full);
  add('score.weight', 'score', [1, dims.C], true);
  if (opts.lora) {
    const R = opts.lora.r;
    // Per layer and fusion group (q|k|v, o, gate|up, down): the group's A's, then its B's, so a fused product reads
    // them as one (ΣR, K) and one (ΣN, R) matrix in place.
    for (let i = 0; i < dims.L; i++) {
      for (const group of LINEAR_GROUPS) {
        const targeted = group.filter((n) => opts.lora!.targets.includes(n));
        for (const n of targeted) add(loraName(i, n, 'A'), 'lora_A', [R, linearShape(dims, n)[1]], true);
        for (const n of targeted) add(loraName(i, n, 'B'), 'lora_B', [linearShape(dims, n)[0], R], true);
      }
    }
  }

  const place = (list: typeof entries): { placed: ParamEntry[]; blocks: number[] } => {
    const blocks: number[] = [];
    const placed: ParamEntry[] = [];
    let cur = 0;
    for (const e of list) {
      const bytes = storageBytes(e.shape, e.dtype);
      if (bytes > opts.maxBlockBytes) {
        throw new UserError(`${e.name} needs ${bytes} bytes, more than the GPU's largest storage buffer (${opts.maxBlockBytes} bytes); check config.json's sizes, or use a GPU with larger buffers`);
      }
      if (blocks.length === 0 || align(cur) + bytes > opts.maxBlockBytes) {
        blocks.push(0);
        cur = 0;
      }
      const offset = align(cur);
      cur = offset + bytes;
      blocks[blocks.length - 1] = align(cur);
      placed.push({ ...e, block: blocks.length - 1, offset, bytes });
    }
    return { placed, blocks };
  };
  const fz = place(entries.filter((e) => !e.trainable));
  // Trainable tensors: decayed ones first, then norms (no decay), so AdamW runs one range of each per block.
  const trainable = entries.filter((e) => e.trainable);
  const tr = place([...trainable.filter((e) => e.decay), ...trainable.filter((e) => !e.decay)]);
  const byName = new Map<string, ParamEntry>();
  for (const e of [...fz.placed, ...tr.placed]) byName.set(e.name, e);
  return { dims, lora: opts.lora, frozen: fz.placed, trainable: tr.placed, frozenBlockBytes: fz.blocks, trainableBlockBytes: tr.blocks, byName };
}

export function countParams(t: ParamTable): { total: number; trainable: number } {
  let total = 0;
  let trainable = 0;
  for (const e of t.frozen) total += e.numel;
  for (const e of t.trainable) {
    if (e.kind !== 'lora_A' && e.kind !== 'lora_B') total += e.numel;
    trainable += e.numel;
  }
  return { total, trainable };
}
