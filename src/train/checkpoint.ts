// Checkpoints: trainable weights, AdamW moments and the trainer state (step, epoch, data position, RNG seed,
// num_tokens, log history), written atomically through a CheckpointStore (the Node one writes a temporary folder
// and renames it; the IndexedDB one writes in one transaction), so a crash mid-write leaves the previous
// checkpoint valid. Tensors are stored in safetensors with their HF names.
import type { Gpu } from '../gpu/device.ts';
import { readBytes, writeBuffer } from '../gpu/buffers.ts';
import { bytesSource } from '../formats/bytes.ts';
import { readSafetensorsHeader, readTensorBytes, serializeSafetensors, concatParts } from '../formats/safetensors.ts';
import type { ModelWeights } from '../model/weights.ts';
import type { TokenizedPair } from './batches.ts';

export interface CheckpointFile {
  name: string;
  data: Uint8Array;
}

export interface CheckpointStore {
  /** Writes all files of checkpoint `name` atomically (all or nothing). */
  save(name: string, files: CheckpointFile[]): Promise<void>;
  /** Files of checkpoint `name`, or null if absent. */
  load(name: string): Promise<Map<string, Uint8Array> | null>;
  /** Names of complete checkpoints, oldest first. */
  list(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

export interface TrainerState {
  format: 'reward-studio-checkpoint/1';
  global_step: number;
  epoch: number; // fractional, as HF logs it
  epoch_index: number; // epoch in progress (0-based)
  batch_in_epoch: number; // next per_device batch to run in that epoch
  num_tokens: number;
  seed: number;
  max_steps: number;
  log_history: Record<string, number>[];
  config: unknown; // the RewardConfig the run uses (checked on resume: resumeMismatches)
  table: { name: string; shape: number[] }[]; // trainable tensors (checked on resume)
  /** Fingerprint of the training pairs (datasetFingerprint), checked on resume; absent in older checkpoints. */
  dataset?: string;
}

/** RewardConfig fields a resume may change without changing what the remaining steps compute. */
const RESUME_FREE_FIELDS = new Set([
  'logging_steps', 'eval_strategy', 'eval_steps', 'per_device_eval_batch_size', 'save_strategy', 'save_steps',
  'gradient_checkpointing', 'bf16', 'ignored',
]);

/**
 * A fingerprint of the training pairs in order (token ids of chosen and rejected, margin): two 32-bit
 * multiply-xorshift lanes over every number, with the pair count. Equal data ⇒ equal fingerprint; a changed file,
 * split, filter or tokenizer changes it (collisions ~2^-64).
 */
export function datasetFingerprint(pairs: readonly TokenizedPair[]): string {
  let h1 = 0x9e3779b9 ^ pairs.length;
  let h2 = 0x85ebca6b ^ pairs.length;
  const mix = (x: number) => {
    h1 = Math.imul(h1 ^ x, 2654435761);
    h2 = Math.imul(h2 ^ x, 1597334677);
    h1 ^= h1 >>> 15;
    h2 ^= h2 >>> 13;
  };
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (const p of pairs) {
    for (const ids of [p.chosen_ids, p.rejected_ids]) {
      mix(ids.length);
      for (let i = 0; i < ids.length; i++) mix(ids[i]);
    }
    f[0] = p.margin ?? NaN;
    mix(p.margin === undefined ? 0x7fc00001 : u[0]);
  }
  const hex = (h: number) => (h >>> 0).toString(16).padStart(8, '0');
  return `${pairs.length} pairs:${hex(h1)}${hex(h2)}`;
}

export interface ResumeMismatch {
  field: string;
  checkpoint: string;
  now: string;
}

/**
 * The differences between a checkpoint and the run that wants to resume it: every RewardConfig field that changes the
 * math (all but RESUME_FREE_FIELDS; `peft` compared as a whole) and the training data's fingerprint.
 */
export function resumeMismatches(saved: TrainerState, config: object, dataset: string): ResumeMismatch[] {
  const out: ResumeMismatch[] = [];
  const before = (saved.config ?? {}) as Record<string, unknown>;
  const now = config as Record<string, unknown>;
  const show = (v: unknown) => (v === undefined ? '(not set)' : JSON.stringify(v));
  for (const key of new Set([...Object.keys(before), ...Object.keys(now)])) {
    if (RESUME_FREE_FIELDS.has(key)) continue;
    // a field added to RewardConfig after the checkpoint was written counts as equal when it has its default
    if (!(key in before) && key === 'train_sampling_strategy' && now[key] === 'random') continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(now[key])) out.push({ field: key, checkpoint: show(before[key]), now: show(now[key]) });
  }
  if (saved.dataset !== undefined && saved.dataset !== dataset) out.push({ field: 'training data', checkpoint: saved.dataset, now: dataset });
  return out;
}

export const checkpointName = (step: number) => `checkpoint-${step}`;

/** Reads trainable params and moments back and serializes a checkpoint. */
export async function makeCheckpoint(gpu: Gpu, w: ModelWeights, state: TrainerState): Promise<CheckpointFile[]> {
  const files: CheckpointFile[] = [{ name: 'trainer_state.json', data: new TextEncoder().encode(JSON.stringify(state, null, 2)) }];
  for (const [which, file] of [['params', 'trainable.safetensors'], ['m', 'optimizer_m.safetensors'], ['v', 'optimizer_v.safetensors']] as const) {
    const blocks = w[which];
    const bytes = await Promise.all(blocks.map((b, i) => readBytes(gpu, b, w.table.trainableBlockBytes[i])));
    const tensors = w.table.trainable.map((e) => ({
      name: e.name, dtype: 'F32' as const, shape: e.shape, data: new Uint8Array(bytes[e.block], e.offset, e.numel * 4),
    }));
    files.push({ name: file, data: concatParts(serializeSafetensors(tensors, { format: 'pt' })) });
  }
  return files;
}

/**
 * Restores params and moments from checkpoint files; returns the trainer state. `check` sees the saved state first and
 * may throw to refuse the checkpoint before any weight is touched.
 */
export async function restoreCheckpoint(gpu: Gpu, w: ModelWeights, files: Map<string, Uint8Array>, where: string, check?: (saved: TrainerState) => void): Promise<TrainerState> {
  const stateBytes = files.get('trainer_state.json');
  if (!stateBytes) throw new Error(`${where}: trainer_state.json is missing; this is not a complete checkpoint`);
  const state = JSON.parse(new TextDecoder().decode(stateBytes)) as TrainerState;
  if (state.format !== 'reward-studio-checkpoint/1') throw new Error(`${where}: unknown checkpoint format ${String(state.format)}`);
  const want = w.table.trainable.map((e) => `${e.name}[${e.shape}]`).join(',');
  const have = state.table.map((e) => `${e.name}[${e.shape}]`).join(',');
  if (want !== have) throw new Error(`${where}: the checkpoint's trainable tensors differ from this run's (model or LoRA settings changed); resume with the same model and peft config, or start a new run`);
  check?.(state);
  for (const [which, file] of [['params', 'trainable.safetensors'], ['m', 'optimizer_m.safetensors'], ['v', 'optimizer_v.safetensors']] as const) {
    const data = files.get(file);
    if (!data) throw new Error(`${where}: ${file} is missing`);
    const src = bytesSource(`${where}/${file}`, data);
    const header = await readSafetensorsHeader(src);
    for (const e of w.table.trainable) {
      const bytes = await readTensorBytes(src, header, e.name);
      writeBuffer(gpu, w[which][e.block], bytes, e.offset);
    }
  }
  return state;
}
