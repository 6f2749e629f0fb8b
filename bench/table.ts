// Prints the markdown tables for BENCHMARKS.md from the JSON files a GPU run writes (tools/gpu-bench.sh):
//   node --import tsx --import ./tools/node-hooks.mjs bench/table.ts --kernels k.json [--torch torch.json] [--steps steps.json] [--steps-no-sgmat s.json]
// kernels.json: bench/kernels.ts --json (adapter, FMA ceiling, autotune choices, GEMM rows); torch.json:
// tools/bench_torch.py; steps.json: our step benchmark (`npm run bench -- --json`, objects under `steps` with mode,
// gradient_checkpointing, max_length or T, micro_batch or pairs, tokens_per_second). Missing files are skipped.
import { existsSync, readFileSync } from 'node:fs';

type Json = Record<string, unknown>;
const args = process.argv.slice(2);
const argOf = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const load = (flag: string): Json | null => {
  const f = argOf(flag);
  if (!f) return null;
  if (!existsSync(f)) {
    console.log(`_(${f} missing: skipped)_\n`);
    return null;
  }
  return JSON.parse(readFileSync(f, 'utf8')) as Json;
};
const kernels = load('--kernels');
const torch = load('--torch');
const steps = load('--steps');
// the same step benchmark with REWARD_STUDIO_FLAGS=noSubgroupMatrix (tools/gpu-bench.sh, where matrix units ran)
const stepsTiled = load('--steps-no-sgmat');
const num = (v: unknown, d = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(d) : '-');

console.log(`### Run of ${new Date().toISOString().slice(0, 10)}\n`);
const fma = kernels?.fma as Json | undefined;
if (kernels) {
  const info = kernels.info as Json;
  console.log(`- Adapter (Dawn): ${String(kernels.adapter)}`);
  console.log(`- Driver / description: ${String(info?.description ?? '?')}`);
  console.log(`- f32 FMA ceiling (probed, bench/fma.ts): **${num(fma?.gflops)} GFLOP/s** (${fma?.method === 'timestamp' ? 'GPU timestamps' : 'wall clock'})`);
  console.log(`- Kernel times: ${kernels.timing === 'timestamp' ? 'GPU timestamp queries' : 'wall clock'}${kernels.tiny ? ' — TINY shapes' : ''}`);
}
if (torch) {
  const pct = fma && typeof fma.gflops === 'number' ? ` (${num((100 * (torch.matmul_fp32_gflops as number)) / (fma.gflops as number))}% of our probed ceiling)` : '';
  console.log(`- PyTorch ${String(torch.torch)} on ${String(torch.device_name)}: fp32 matmul (TF32 off) ${num(torch.matmul_fp32_gflops)} GFLOP/s${pct}, bf16 ${num(torch.matmul_bf16_gflops)} GFLOP/s at ${String(torch.matmul_n)}³`);
}
console.log('');

if (kernels) {
  const auto = (kernels.autotune as Json[] | undefined) ?? [];
  if (auto.length) {
    console.log('| shape class | autotuner choice | candidate ms |\n|---|---|---|');
    for (const a of auto) {
      const t = Object.entries((a.timings as Record<string, number>) ?? {}).map(([n, ms]) => `${n} ${ms.toFixed(3)}`).join(', ');
      console.log(`| ${String(a.shapeClass)} | ${String(a.choice)} | ${t || '(cached)'} |`);
    }
    console.log('');
  }
  console.log('| kernel | ms | GFLOP/s | % of FMA ceiling | GB/s |\n|---|---:|---:|---:|---:|');
  for (const r of kernels.kernels as Json[]) console.log(`| ${String(r.name)} | ${num(r.ms, 3)} | ${num(r.gflops)} | ${num(r.pct_fma)} | ${num(r.gbps)} |`);
  console.log('');
}

if (torch) {
  // Our step rows keyed like torch's; several spellings accepted (the step harness lives in another file).
  const ours = new Map<string, Json>();
  for (const s of ((steps?.steps as Json[] | undefined) ?? [])) {
    const T = s.max_length ?? s.T ?? s.seq_len;
    const P = s.micro_batch_pairs ?? s.micro_batch ?? s.pairs;
    ours.set(`${String(s.mode)}|${Boolean(s.gradient_checkpointing)}|${String(T)}|${String(P)}`, s);
  }
  const rows = torch.steps as Json[];
  const get = (mode: unknown, prec: string, ck: unknown, T: unknown, P: unknown) => rows.find((r) => r.mode === mode && r.precision === prec && r.gradient_checkpointing === ck && r.max_length === T && r.micro_batch_pairs === P);
  console.log('| mode | ckpt | max_length | pairs | ours tok/s | torch fp32 tok/s | torch bf16 tok/s | ours/fp32 | ours/bf16 |\n|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows.filter((x) => x.precision === 'fp32')) {
    const b = get(r.mode, 'bf16', r.gradient_checkpointing, r.max_length, r.micro_batch_pairs);
    const o = ours.get(`${String(r.mode)}|${Boolean(r.gradient_checkpointing)}|${String(r.max_length)}|${String(r.micro_batch_pairs)}`);
    const ot = o?.tokens_per_second as number | undefined;
    const ratio = (x: unknown) => (ot !== undefined && typeof x === 'number' && x > 0 ? (ot / x).toFixed(2) : '-');
    console.log(`| ${String(r.mode)} | ${r.gradient_checkpointing ? 'on' : 'off'} | ${String(r.max_length)} | ${String(r.micro_batch_pairs)} | ${num(ot, 0)} | ${num(r.tokens_per_second, 0)}${r.error ? ` (${String(r.error)})` : ''} | ${num(b?.tokens_per_second, 0)} | ${ratio(r.tokens_per_second)} | ${ratio(b?.tokens_per_second)} |`);
  }
  console.log('');
}

if (steps && stepsTiled) {
  // what the subgroup-matrix GEMM brings: each step config with matrix units and on the tiled kernel
  const tiled = new Map(((stepsTiled.steps as Json[] | undefined) ?? []).map((s) => [String(s.name), s]));
  console.log('| step config | products on matrix units | ms/step with them | ms/step tiled | speedup |\n|---|---:|---:|---:|---:|');
  for (const s of (steps.steps as Json[] | undefined) ?? []) {
    const t = tiled.get(String(s.name));
    const sp = t && typeof s.ms === 'number' && typeof t.ms === 'number' && s.ms > 0 ? `${(t.ms / s.ms).toFixed(2)}×` : '-';
    console.log(`| ${String(s.name)} | ${String(s.matrix_unit_dispatches ?? '-')} | ${num(s.ms, 2)} | ${num(t?.ms, 2)} | ${sp} |`);
  }
  console.log('');
}
