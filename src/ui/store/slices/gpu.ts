// GPU status slice: what the train worker found (adapter, features, limits) and the bytes the engine holds.
import type { StateCreator } from 'zustand/vanilla';
import type { GpuInfo } from '../../../gpu/device.ts';
import type { StepResult } from '../../../bench/step_bench.ts';
import type { StudioState } from '../store.ts';

export interface GpuSlice {
  gpu: {
    /** 'pending' until the worker answers; 'missing' shows the full no-WebGPU page. */
    status: 'pending' | 'ready' | 'missing';
    info: GpuInfo | null;
    message: string | null;
    memoryBytes: number | null;
  };
  /** "Benchmark this GPU": rows as they are measured (src/bench/step_bench.ts). */
  benchmark: { rid: number | null; running: boolean; adapter: string | null; rows: StepResult[] };
}

export const createGpuSlice: StateCreator<StudioState, [], [], GpuSlice> = () => ({
  gpu: { status: 'pending', info: null, message: null, memoryBytes: null },
  benchmark: { rid: null, running: false, adapter: null, rows: [] },
});
