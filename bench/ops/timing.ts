// Shared by every kernel benchmark: the report callback and the timer. A kernel list is run once to warm up
// (pipelines compiled, caches warm), then `reps` times in one compute pass, timed with GPU timestamp queries where
// the adapter has `timestamp-query` and by the wall clock (submit → onSubmittedWorkDone) otherwise; the result is
// ms per repetition. `timingMethod` says which one the last call used (benchmark headers label it).
import type { Gpu } from '../../src/gpu/device.ts';
import type { Kernel } from '../../src/gpu/kernel.ts';
import { type TimingMethod, timeGpu } from '../../src/gpu/timer.ts';

export type Report = (name: string, ms: number, flops: number, bytes: number) => void;

export const timing: { method: TimingMethod | null } = { method: null };

export async function timeKernels(gpu: Gpu, kernels: Kernel | Kernel[], reps: number): Promise<number> {
  const t = await timeGpu(gpu, Array.isArray(kernels) ? kernels : [kernels], reps);
  timing.method = t.method;
  return t.ms;
}
