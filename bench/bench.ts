// `npm run bench [-- --tiny] [--json FILE] [--compare torch.json] [--full] [--ops] [--reps N] [--gpu-memory GiB]`: whole training steps
// (src/bench/step_bench.ts: LoRA r=16 on all linears, and full fine-tuning with --full, at max_length 256/512/1024 and
// micro-batch 1/4/8 pairs, each in the checkpointing mode the trainer chooses for --gpu-memory (default 24 GiB); --tiny:
// tiny dims on any adapter incl. SwiftShader, every checkpointing mode) with their structure (dispatches per
// layer and step, submissions, allocations per step after the first, rows processed vs real tokens), then with
// --ops every kernel at Qwen3-0.6B shapes (bench/kernels.ts's benches). --json writes one object {adapter, steps};
// --compare reads tools/bench_torch.py's JSON and adds the ours/PyTorch tokens/s ratio per precision.
// A benchmark, not a test: nothing asserts on time. Results go in BENCHMARKS.md with the adapter they ran on.
import { readFileSync, writeFileSync } from 'node:fs';
import { requestNodeGpu } from '../src/gpu/node.ts';
import { describeEngineFeatures, describeGpu } from '../src/gpu/device.ts';
import { benchStep, stepConfigs, torchRatios, QWEN3_0_6B_DIMS, TINY_DIMS, type StepResult, type TorchStep } from '../src/bench/step_bench.ts';
import { formatStepTable } from '../src/bench/table.ts';

const args = process.argv.slice(2);
const arg = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const tiny = args.includes('--tiny') || process.env.BENCH_TINY === '1';
const jsonOut = arg('--json');
const compare = arg('--compare');
const reps = Number(arg('--reps') ?? (tiny ? 1 : 3));

let torch: TorchStep[] = [];
if (compare) {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(compare, 'utf8'));
  } catch (e) {
    throw new Error(`--compare ${compare}: cannot read it as JSON (${(e as Error).message}); write it with python tools/bench_torch.py --json ${compare}`, { cause: e });
  }
  const steps = (parsed as { steps?: unknown }).steps;
  if (!steps || typeof steps !== 'object') throw new Error(`--compare ${compare}: no "steps" list; expected tools/bench_torch.py's output {adapter, steps: [{mode, pairs, max_length, precision, tokens_per_second}]}`);
  torch = Object.values(steps as Record<string, TorchStep>);
}

const gpu = await requestNodeGpu({ swiftShaderFallback: true });
const adapter = describeGpu(gpu);
console.log(`adapter: ${adapter}${tiny ? '   (tiny shapes)' : ''}; step time: ${gpu.hasTimestamps ? 'GPU timestamp queries (ms_wall: the wall clock as the trainer submits)' : 'wall clock (submit → onSubmittedWorkDone; the adapter has no timestamp-query)'}`);
const results: (StepResult & { vs_torch?: Record<string, number> })[] = [];
const gpuMemory = arg('--gpu-memory');
for (const c of stepConfigs(tiny, { full: args.includes('--full'), budgetBytes: gpuMemory ? Number(gpuMemory) * 2 ** 30 : undefined })) {
  const r = await benchStep(gpu, tiny ? TINY_DIMS : QWEN3_0_6B_DIMS, c, reps);
  results.push(torch.length ? { ...r, vs_torch: torchRatios(r, torch) } : r);
  console.log(formatStepTable([results[results.length - 1]], results.length === 1));
}
// after the first step ran the GEMM variants' self-tests: which of them the numbers above used
const engine = describeEngineFeatures(gpu);
console.log(`engine: ${engine}`);
if (jsonOut) {
  writeFileSync(jsonOut, JSON.stringify({ adapter, engine, tiny, date: new Date().toISOString(), timing: results[0]?.timing ?? 'wall-clock', steps: results }, null, 2) + '\n');
  console.log(`wrote ${jsonOut}`);
}
if (args.includes('--ops')) {
  const { runOpBenches, printReport } = await import('./ops/all.ts');
  await runOpBenches(gpu, printReport(), tiny);
}
process.exit(0);
