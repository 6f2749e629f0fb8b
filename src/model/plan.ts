// The GPU memory a run needs, from the config alone (no weights): parameters (frozen and trainable), gradients,
// AdamW moments, activations (with or without gradient checkpointing) and workspaces, from the same parameter
// table and activation layout the engine allocates — so the plan and the real allocation cannot drift apart.
import { buildParamTable, countParams, type LoraSpec, type ModelDims, type StoreDtype } from './params.ts';
import { activationLayout, effectiveActivationDtype, effectiveCheckpointing, type ActivationDtype, type CheckpointMode } from './activations.ts';

export interface MemoryPlanInput {
  dims: ModelDims;
  lora: LoraSpec | null;
  frozenDtype: StoreDtype;
  microPairs: number; // pairs per micro-batch (2 sequences each)
  maxLength: number;
  gradientCheckpointing: boolean;
  /** Overrides gradientCheckpointing (true = 'full', false = 'none') when given. */
  checkpointing?: CheckpointMode;
  /** Storage of the saved activations (default float32; src/model/activations.ts). */
  activationDtype?: ActivationDtype;
  maxBlockBytes: number;
}

export interface MemoryPlan {
  params_total: number;
  params_trainable: number;
  weights_frozen: number; // bytes
  weights_trainable: number;
  gradients: number;
  optimizer: number;
  activations: number;
  workspace: number;
  total: number;
  largest_buffer: number;
  micro_batch_pairs: number;
  max_length: number;
  checkpointing_mode: CheckpointMode;
  /** Storage of the saved activations the plan was made for (float32 where float16 would change nothing). */
  activation_dtype: ActivationDtype;
}

export function memoryPlan(i: MemoryPlanInput): MemoryPlan {
  const table = buildParamTable(i.dims, { lora: i.lora, frozenDtype: i.frozenDtype, maxBlockBytes: i.maxBlockBytes });
  const { total, trainable } = countParams(table);
  const frozen = table.frozen.reduce((s, e) => s + e.bytes, 0);
  const train = table.trainableBlockBytes.reduce((s, b) => s + b, 0);
  const o = {
    maxB: 2 * i.microPairs, maxT: i.maxLength, gradientCheckpointing: i.gradientCheckpointing, checkpointing: i.checkpointing, activationDtype: i.activationDtype,
    loraTargets: i.lora?.targets ?? [], loraR: i.lora?.r ?? 0, training: true, fullFineTune: i.lora === null,
  };
  const layout = activationLayout(i.dims, o);
  let acts = 0;
  let ws = 0;
  let largest = Math.max(...table.frozen.map((e) => e.bytes), ...table.trainableBlockBytes);
  for (const e of layout) {
    if (e.workspace) ws += e.bytes * e.count;
    else acts += e.bytes * e.count;
    largest = Math.max(largest, e.bytes);
  }
  return {
    params_total: total, params_trainable: trainable,
    weights_frozen: frozen, weights_trainable: train, gradients: train, optimizer: 2 * train,
    activations: acts, workspace: ws,
    total: frozen + 4 * train + acts + ws,
    largest_buffer: largest, micro_batch_pairs: i.microPairs, max_length: i.maxLength,
    checkpointing_mode: effectiveCheckpointing(i.dims.L, o),
    activation_dtype: effectiveActivationDtype(i.dims.L, o),
  };
}

/** Largest micro-batch (pairs, ≤ batch) whose plan fits `budgetBytes`; 0 if even one pair does not fit. */
export function fitMicroBatch(base: Omit<MemoryPlanInput, 'microPairs'>, batch: number, budgetBytes: number, maxBufferBytes: number): number {
  for (let p = batch; p >= 1; p--) {
    const plan = memoryPlan({ ...base, microPairs: p });
    if (plan.total <= budgetBytes && plan.largest_buffer <= maxBufferBytes) return p;
  }
  return 0;
}

export function formatBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 2 : 0)} ${u[i]}`;
}
