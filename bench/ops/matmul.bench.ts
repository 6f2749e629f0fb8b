// Benchmark of the linear-layer products (src/ops/matmul.ts) and the LoRA linear (src/ops/lora.ts) at Qwen3-0.6B
// shapes: M = B·T tokens of a micro-batch (512, 2048); (N,K) = q_proj (2048,1024), k/v_proj (1024,1024),
// o_proj (1024,2048), gate/up_proj (3072,1024), down_proj (1024,3072). Frozen weights are bf16 (the checkpoint
// dtype); f32 forward and the f32 backward-weight (full fine-tuning) are timed on one shape each, and the forward
// with each tile config on one shape (what the autotuner chooses between). LoRA r=16 on q_proj, with and without dropout, sits
// next to the frozen product of the same shape so its overhead reads directly. Where the adapter has shader-f16, every
// linear's forward also runs with bf16 (f16-exact values) and f16 weights, B's tiles staged as f32 and as f16
// ([f32 tiles] / [f16 tiles]: the GEMM's f16 variant, src/ops/f16_tiles.ts; same results, half of B's workgroup bytes).
// Each kernel runs `reps` times in one compute pass after a warm-up, timed with GPU timestamps where available
// (bench/ops/timing.ts). FLOPs are 2·M·N·K per product; bytes the compulsory traffic (each input read once, each output
// written once, read too when accumulated). `tiny` runs toy shapes so the harness can be checked on SwiftShader.
// Run alone: node --import tsx --import ./tools/node-hooks.mjs bench/ops/matmul.bench.ts [--tiny]  (or BENCH_TINY=1)
import type { Gpu } from '../../src/gpu/device.ts';
import { type Kernel, destroyKernels } from '../../src/gpu/kernel.ts';
import { createStorage, uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng } from '../../src/util/random.ts';
import { type WeightDtype, TILES, gemmKernel, matmulBackwardInput, matmulBackwardWeight, matmulForward, weightRowStride } from '../../src/ops/matmul.ts';
import { recordBf16Range } from '../../src/ops/f16_tiles.ts';
import { sgmatUnavailable } from '../../src/ops/matmul_sgmat.ts';
import { loraBackward, loraForward } from '../../src/ops/lora.ts';
import { type Report, timeKernels } from './timing.ts';
export type { Report };


interface Linear { name: string; N: number; K: number }
const QWEN3_0_6B: Linear[] = [
  { name: 'q_proj', N: 2048, K: 1024 },
  { name: 'kv_proj', N: 1024, K: 1024 },
  { name: 'o_proj', N: 1024, K: 2048 },
  { name: 'gate_up_proj', N: 3072, K: 1024 },
  { name: 'down_proj', N: 1024, K: 3072 },
];
const TINY: Linear[] = [{ name: 'tiny', N: 48, K: 40 }];


function randomU32Words(rng: Rng, n: number): Uint32Array {
  // Random bf16 pairs; clearing each half's top exponent bit keeps |x| < 2 (no Inf/NaN, which could take slow
  // paths). Values do not matter for timing.
  const a = new Uint32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.nextU32() & 0xbf7fbf7f;
  return a;
}

/** Random bf16 pairs that are exact f16s (|x| in [2^-8, 2), 8 significant bits): the GEMM's f16 weight tiles apply. */
function randomF16ExactBf16Words(rng: Rng, n: number): Uint32Array {
  const half = () => ((rng.nextU32() & 0x8000) | ((119 + (rng.nextU32() % 8)) << 7) | (rng.nextU32() & 0x7f)) >>> 0;
  return Uint32Array.from({ length: n }, () => (half() | (half() << 16)) >>> 0);
}

function randomF32(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.range(-1, 1);
  return a;
}

