// The adapter's f32 FMA ceiling, probed with a tiny FMA-loop kernel (shaders/fma_probe.wgsl): GFLOP/s, the
// denominator of every "% of ceiling" column (bench/kernels.ts, tools/gpu-bench.sh). Timed with GPU timestamp
// queries where the adapter has them, else the wall clock (the result says which).
// Run alone: node --import tsx --import ./tools/node-hooks.mjs bench/fma.ts [--tiny] [--json]
import code from '../shaders/fma_probe.wgsl?raw';
import type { Gpu } from '../src/gpu/device.ts';
import { type TimingMethod, timeGpu } from '../src/gpu/timer.ts';
import { createStorage } from '../src/gpu/buffers.ts';
import { getPipeline, bindBuffers } from '../src/gpu/kernel.ts';

export interface FmaCeiling {
  gflops: number;
  ms: number;
  method: TimingMethod;
  threads: number;
  iters: number;
}

/**
 * Probes the f32 FMA rate. `tiny` (SwiftShader, CI) runs 64 workgroups × 64 rounds; otherwise 8192 workgroups of
 * 256 threads × 4096 rounds (≈ 69 TFLOP per run: long enough to time on any GPU); the best of `reps` runs counts.
 */
export async function probeFmaCeiling(gpu: Gpu, opts: { tiny?: boolean; reps?: number } = {}): Promise<FmaCeiling> {
  const groups = opts.tiny ? 64 : 8192;
  const iters = opts.tiny ? 64 : 4096;
  const threads = groups * 256;
  const out = createStorage(gpu, 'fma_probe.out', threads * 16);
  const pipeline = getPipeline(gpu, { label: 'fma_probe', code, entryPoint: 'main', constants: { ITERS: iters } });
  const wg: [number, number, number] = groups > 65535 ? [65535, Math.ceil(groups / 65535), 1] : [groups, 1, 1];
  const kernel = { label: 'fma_probe', dispatches: [{ pipeline, bindGroup: bindBuffers(gpu, 'fma_probe', pipeline, [out]), workgroups: wg }], owned: [] };
  let best: { ms: number; method: TimingMethod } | null = null;
  for (let r = 0; r < (opts.reps ?? 3); r++) {
    const t = await timeGpu(gpu, [kernel], 1);
    if (!best || t.ms < best.ms) best = t;
  }
  out.destroy();
  const flops = threads * iters * 8 * 4 * 2;
  return { gflops: flops / best!.ms / 1e6, ms: best!.ms, method: best!.method, threads, iters };
}

if (typeof process !== 'undefined' && /fma\.(ts|mjs)$/.test(process.argv[1] ?? '')) {
  const { requestNodeGpu } = await import('../src/gpu/node.ts');
  const { describeGpu } = await import('../src/gpu/device.ts');
  const gpu = await requestNodeGpu({ swiftShaderFallback: true });
  const tiny = process.argv.includes('--tiny') || process.env.BENCH_TINY === '1';
  const r = await probeFmaCeiling(gpu, { tiny });
  if (process.argv.includes('--json')) console.log(JSON.stringify({ adapter: describeGpu(gpu), ...r }));
  else console.log(`${describeGpu(gpu)}\nf32 FMA ceiling: ${r.gflops.toFixed(1)} GFLOP/s (${r.method === 'timestamp' ? 'GPU timestamps' : 'wall clock'}, ${r.ms.toFixed(3)} ms, ${r.threads} threads × ${r.iters} rounds)`);
  process.exit(0);
}
