// Every op benchmark in one call (bench:kernels and `npm run bench -- --ops`).
import type { Gpu } from '../../src/gpu/device.ts';
import { benchMatmul } from './matmul.bench.ts';
import { benchAttention } from './attention.bench.ts';
import { benchElementwise } from './elementwise.bench.ts';
import { benchOptim } from './optim.bench.ts';
import type { Report } from './timing.ts';

export function printReport(): Report {
  console.log(`${'kernel'.padEnd(58)} ${'ms'.padStart(10)} ${'GFLOP/s'.padStart(10)} ${'GB/s'.padStart(9)}`);
  return (name, ms, flops, bytes) => {
    const gf = flops > 0 ? (flops / ms / 1e6).toFixed(1) : '-';
    const gb = bytes > 0 ? (bytes / ms / 1e6).toFixed(1) : '-';
    console.log(`${name.padEnd(58)} ${ms.toFixed(3).padStart(10)} ${gf.padStart(10)} ${gb.padStart(9)}`);
  };
}

export async function runOpBenches(gpu: Gpu, report: Report, tiny: boolean, want: (n: string) => boolean = () => true): Promise<void> {
  if (want('matmul')) await benchMatmul(gpu, report, { tiny });
  if (want('attention')) await benchAttention(gpu, report, { tiny });
  if (want('elementwise')) await benchElementwise(gpu, report, { tiny });
  if (want('optim')) await benchOptim(gpu, report, { tiny });
}
