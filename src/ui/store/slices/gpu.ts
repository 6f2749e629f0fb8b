// GPU status slice: what the train worker found (adapter, features, limits) and the bytes the engine holds.
import type { StateCreator } from 'zustand/vanilla';
import type { GpuInfo } from '../../../gpu/device.ts';
import type { StudioState } from '../store.ts';

export interface GpuSlice {
  gpu: {
    /** 'pending' until the worker answers; 'missing' shows the full no-WebGPU page. */
    status: 'pending' | 'ready' | 'missing';
    info: GpuInfo | null;
    message: string | null;
    memoryBytes: number | null;
  };
}

export const createGpuSlice: StateCreator<StudioState, [], [], GpuSlice> = () => ({
  gpu: { status: 'pending', info: null, message: null, memoryBytes: null },
});
