// `npm run bench:kernels [-- --tiny] [--only matmul,attention,elementwise,optim] [--step] [--tune] [--json FILE]`:
// times every kernel at Qwen3-0.6B's shapes on whatever adapter Dawn finds (a real GPU, or SwiftShader with
// --tiny) and prints a table: time, GFLOP/s, % of the adapter's f32 FMA ceiling (probed first, bench/fma.ts),
// GB/s. Times are GPU timestamps where the adapter has `timestamp-query`, else the wall clock (the header says
// which). --tune runs the GEMM autotuner for the benchmarked shapes first (choices cached in the user's cache dir,
// src/ops/matmul_tune_node.ts). With --step it also times one whole LoRA training micro-step of the real model
// structure. --json FILE writes { adapter, timing, fma, autotune, kernels: [...] }.
// A benchmark, not a test: nothing asserts on time. Results go in BENCHMARKS.md with the adapter they ran on.
import { writeFileSync } from 'node:fs';
import { requestNodeGpu } from '../src/gpu/node.ts';
import { describeEngineFeatures, describeGpu } from '../src/gpu/device.ts';
import { checkGemmVariants } from '../src/ops/sgmat_check.ts';
import { benchMatmul } from './ops/matmul.bench.ts';
import { benchAttention } from './ops/attention.bench.ts';
import { benchElementwise } from './ops/elementwise.bench.ts';
import { benchOptim } from './ops/optim.bench.ts';
import { benchStep } from './step.bench.ts';
import { probeFmaCeiling } from './fma.ts';
import { timing } from './ops/timing.ts';
import { autotuneGemm, linearShapes, type TuneResult } from '../src/ops/matmul_tune.ts';
import { fileTuneStore } from '../src/ops/matmul_tune_node.ts';

const args = process.argv.slice(2);
const tiny = args.includes('--tiny') || process.env.BENCH_TINY === '1';
const argOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const onlyArg = argOf('--only');
const only = onlyArg ? new Set(onlyArg.split(',')) : null;
const want = (n: string) => !only || only.has(n);
const jsonFile = argOf('--json');

const gpu = await requestNodeGpu({ swiftShaderFallback: true });
// the GEMM variants' self-tests first: the f16 tiles and subgroup matrices are benchmarked (and tuned) only where they pass
await checkGemmVariants(gpu);
const fma = await probeFmaCeiling(gpu, { tiny });
const clock = (m: string | null) => (m === 'timestamp' ? 'GPU timestamps' : 'wall clock');
console.log(`adapter: ${describeGpu(gpu)}${tiny ? '   (tiny shapes)' : ''}`);
console.log(`engine: ${describeEngineFeatures(gpu)}`);
console.log(`f32 FMA ceiling (probed): ${fma.gflops.toFixed(1)} GFLOP/s (${clock(fma.method)})`);

let autotune: TuneResult[] = [];
if (args.includes('--tune')) {
  const linears = tiny ? [{ N: 48, K: 40 }] : [{ N: 2048, K: 1024 }, { N: 1024, K: 1024 }, { N: 1024, K: 2048 }, { N: 3072, K: 1024 }, { N: 1024, K: 3072 }];
  const shapes = (tiny ? [8, 33] : [512, 2048, 8192]).flatMap((M) => linearShapes(M, linears, 'bf16', true));
  autotune = await autotuneGemm(gpu, shapes, { store: fileTuneStore(), log: (l) => console.log(l) });
  if (autotune.length === 0) console.log('autotune: skipped (CPU adapter: it always runs the CPU tile)');
}

const rows: { name: string; ms: number; gflops: number | null; pct_fma: number | null; gbps: number | null }[] = [];
console.log(`${'kernel'.padEnd(72)} ${'ms'.padStart(10)} ${'GFLOP/s'.padStart(10)} ${'% FMA'.padStart(6)} ${'GB/s'.padStart(9)}`);
const report = (name: string, ms: number, flops: number, bytes: number) => {
  const gf = flops > 0 ? flops / ms / 1e6 : null;
  const gb = bytes > 0 ? bytes / ms / 1e6 : null;
  const pct = gf !== null ? (100 * gf) / fma.gflops : null;
  rows.push({ name, ms, gflops: gf, pct_fma: pct, gbps: gb });
  console.log(`${name.padEnd(72)} ${ms.toFixed(3).padStart(10)} ${(gf?.toFixed(1) ?? '-').padStart(10)} ${(pct?.toFixed(1) ?? '-').padStart(6)} ${(gb?.toFixed(1) ?? '-').padStart(9)}`);
};
if (want('matmul')) await benchMatmul(gpu, report, { tiny });
if (want('attention')) await benchAttention(gpu, report, { tiny });
if (want('elementwise')) await benchElementwise(gpu, report, { tiny });
if (want('optim')) await benchOptim(gpu, report, { tiny });
if (args.includes('--step') || want('step')) await benchStep(gpu, report, { tiny });
console.log(`(times: ${clock(timing.method)})`);
if (jsonFile) {
  writeFileSync(jsonFile, JSON.stringify({ adapter: describeGpu(gpu), info: gpu.info, tiny, timing: timing.method, fma, autotune, kernels: rows }, null, 1));
  console.log(`wrote ${jsonFile}`);
}
process.exit(0);