export async function benchMatmul(gpu: Gpu, report: Report, opts: { tiny?: boolean; reps?: number } = {}): Promise<void> {
  const tiny = opts.tiny ?? false;
  const reps = opts.reps ?? (tiny ? 2 : 20);
  const Ms = tiny ? [8, 33] : [512, 2048];
  const linears = tiny ? TINY : QWEN3_0_6B;
  const R = tiny ? 4 : 16;
  const rng = new Rng(1);
  const Mmax = Math.max(...Ms);
  const Nmax = Math.max(...linears.map((l) => l.N)), Kmax = Math.max(...linears.map((l) => l.K));
  // One set of buffers sized for the largest shape; every product reads a prefix.
  const inp = uploadBuffer(gpu, 'inp', randomF32(rng, Mmax * Kmax));
  const dout = uploadBuffer(gpu, 'dout', randomF32(rng, Mmax * Nmax));
  const out = createStorage(gpu, 'out', Mmax * Math.max(Nmax, Kmax) * 4);
  const w16 = uploadBuffer(gpu, 'w_bf16', randomU32Words(rng, (Nmax * Kmax) / 2 + Nmax));
  const w32 = uploadBuffer(gpu, 'w_f32', randomF32(rng, Nmax * Kmax));
  // bf16 weights exact in f16 (recorded as the weight loader records a checked tensor): f16 vs f32 weight tiles.
  const wx = uploadBuffer(gpu, 'w_bf16_f16exact', randomF16ExactBf16Words(rng, (Nmax * Kmax) / 2 + Nmax));
  recordBf16Range(wx, 0, wx.size, { lo: 0, hi: 0 });
  const dw = createStorage(gpu, 'dweight', Nmax * Kmax * 4);
  const loraA = uploadBuffer(gpu, 'lora_A', randomF32(rng, R * Kmax)), loraB = uploadBuffer(gpu, 'lora_B', randomF32(rng, Nmax * R));
  const dA = createStorage(gpu, 'dlora_A', R * Kmax * 4), dB = createStorage(gpu, 'dlora_B', Nmax * R * 4);
  const xa = createStorage(gpu, 'xa', Mmax * R * 4), ws = createStorage(gpu, 'workspace', Mmax * R * 4);
  const seed = uploadBuffer(gpu, 'seed', Uint32Array.of(1234));
  const wbytes = (N: number, K: number, dt: WeightDtype) => N * weightRowStride(K, dt) * (dt === 'f32' ? 4 : 2);

  const run = async (name: string, kernel: Kernel, flops: number, bytes: number) => {
    report(name, await timeKernels(gpu, kernel, reps), flops, bytes);
    destroyKernels([kernel]);
  };

  for (const M of Ms) {
    for (const { name, N, K } of linears) {
      const f = 2 * M * N * K;
      const tag = `${name} M=${M} N=${N} K=${K}`;
      await run(`matmul_forward bf16 ${tag}`, matmulForward(gpu, out, inp, w16, M, N, K, { weightDtype: 'bf16' }), f, 4 * M * K + wbytes(N, K, 'bf16') + 4 * M * N);
      await run(`matmul_backward_input bf16 ${tag}`, matmulBackwardInput(gpu, out, dout, w16, M, N, K, { weightDtype: 'bf16' }), f, 4 * M * N + wbytes(N, K, 'bf16') + 4 * M * K);
    }
    // shader-f16: the same products with B's tiles staged as f16 vs f32 in workgroup memory (bit-identical results),
    // and on subgroup matrices where their self-test passed (src/ops/matmul_sgmat.ts; f32-level, not bit-identical).
    if (gpu.hasF16) {
      const variants: [string, boolean, boolean][] = [[' [f32 tiles]', false, false], [' [f16 tiles]', true, false]];
      if (sgmatUnavailable(gpu) === null && gpu.sgmatCheck?.ok) variants.push([' [subgroup matrices]', true, true]);
      for (const { name, N, K } of linears) {
        const f = 2 * M * N * K;
        const tag = `${name} M=${M} N=${N} K=${K}`;
        for (const [v, f16Tiles, sgmat] of variants) {
          await run(`matmul_forward bf16 ${tag}${v}`, gemmTiles(gpu, out, inp, wx, M, N, K, 'bf16', true, f16Tiles, sgmat), f, 4 * M * K + wbytes(N, K, 'bf16') + 4 * M * N);
          await run(`matmul_forward f16 ${tag}${v}`, gemmTiles(gpu, out, inp, w16, M, N, K, 'f16', true, f16Tiles, sgmat), f, 4 * M * K + wbytes(N, K, 'f16') + 4 * M * N);
          await run(`matmul_backward_input bf16 ${tag}${v}`, gemmTiles(gpu, out, dout, wx, M, N, K, 'bf16', false, f16Tiles, sgmat), f, 4 * M * N + wbytes(N, K, 'bf16') + 4 * M * K);
        }
      }
    }
    const { N, K } = linears[0];
    const f = 2 * M * N * K;
    const tag = `${linears[0].name} M=${M} N=${N} K=${K}`;
    await run(`matmul_forward f32 ${tag}`, matmulForward(gpu, out, inp, w32, M, N, K), f, 4 * (M * K + N * K + M * N));
    await run(`matmul_backward_weight f32 ${tag}`, matmulBackwardWeight(gpu, dw, dout, inp, M, N, K), f, 4 * (M * N + M * K + 2 * N * K));
    // Every tile (the autotuner's candidates) on the forward and the weight gradient of this shape.
    for (const [tname, tile] of Object.entries(TILES)) {
      if ((tname === 'tall' || tname === 'wide') && !tiny) continue;
      // The GPU variant (vector loads, prefetch, specialised layouts) even on a CPU adapter, which defaults to scalar.
      const t = { ...tile, vector: true, prefetch: true, specialize: true };
      await run(`matmul_forward bf16 ${tag} tile=${tname}`, matmulForward(gpu, out, inp, w16, M, N, K, { weightDtype: 'bf16', tile: t }), f, 4 * M * K + wbytes(N, K, 'bf16') + 4 * M * N);
      await run(`matmul_backward_weight f32 ${tag} tile=${tname}`, matmulBackwardWeight(gpu, dw, dout, inp, M, N, K, { tile: t }), f, 4 * (M * N + M * K + 2 * N * K));
    }
    // LoRA on q_proj: forward = base + xa + B product; backward = base dinp + 4 R-sized products.
    const loraF = f + 2 * M * R * K + 2 * M * N * R;
    const loraB_ = f + 2 * M * N * R + 2 * M * R * K + 2 * N * R * M + 2 * R * K * M;
    for (const p of [0, 0.05]) {
      const dropout = p > 0 ? { p, seed } : undefined;
      const d = p > 0 ? ` dropout=${p}` : '';
      await run(`lora_forward r=${R}${d} bf16 ${tag}`, loraForward(gpu, out, xa, inp, w16, loraA, loraB, M, N, K, R, 2, { weightDtype: 'bf16', dropout }),
        loraF, 4 * M * K + wbytes(N, K, 'bf16') + 4 * (2 * M * N + 2 * M * R + R * K + N * R));
      await run(`lora_backward r=${R}${d} bf16 ${tag}`,
        loraBackward(gpu, out, dA, dB, ws, dout, inp, xa, w16, loraA, loraB, M, N, K, R, 2, { weightDtype: 'bf16', dropout }),
        loraB_, 4 * (M * N + 2 * M * K + M * R) + wbytes(N, K, 'bf16') + 4 * 3 * (R * K + N * R));
    }
  }
  for (const b of [inp, dout, out, w16, wx, w32, dw, loraA, loraB, dA, dB, xa, ws, seed]) b.destroy();
}

