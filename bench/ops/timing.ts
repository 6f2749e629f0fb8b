// Shared by every kernel benchmark: the report callback and the timer. A kernel list is recorded `reps` times into
// one command buffer after one warm-up submit (pipelines compiled, caches warm) and timed by
// queue.onSubmittedWorkDone; the result is ms per repetition (wall clock, so it includes submit overhead once).
import type { Gpu } from '../../src/gpu/device.ts';
import { type Kernel, recordKernels } from '../../src/gpu/kernel.ts';

export type Report = (name: string, ms: number, flops: number, bytes: number) => void;

export async function timeKernels(gpu: Gpu, kernels: Kernel | Kernel[], reps: number): Promise<number> {
  const list = Array.isArray(kernels) ? kernels : [kernels];
  const submit = async (n: number) => {
    const enc = gpu.device.createCommandEncoder({ label: `bench.${list[0]?.label ?? ''}` });
    for (let i = 0; i < n; i++) recordKernels(enc, list, 'bench');
    gpu.device.queue.submit([enc.finish()]);
    await gpu.device.queue.onSubmittedWorkDone();
  };
  await submit(1);
  const t0 = performance.now();
  await submit(reps);
  return (performance.now() - t0) / reps;
}
