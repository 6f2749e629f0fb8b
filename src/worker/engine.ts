// The engine facade the train worker drives (src/train/session.ts, written by the integrator), loaded only if this
// build has it: import.meta.glob resolves at build time to {} when the file does not exist, so the studio builds
// and its GPU/data parts work while the engine is being written. The types below are the agreed interface.
import type { Gpu } from '../gpu/device.ts';

export type TrainEvent =
  | { type: 'log'; step: number; metrics: Record<string, number> }
  | { type: 'eval'; step: number; metrics: Record<string, number> }
  | { type: 'progress'; step: number; max_steps: number; epoch: number; tokens_per_second: number }
  | { type: 'checkpoint'; step: number; name?: string }
  | { type: 'done'; step: number; reason?: 'finished' | 'stopped' }
  | { type: 'warning'; message: string };

export interface EngineTrainer {
  run(): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): void;
  score(seqs: number[][]): Promise<number[]>;
  exportAdapter(): Promise<{ name: string; data: Uint8Array }[]>;
  exportModel(dtype: 'bf16' | 'f32'): Promise<{ name: string; data: Uint8Array }[]>;
}

export interface EngineModule {
  createTrainer(opts: {
    gpu: Gpu;
    model: { config: unknown; files: Map<string, unknown> };
    trainPairs: unknown[];
    evalPairs?: unknown[];
    config: unknown;
    checkpoints?: unknown;
    onEvent: (e: TrainEvent) => void;
  }): Promise<EngineTrainer>;
}

const sessionModules = import.meta.glob('../train/session.ts');

/** The engine module, or null when this build does not have src/train/session.ts yet. */
export async function loadEngine(): Promise<EngineModule | null> {
  const load = Object.values(sessionModules)[0];
  if (!load) return null;
  const mod = (await load()) as Partial<EngineModule>;
  return typeof mod.createTrainer === 'function' ? (mod as EngineModule) : null;
}

export const ENGINE_MISSING = {
  message: 'The training engine is not part of this build yet (src/train/session.ts is missing).',
  fix: 'Update to a build that includes the engine; GPU status, data import and configuration work meanwhile.',
};
