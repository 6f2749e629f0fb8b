// Checkpoints: trainable weights, AdamW moments and the trainer state (step, epoch, data position, RNG seed,
// num_tokens, log history), written atomically through a CheckpointStore (the Node one writes a temporary folder
// and renames it; the IndexedDB one writes in one transaction), so a crash mid-write leaves the previous
// checkpoint valid. Tensors are stored in safetensors with their HF names.
import type { Gpu } from '../gpu/device.ts';
import { readBytes, writeBuffer } from '../gpu/buffers.ts';
import { bytesSource } from '../formats/bytes.ts';
import { readSafetensorsHeader, readTensorBytes, serializeSafetensors, concatParts } from '../formats/safetensors.ts';
import type { ModelWeights } from '../model/weights.ts';

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
  config: unknown; // the RewardConfig the run uses (checked on resume)
  table: { name: string; shape: number[] }[]; // trainable tensors (checked on resume)
}

export { checkpointName, RECOVERY_PREFIX } from './checkpoint_names.ts';

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

/** Restores params and moments from checkpoint files; returns the trainer state. */
export async function restoreCheckpoint(gpu: Gpu, w: ModelWeights, files: Map<string, Uint8Array>, where: string): Promise<TrainerState> {
  const stateBytes = files.get('trainer_state.json');
  if (!stateBytes) throw new Error(`${where}: trainer_state.json is missing; this is not a complete checkpoint`);
  const state = JSON.parse(new TextDecoder().decode(stateBytes)) as TrainerState;
  if (state.format !== 'reward-studio-checkpoint/1') throw new Error(`${where}: unknown checkpoint format ${String(state.format)}`);
  const want = w.table.trainable.map((e) => `${e.name}[${e.shape}]`).join(',');
  const have = state.table.map((e) => `${e.name}[${e.shape}]`).join(',');
  if (want !== have) throw new Error(`${where}: the checkpoint's trainable tensors differ from this run's (model or LoRA settings changed); resume with the same model and peft config, or start a new run`);
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
