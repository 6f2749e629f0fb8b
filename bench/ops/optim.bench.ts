// Benchmarks of the optimizer-side kernels: AdamW over the Qwen3-0.6B non-embedding size (440M, split into blocks of at
// most maxStorageBufferBindingSize) and a LoRA-sized 10M, the global grad norm over 440M, bf16 → f32 of 100M
// elements (checkpoint loading). `tiny: true` runs the same code on shapes SwiftShader finishes in seconds.
// Timing: wall clock around `iters` repetitions recorded into one submit, after one warm-up; ms per repetition.
import type { Gpu } from '../../src/gpu/device.ts';
import { checked } from '../../src/gpu/device.ts';
import { type Kernel, destroyKernels } from '../../src/gpu/kernel.ts';
import { flags } from '../../src/gpu/flags.ts';
import { createStorage } from '../../src/gpu/buffers.ts';
import { adamwUpdate, createAdamwHyper, writeAdamwHyper } from '../../src/ops/adamw.ts';
import { gradNormKernels, gradNormPartialsTotal, type GradRange } from '../../src/ops/grad_norm.ts';
import { bf16ToF32 } from '../../src/ops/convert.ts';
import { type Report, timeKernels } from './timing.ts';
export type { Report };


export interface BenchOptimOptions {
  /** SwiftShader-sized shapes. */
  tiny?: boolean;
  /** Timed repetitions (default 10, tiny 3). */
  iters?: number;
}

// Per element: AdamW reads p, g, m, v and writes p, m, v (28 bytes); ~14 flops (decay, clip, lerp, v update, sqrt,
// two divisions, eps, update). Grad norm: 4 bytes, 2 flops. bf16 → f32: 2 + 4 bytes, no flops.
const ADAMW_FLOPS = 14, ADAMW_BYTES = 28;


/** Splits n elements into blocks no larger than one storage binding (and one buffer). */
function blockSizes(gpu: Gpu, n: number): number[] {
  const lim = gpu.device.limits;
  const maxElems = Math.floor(Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize) / 4 / 256) * 256;
  const out: number[] = [];
  for (let left = n; left > 0; left -= maxElems) out.push(Math.min(left, maxElems));
  return out;
}

export async function benchOptim(gpu: Gpu, report: Report, opts: BenchOptimOptions = {}): Promise<void> {
  const tiny = opts.tiny ?? false;
  const iters = opts.iters ?? (tiny ? 3 : 10);
  const adamwSizes: [string, number][] = tiny ? [['adamw 1M', 1 << 20], ['adamw 64K (LoRA-sized)', 1 << 16]] : [['adamw 440M', 440e6], ['adamw 10M (LoRA)', 10e6]];

  for (const [name, n] of adamwSizes) {
    const blocks = blockSizes(gpu, n);
    const bufs: GPUBuffer[] = [];
    const kernels: Kernel[] = [];
    const treeKernels: Kernel[] = [];
    try {
      await checked(gpu, `bench ${name}: allocate`, () => {
        const hyper = createAdamwHyper(gpu), norm = createStorage(gpu, 'bench.norm', 8);
        bufs.push(hyper, norm);
        writeAdamwHyper(gpu, hyper, { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 3 });
        const ranges: GradRange[] = [];
        const updates: Kernel[] = [];
        for (const [i, count] of blocks.entries()) {
          const [p, g, m, v] = ['param', 'grad', 'm', 'v'].map((s) => createStorage(gpu, `bench.${s}${i}`, count * 4));
          bufs.push(p, g, m, v);
          ranges.push({ buf: g, offset: 0, count });
          updates.push(adamwUpdate(gpu, p, g, m, v, hyper, norm, 0, count));
        }
        const partials = createStorage(gpu, 'bench.partials', gradNormPartialsTotal(ranges) * 4);
        bufs.push(partials);
        const normKernels = gradNormKernels(gpu, norm, partials, ranges, 1.0);
        kernels.push(...normKernels, ...updates);
        // the portable tree variant too where the default is the subgroup one (src/gpu/variants.ts)
        if (gpu.hasSubgroups) treeKernels.push(...gradNormKernels(gpu, norm, partials, ranges, 1.0, { subgroups: false }));
      });
    } catch (e) {
      console.warn(`${name}: skipped (${(e as Error).message})`);
      destroyKernels([...kernels, ...treeKernels]);
      for (const b of bufs) b.destroy();
      continue;
    }
    const normCount = blocks.length + 1;
    const normMs = await timeKernels(gpu, kernels.slice(0, normCount), iters);
    const blocksText = `${blocks.length} block${blocks.length > 1 ? 's' : ''}`;
    report(`grad norm ${name.replace('adamw ', '')} (${blocksText}) [${gpu.hasSubgroups && !flags.noSubgroups ? 'subgroups' : 'tree'}]`, normMs, 2 * n, 4 * n);
    if (treeKernels.length) report(`grad norm ${name.replace('adamw ', '')} (${blocksText}) [tree]`, await timeKernels(gpu, treeKernels, iters), 2 * n, 4 * n);
    const adamMs = await timeKernels(gpu, kernels.slice(normCount), iters);
    report(`${name} (${blocks.length} block${blocks.length > 1 ? 's' : ''})`, adamMs, ADAMW_FLOPS * n, ADAMW_BYTES * n);
    destroyKernels([...kernels, ...treeKernels]);
    for (const b of bufs) b.destroy();
  }

  const nConv = tiny ? 1 << 20 : 100e6;
  const inp = createStorage(gpu, 'bench.bf16', nConv * 2), out = createStorage(gpu, 'bench.f32', nConv * 4);
  const k = bf16ToF32(gpu, out, inp, nConv);
  report(`bf16→f32 ${tiny ? '1M' : '100M'}`, await timeKernels(gpu, [k], iters), 0, 6 * nConv);
  destroyKernels([k]);
  inp.destroy();
  out.destroy();
}
