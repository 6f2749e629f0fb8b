// Benchmarks of the row and elementwise ops at Qwen3-0.6B shapes: RMSNorm over the hidden size (C=1024, BT=2048),
// per-head q/k norm (D=128), RoPE on q (H=16) and k (Hkv=8), the residual add (plain and fused with the norm),
// and the embedding gather (bf16 table, V=151936) and its CSR-plan backward. `tiny` runs the same list at toy
// shapes (for a smoke run on SwiftShader). Times are wall-clock per call over `iters` calls recorded in one
// command buffer, after one warm-up submit; bytes are the minimal DRAM traffic, flops the arithmetic per element.
import type { Gpu } from '../../src/gpu/device.ts';
import { type Kernel, destroyKernels } from '../../src/gpu/kernel.ts';
import { createStorage, uploadBuffer } from '../../src/gpu/buffers.ts';
import { Rng } from '../../src/util/random.ts';
import { rmsnormForward, rmsnormBackward, rmsnormBackwardWorkspaceBytes, residualRmsnormForward } from '../../src/ops/rmsnorm.ts';
import { ropeTable, ropeForward, ropeBackward } from '../../src/ops/rope.ts';
import { residualForward } from '../../src/ops/residual.ts';
import {
  embeddingForward, embeddingBackward, embeddingBackwardPlan, createEmbeddingPlanBuffers, writeEmbeddingPlan, embeddingTableBytes,
} from '../../src/ops/embedding.ts';
import { type Report, timeKernels } from './timing.ts';
export type { Report };



function randomF32(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.range(-1, 1);
  return a;
}

