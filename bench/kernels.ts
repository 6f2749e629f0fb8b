// `npm run bench:kernels [-- --tiny] [--only matmul,attention,elementwise,optim] [--step]`: times every kernel at
// Qwen3-0.6B's shapes on whatever adapter Dawn finds (a real GPU, or SwiftShader with --tiny) and prints a table:
// time, GFLOP/s, GB/s. With --step it also times one whole LoRA training micro-step of the real model structure.
// A benchmark, not a test: nothing asserts on time. Results go in BENCHMARKS.md with the adapter they ran on.
import { requestNodeGpu } from '../src/gpu/node.ts';
import { describeGpu } from '../src/gpu/device.ts';
import { benchMatmul } from './ops/matmul.bench.ts';
import { benchAttention } from './ops/attention.bench.ts';
import { benchElementwise } from './ops/elementwise.bench.ts';
import { benchOptim } from './ops/optim.bench.ts';
import { benchStep } from './step.bench.ts';

const args = process.argv.slice(2);
const tiny = args.includes('--tiny') || process.env.BENCH_TINY === '1';
const onlyArg = args[args.indexOf('--only') + 1];
const only = args.includes('--only') && onlyArg ? new Set(onlyArg.split(',')) : null;
const want = (n: string) => !only || only.has(n);

const gpu = await requestNodeGpu({ swiftShaderFallback: true });
console.log(`adapter: ${describeGpu(gpu)}${tiny ? '   (tiny shapes)' : ''}`);
console.log(`${'kernel'.padEnd(58)} ${'ms'.padStart(10)} ${'GFLOP/s'.padStart(10)} ${'GB/s'.padStart(9)}`);
const report = (name: string, ms: number, flops: number, bytes: number) => {
  const gf = flops > 0 ? (flops / ms / 1e6).toFixed(1) : '-';
  const gb = bytes > 0 ? (bytes / ms / 1e6).toFixed(1) : '-';
  console.log(`${name.padEnd(58)} ${ms.toFixed(3).padStart(10)} ${gf.padStart(10)} ${gb.padStart(9)}`);
};
if (want('matmul')) await benchMatmul(gpu, report, { tiny });
if (want('attention')) await benchAttention(gpu, report, { tiny });
if (want('elementwise')) await benchElementwise(gpu, report, { tiny });
if (want('optim')) await benchOptim(gpu, report, { tiny });
if (args.includes('--step') || want('step')) await benchStep(gpu, report, { tiny });
process.exit(0);