/** With 16-bit W (N,K): forward out (M,N) = inp (M,K)·Wᵀ, or input gradient out (M,K) = dout (M,N)·W; B's workgroup
 *  tiles forced to f16 or f32, or the product on subgroup matrices (the random w16 words, |x| < 2, are valid f16
 *  values too). */
function gemmTiles(gpu: Gpu, out: GPUBuffer, a: GPUBuffer, w: GPUBuffer, M: number, N: number, K: number, dtype: 'f16' | 'bf16', forward: boolean, f16Tiles: boolean, sgmat: boolean): Kernel {
  const ldw = weightRowStride(K, dtype);
  return forward
    ? gemmKernel(gpu, { label: 'matmul_forward', c: out, ldc: N, M, N, K, a: { buffer: a, kContig: true, ld: K }, b: { buffer: w, kContig: true, ld: ldw, dtype, f16Tiles, sgmat } })
    : gemmKernel(gpu, { label: 'matmul_backward_input', c: out, ldc: K, M, N: K, K: N, a: { buffer: a, kContig: true, ld: N }, b: { buffer: w, kContig: false, ld: ldw, dtype, f16Tiles, sgmat } });
}

// Standalone: prints one line per kernel.
if (typeof process !== 'undefined' && process.argv[1]?.endsWith('matmul.bench.ts')) {
  const { requestNodeGpu, useSwiftShaderIfNoIcd } = await import('../../src/gpu/node.ts');
  const { describeGpu } = await import('../../src/gpu/device.ts');
  useSwiftShaderIfNoIcd();
  const gpu = await requestNodeGpu();
  console.log(describeGpu(gpu));
  await benchMatmul(gpu, (name, ms, flops, bytes) =>
    console.log(`${name.padEnd(72)} ${ms.toFixed(3).padStart(9)} ms ${(flops / ms / 1e9).toFixed(2).padStart(8)} TFLOP/s ${(bytes / ms / 1e6).toFixed(1).padStart(8)} GB/s`),
    { tiny: process.argv.includes('--tiny') || process.env.BENCH_TINY === '1' });
  process.exit(0);
}
