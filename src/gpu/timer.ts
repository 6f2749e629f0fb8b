// GPU time of a kernel list: timestamp queries around one compute pass where the device has `timestamp-query`
// (the GPU's own clock, no submit or readback overhead), else the wall clock around submit → onSubmittedWorkDone
// (labelled, so nobody mistakes one for the other). Used by the GEMM autotuner and the benchmarks; never inside a
// training step.
import type { Gpu } from './device.ts';
import type { Kernel } from './kernel.ts';

export type TimingMethod = 'timestamp' | 'wall';

export interface GpuTiming {
  /** Milliseconds per repetition. */
  ms: number;
  method: TimingMethod;
}

function encodePass(enc: GPUCommandEncoder, kernels: Kernel[], reps: number, timestampWrites?: GPUComputePassTimestampWrites): void {
  const pass = enc.beginComputePass({ label: 'timed', timestampWrites });
  for (let r = 0; r < reps; r++) {
    for (const k of kernels) {
      for (const d of k.dispatches) {
        if (d.workgroups[0] * d.workgroups[1] * d.workgroups[2] === 0) continue;
        pass.setPipeline(d.pipeline);
        pass.setBindGroup(0, d.bindGroup);
        pass.dispatchWorkgroups(...d.workgroups);
      }
    }
  }
  pass.end();
}

/**
 * Runs `kernels` once to warm up, then `reps` times in one compute pass, and returns ms per repetition.
 * `method` forces the wall clock even where timestamps exist.
 */
export async function timeGpu(gpu: Gpu, kernels: Kernel[], reps: number, method?: TimingMethod): Promise<GpuTiming> {
  if (gpu.lost) throw gpu.lost;
  const d = gpu.device;
  const warm = d.createCommandEncoder({ label: 'timed.warmup' });
  encodePass(warm, kernels, 1);
  d.queue.submit([warm.finish()]);
  await d.queue.onSubmittedWorkDone();

  if (gpu.hasTimestamps && method !== 'wall') {
    const qs = d.createQuerySet({ label: 'timed.queries', type: 'timestamp', count: 2 });
    const resolve = d.createBuffer({ label: 'timed.resolve', size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = d.createBuffer({ label: 'timed.read', size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = d.createCommandEncoder({ label: 'timed' });
      encodePass(enc, kernels, reps, { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
      enc.resolveQuerySet(qs, 0, 2, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
      d.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      read.unmap();
      const ns = Number(t[1] - t[0]);
      // A driver may report 0 (timestamps quantised or disabled); fall through to the wall clock then.
      if (ns > 0) return { ms: ns / 1e6 / reps, method: 'timestamp' };
    } finally {
      qs.destroy();
      resolve.destroy();
      read.destroy();
    }
  }
  const enc = d.createCommandEncoder({ label: 'timed' });
  encodePass(enc, kernels, reps);
  const t0 = performance.now();
  d.queue.submit([enc.finish()]);
  await d.queue.onSubmittedWorkDone();
  return { ms: (performance.now() - t0) / reps, method: 'wall' };
}
