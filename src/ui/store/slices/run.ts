// What the run uses (model and dataset), the inspection report, and the trainer configuration with its memory plan
// and the GPU memory budget the plan may use (WebGPU cannot read the GPU's memory size: the user says it).
import type { StateCreator } from 'zustand/vanilla';
import type { ConfigJson, DatasetRef, DatasetReport, MemoryPlan, ModelRef } from '../../../worker/protocol.ts';
import { defaultConfigJson } from '../../config_fields.ts';
import type { StudioState } from '../store.ts';
import type { ActivationDtypeChoice } from '../../../train/activation_dtype.ts';

export interface RunSlice {
  /** The model and dataset a run, an inspection or an evaluation uses. */
  selection: { model: ModelRef; dataset: DatasetRef };
  inspect: { report: DatasetReport | null; running: boolean };
  config: ConfigJson;
  configMode: 'basic' | 'advanced';
  plan: MemoryPlan | null;
  /** GPU memory the plan and the run may use, in GiB (default 8). */
  gpuBudgetGiB: number;
  /** Storage of the activations saved for the backward (default auto: float32 when it fits, else float16). */
  activationDtype: ActivationDtypeChoice;
  setSelection: (patch: Partial<RunSlice['selection']>) => void;
  /** Sets fields of the config (TRL names); `peft` is replaced as a whole object or null. */
  setConfig: (patch: ConfigJson) => void;
  replaceConfig: (config: ConfigJson) => void;
  setConfigMode: (mode: 'basic' | 'advanced') => void;
  setGpuBudgetGiB: (gib: number) => void;
  setActivationDtype: (d: ActivationDtypeChoice) => void;
}

export const DEFAULT_GPU_BUDGET_GIB = 8;

/** The budget in bytes, as the worker takes it. */
export function budgetBytes(gib: number): number {
  return Math.round(gib * 2 ** 30);
}

export const createRunSlice: StateCreator<StudioState, [], [], RunSlice> = (set) => ({
  selection: { model: { kind: 'demo' }, dataset: { kind: 'demo' } },
  inspect: { report: null, running: false },
  config: defaultConfigJson(),
  configMode: 'basic',
  plan: null,
  gpuBudgetGiB: DEFAULT_GPU_BUDGET_GIB,
  activationDtype: 'auto',
  setSelection: (patch) => set((s) => ({ selection: { ...s.selection, ...patch } })),
  setConfig: (patch) => set((s) => ({ config: { ...s.config, ...patch }, plan: null })),
  replaceConfig: (config) => set({ config: { ...config }, plan: null }),
  setConfigMode: (configMode) => set({ configMode }),
  setGpuBudgetGiB: (gpuBudgetGiB) => set({ gpuBudgetGiB, plan: null }),
  setActivationDtype: (activationDtype) => set({ activationDtype, plan: null }),
});
