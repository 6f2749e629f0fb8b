// Benchmark of causal self-attention forward and backward (src/ops/attention.ts) at Qwen3-0.6B shapes
// (H=16, Hkv=8, D=128; B·T = 4×512 and 2×1024, no padding). Each kernel is recorded `reps` times into one command
// buffer and timed by queue.onSubmittedWorkDone, after one warm-up submit (pipelines compiled, caches warm).
// `tiny` runs one small shape so the harness can be checked on SwiftShader.
// Run alone: node --import tsx --import ./tools/node-hooks.mjs bench/ops/attention.bench.ts [--tiny]
//
// FLOPs count the useful work of a causal mask, P = B·H·T(T+1)/2 visible (query, key) pairs: forward 2 matmuls
// (q·k, P·v) = 4·D·P; backward the usual FlashAttention-2 convention of 5 matmuls = 10·D·P, which is what the
// kernels do (dkdv recomputes q·k and dout·v once and stores dS; dq reads it). src/ops/attention.ts attentionFlops. Bytes are the compulsory traffic (every input read once,
// every output written once), so bytes/ms is a lower bound on the bandwidth used.
import type { Gpu } from '../../src/gpu/device.ts';
import { attentionBackward, attentionBackwardWorkspaceBytes, attentionForward } from '../../src/ops/attention.ts';
import { destroyKernels } from '../../src/gpu/kernel.ts';
import { createStorage, uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng } from '../../src/util/random.ts';
import { type Report, timeKernels } from './timing.ts';
export type { Report };


export interface AttentionShape { B: number; T: number; H: number; Hkv: number; D: number }

export const QWEN3_0_6B_SHAPES: AttentionShape[] = [
  { B: 4, T: 512, H: 16, Hkv: 8, D: 128 },
  { B: 2, T: 1024, H: 16, Hkv: 8, D: 128 },
];
export const TINY_SHAPES: AttentionShape[] = [{ B: 2, T: 40, H: 4, Hkv: 2, D: 32 }];

function randomF32(rng: Rng, n: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = scale * (2 * rng.uniform() - 1);
  return a;
}


export async function benchAttention(gpu: Gpu, report: Report, opts: { tiny?: boolean; reps?: number; shapes?: AttentionShape[] } = {}): Promise<void> {
  const shapes = opts.shapes ?? (opts.tiny ? TINY_SHAPES : QWEN3_0_6B_SHAPES);
  const reps = opts.reps ?? (opts.tiny ? 2 : 20);
  for (const { B, T, H, Hkv, D } of shapes) {
    const rng = new Rng(B * 1000 + T);
    const nq = B * T * H * D, nkv = B * T * Hkv * D;
    // q (B,T,H,D), k v (B,T,Hkv,D), dout (B,T,H,D), cu_seqlens of B full sequences: scores of order 1, like normed q, k.
    const q = uploadBuffer(gpu, 'bench.q', randomF32(rng, nq, 1));
    const k = uploadBuffer(gpu, 'bench.k', randomF32(rng, nkv, 1));
    const v = uploadBuffer(gpu, 'bench.v', randomF32(rng, nkv, 1));
    const dout = uploadBuffer(gpu, 'bench.dout', randomF32(rng, nq, 1));
    const cu = uploadBuffer(gpu, 'bench.cu', Uint32Array.from({ length: B + 1 }, (_, b) => b * T)); // packed: B sequences of T
    const out = createStorage(gpu, 'bench.out', nq * 4), lse = createStorage(gpu, 'bench.lse', B * H * T * 4);
    const dq = createStorage(gpu, 'bench.dq', nq * 4), dk = createStorage(gpu, 'bench.dk', nkv * 4), dv = createStorage(gpu, 'bench.dv', nkv * 4);
    const ws = createStorage(gpu, 'bench.ws', attentionBackwardWorkspaceBytes(B * T, T, B, H, D));
    const fwd = attentionForward(gpu, out, lse, q, k, v, cu, B, T, B * T, H, Hkv, D);
    const bwd = attentionBackward(gpu, dq, dk, dv, ws, dout, q, k, v, out, lse, cu, B, T, B * T, H, Hkv, D);

    const pairs = (B * H * T * (T + 1)) / 2;
    const shape = `B=${B} T=${T} H=${H} Hkv=${Hkv} D=${D}`;
    const fwdBytes = 4 * (2 * nq + 2 * nkv + B * H * T);
    const dsBytes = 4 * B * H * T * (T + 1) / 2; // dS (causal half), written by dkdv, read by dq
    const bwdBytes = 4 * (4 * nq + 4 * nkv + 5 * B * H * T) + 2 * dsBytes;  // q out dout dq; k v dk dv; lse, ws; dS
    report(`attention_forward ${shape}`, await timeKernels(gpu, fwd, reps), 4 * D * pairs, fwdBytes);
    report(`attention_backward ${shape}`, await timeKernels(gpu, bwd, reps), 10 * D * pairs, bwdBytes);

    destroyKernels([fwd, bwd]);
    for (const b of [q, k, v, dout, cu, out, lse, dq, dk, dv, ws]) b.destroy();
  }
}

// Standalone: prints one line per kernel.
if (typeof process !== 'undefined' && process.argv[1]?.endsWith('attention.bench.ts')) {
  const { requestNodeGpu, useSwiftShaderIfNoIcd } = await import('../../src/gpu/node.ts');
  const { describeGpu } = await import('../../src/gpu/device.ts');
  useSwiftShaderIfNoIcd();
  const gpu = await requestNodeGpu();
  console.log(describeGpu(gpu));
  await benchAttention(gpu, (name, ms, flops, bytes) =>
    console.log(`${name.padEnd(52)} ${ms.toFixed(3).padStart(9)} ms ${(flops / ms / 1e9).toFixed(2).padStart(8)} TFLOP/s ${(bytes / ms / 1e6).toFixed(1).padStart(8)} GB/s`),
    { tiny: process.argv.includes('--tiny') });
  process.exit(0);
}