export async function benchElementwise(gpu: Gpu, report: Report, opts: { tiny?: boolean; iters?: number } = {}): Promise<void> {
  const tiny = opts.tiny ?? false;
  const iters = opts.iters ?? (tiny ? 3 : 50);
  // Legend: B sequences, T tokens, C hidden, H query heads, Hkv kv heads, D head dim, V vocab.
  const [B, T, C, H, Hkv, D, V] = tiny ? [2, 16, 64, 4, 2, 32, 1000] : [2, 1024, 1024, 16, 8, 128, 151936];
  const BT = B * T;
  const rng = new Rng(1);
  const buf = (label: string, n: number) => uploadBuffer(gpu, label, randomF32(rng, n));
  const owned: GPUBuffer[] = [];
  const keep = <T extends GPUBuffer>(b: T) => (owned.push(b), b);

  const run = async (name: string, kernel: Kernel, flops: number, bytes: number) => {
    report(name, await timeKernels(gpu, kernel, iters), flops, bytes);
    destroyKernels([kernel]);
  };

  // RMSNorm over the hidden size: x (BT,C)
  const x = keep(buf('x', BT * C)), w = keep(buf('w', C)), y = keep(createStorage(gpu, 'y', BT * C * 4));
  const rstd = keep(createStorage(gpu, 'rstd', BT * H * 4));
  const dy = keep(buf('dy', BT * C)), dx = keep(createStorage(gpu, 'dx', BT * C * 4)), dw = keep(createStorage(gpu, 'dw', C * 4));
  const ws = keep(createStorage(gpu, 'ws', Math.max(rmsnormBackwardWorkspaceBytes(BT, C), rmsnormBackwardWorkspaceBytes(BT * H, D))));
  const NC = BT * C;
  // Each reduction variant the adapter offers (src/gpu/variants.ts), named in the row.
  const variants = gpu.hasSubgroups ? [false, true] : [false];
  const vn = (sg: boolean) => (sg ? ' [subgroups]' : ' [tree]');
  for (const subgroups of variants) {
    await run(`rmsnorm_forward N=${BT} C=${C}${vn(subgroups)}`, rmsnormForward(gpu, y, rstd, x, w, BT, C, 1e-6, { subgroups }), 4 * NC, 8 * NC);
    await run(`rmsnorm_backward N=${BT} C=${C} (+dweight, accumulate)${vn(subgroups)}`,
      rmsnormBackward(gpu, dx, dw, ws, dy, x, w, rstd, BT, C, { accumulate: true, subgroups }), 10 * NC, 4 * 6 * NC);
    await run(`rmsnorm_backward N=${BT} C=${C} (frozen weight)${vn(subgroups)}`, rmsnormBackward(gpu, dx, null, null, dy, x, w, rstd, BT, C, { subgroups }), 6 * NC, 4 * 3 * NC);
  }
  await run(`residual_forward N=${NC} (in place)`, residualForward(gpu, x, x, dy, NC), NC, 12 * NC);
  for (const subgroups of variants) {
    await run(`residual_rmsnorm_forward N=${BT} C=${C} (in place)${vn(subgroups)}`, residualRmsnormForward(gpu, x, y, rstd, x, dy, w, BT, C, 1e-6, { subgroups }), 5 * NC, 16 * NC);
  }

  // Per-head q norm and RoPE: q (B,T,H,D)
  const q = keep(buf('q', BT * H * D)), qn = keep(createStorage(gpu, 'qn', BT * H * D * 4)), wq = keep(buf('wq', D));
  const dq = keep(buf('dq', BT * H * D)), dqn = keep(createStorage(gpu, 'dqn', BT * H * D * 4)), dwq = keep(createStorage(gpu, 'dwq', D * 4));
  const NQ = BT * H * D;
  for (const subgroups of variants) {
    await run(`rmsnorm_forward per head N=${BT * H} D=${D}${vn(subgroups)}`, rmsnormForward(gpu, qn, rstd, q, wq, BT * H, D, 1e-6, { subgroups }), 4 * NQ, 8 * NQ);
    await run(`rmsnorm_backward per head N=${BT * H} D=${D} (+dweight)${vn(subgroups)}`,
      rmsnormBackward(gpu, dqn, dwq, ws, dq, q, wq, rstd, BT * H, D, { subgroups }), 10 * NQ, 4 * 5 * NQ);
  }
  const table = ropeTable(T, D, 1e6);
  const cos = keep(uploadBuffer(gpu, 'cos', table.cos)), sin = keep(uploadBuffer(gpu, 'sin', table.sin));
  await run(`rope_forward q B=${B} T=${T} H=${H} D=${D} (in place)`, ropeForward(gpu, qn, qn, cos, sin, B, T, H, D), 3 * NQ, 8 * NQ);
  await run(`rope_backward q B=${B} T=${T} H=${H} D=${D}`, ropeBackward(gpu, dqn, dq, cos, sin, B, T, H, D), 3 * NQ, 8 * NQ);
  await run(`rope_forward k B=${B} T=${T} Hkv=${Hkv} D=${D} (in place)`, ropeForward(gpu, qn, qn, cos, sin, B, T, Hkv, D), 3 * BT * Hkv * D, 8 * BT * Hkv * D);

  // Embedding: bf16 table (V,C), ids (BT,)
  const ids = new Uint32Array(BT);
  for (let i = 0; i < BT; i++) ids[i] = rng.int(V);
  const idsB = keep(uploadBuffer(gpu, 'ids', ids));
  const wte = keep(createStorage(gpu, 'wte', embeddingTableBytes(V, C, 'bf16')));
  await run(`embedding_forward bf16 BT=${BT} C=${C} V=${V}`, embeddingForward(gpu, y, idsB, wte, BT, C, { weightDtype: 'bf16' }), 0, 6 * NC + 4 * BT);
  const dwte = keep(createStorage(gpu, 'dwte', V * C * 4));
  const plan = createEmbeddingPlanBuffers(gpu, BT);
  owned.push(plan.uniq, plan.offsets, plan.positions);
  const t0 = performance.now();
  const cpuPlan = embeddingBackwardPlan(ids, V);
  report(`embedding_backward_plan (CPU) BT=${BT}`, performance.now() - t0, 0, 0);
  writeEmbeddingPlan(gpu, plan, cpuPlan);
  await run(`embedding_backward BT=${BT} C=${C} (${cpuPlan.uniq.length} unique ids)`,
    embeddingBackward(gpu, dwte, dy, plan.uniq, plan.offsets, plan.positions, BT, C), NC, 4 * NC + 8 * cpuPlan.uniq.length * C);

  for (const b of owned) b.destroy();
}
