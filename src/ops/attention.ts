// Causal self-attention of Qwen3 (transformers eager attention after q_norm, k_norm and RoPE), flash style:
// shaders/attention_forward.wgsl, shaders/attention_backward.wgsl. Reference: ./attention.ref.ts.
// Test: tests/ops/attention.test.ts. Benchmark: bench/ops/attention.bench.ts.
// Padding-free (packed, cu_seqlens style): B sequences laid end to end in M rows, sequence b at rows
// [cu[b], cu[b+1]) of q/k/v (cu is (B+1,) u32, cu[0] = 0, cu[B] = M); T ≥ the longest sequence sizes the grid.
// H query heads, Hkv kv heads, D head dim. All buffers f32 except cu (u32).
// Scale D^-0.5, causal mask within each sequence, softmax in f32, GQA: query head h reads kv head h / (H / Hkv).
// Every row belongs to a sequence and is assigned; no padding row exists (the model packs real tokens only,
// which equals transformers' right-padded attention on the real positions: a real query never sees a pad key).
//
// Memory is O(T): q/k/v tiles stream through workgroup memory; the backward recomputes probabilities from lse.
// Rows are read as vec4, so D must be a multiple of 4. Tiles are override constants (attentionTiles(D)); at
// D = 128 they use ≤ 256 invocations and ~26 KiB of the 32 KiB workgroup storage (see storage* below):
//   forward  BQ=16 query rows × TPR=16 threads per row (256 invocations), key tiles of BK=16 rows
//   dkdv     BK=16 key rows × TPR=16 threads per row, query tiles of BQ=8 rows
//   dq       BQ=16 query rows × TPR=16 threads per row, key tiles of BK=8 rows
// TPR threads of a row own D/4/TPR vec4s each (2 at D = 128); for D < 64, TPR shrinks to D/4 so no thread idles.
import forwardCode from '../../shaders/attention_forward.wgsl?raw';
import backwardCode from '../../shaders/attention_backward.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bindBuffers, bufLabel, bufSize, cdiv, checkWorkgroups, createUniform, getPipeline } from '../gpu/kernel.ts';
import { elementwiseGrid } from './grid.ts';

/** Tile shape of one attention kernel: rows owned by a workgroup, rows streamed per step, threads per row. */
export interface AttentionTiles {
  /** forward: query rows per workgroup (BQ) and key rows per tile (BK), TPR threads per query row */
  forward: { BQ: number; BK: number; TPR: number };
  /** dkdv: key rows per workgroup (BK), query rows per step (BQ), TPR threads per key row */
  dkdv: { BQ: number; BK: number; TPR: number };
  /** dq: query rows per workgroup (BQ), key rows per step (BK), TPR threads per query row */
  dq: { BQ: number; BK: number; TPR: number };
}

/** Default tiles for head dim D (a multiple of 4). */
export function attentionTiles(D: number): AttentionTiles {
  let TPR = 16;
  while (TPR > 1 && TPR > D / 4) TPR /= 2;
  return {
    forward: { BQ: 16, BK: 16, TPR },
    dkdv: { BQ: 8, BK: 16, TPR },
    dq: { BQ: 16, BK: 8, TPR },
  };
}

const MAX_DPT = 4; // MAX_DPT in both shaders: vec4s per thread, ceil(D / 4 / TPR)
const PREP_WG = 64;

/** Workgroup bytes of the forward kernel: q, k, v tiles with row stride D+4, and the BQ×BK score tile. */
export function storageForward(D: number, t: { BQ: number; BK: number }): number {
  return 4 * ((t.BQ + 2 * t.BK) * (D + 4) + t.BQ * t.BK);
}

/** Workgroup bytes of the backward kernels: q, dout, k, v tiles, P and dP tiles, lse and Δ of the query rows. */
export function storageBackward(D: number, t: { BQ: number; BK: number }): number {
  return 4 * (2 * (t.BQ + t.BK) * (D + 4) + 2 * t.BQ * t.BK + 2 * t.BQ);
}

/** Bytes of the backward workspace: (lse, Δ) per (row, head), i.e. (M,H,2) f32. */
export function attentionBackwardWorkspaceBytes(M: number, H: number): number {
  return M * H * 2 * 4;
}

function checkDims(gpu: Gpu, label: string, B: number, T: number, M: number, H: number, Hkv: number, D: number, tiles: { BQ: number; BK: number; TPR: number }, wgRows: number, storage: number): void {
  for (const [n, x] of Object.entries({ B, T, M, H, Hkv, D })) {
    if (!Number.isInteger(x) || x < 1) throw new Error(`${label}: ${n} = ${x} must be a positive integer`);
  }
  if (H % Hkv !== 0) throw new Error(`${label}: H = ${H} is not a multiple of Hkv = ${Hkv} (GQA groups must be whole)`);
  if (D % 4 !== 0) throw new Error(`${label}: head dim D = ${D} must be a multiple of 4 (rows are read as vec4)`);
  if (Math.ceil(D / 4 / tiles.TPR) > MAX_DPT) throw new Error(`${label}: D = ${D} needs more than ${MAX_DPT} vec4s per thread with TPR = ${tiles.TPR}; raise TPR`);
  const wg = wgRows * tiles.TPR;
  const lim = gpu.device.limits;
  if (wg > lim.maxComputeInvocationsPerWorkgroup) throw new Error(`${label}: ${wg} invocations per workgroup exceed the device limit ${lim.maxComputeInvocationsPerWorkgroup}`);
  if (storage > lim.maxComputeWorkgroupStorageSize)
    throw new Error(`${label}: tiles ${JSON.stringify(tiles)} with D = ${D} need ${storage} bytes of workgroup storage, over the device limit ${lim.maxComputeWorkgroupStorageSize}`);
}

function checkSize(label: string, name: string, buf: Buf, bytes: number): void {
  if (bufSize(buf) < bytes) throw new Error(`${label}: buffer ${name} (${bufLabel(buf)}) has ${bufSize(buf)} bytes, needs ${bytes}`);
}

function params(gpu: Gpu, label: string, B: number, T: number, M: number, H: number, Hkv: number, D: number): GPUBuffer {
  return createUniform(gpu, label, [B, T, H, Hkv, Math.fround(1 / Math.sqrt(D)), M], new Set([4]));
}

// out is (M,H,D), lse is (M,H) = row log-sum-exp of the scaled scores (saved for backward),
// q is (M,H,D), k and v are (M,Hkv,D), cu is (B+1,) u32 (sequence b = rows [cu[b], cu[b+1]), each ≤ T long).
// Assigns out and lse.
export function attentionForward(
  gpu: Gpu, out: Buf, lse: Buf, q: Buf, k: Buf, v: Buf, cu: Buf,
  B: number, T: number, M: number, H: number, Hkv: number, D: number, tiles: AttentionTiles = attentionTiles(D),
): Kernel {
  const label = 'attention_forward';
  const t = tiles.forward;
  checkDims(gpu, label, B, T, M, H, Hkv, D, t, t.BQ, storageForward(D, t));
  const qBytes = M * H * D * 4, kvBytes = M * Hkv * D * 4;
  checkSize(label, 'out', out, qBytes); checkSize(label, 'lse', lse, M * H * 4); checkSize(label, 'q', q, qBytes);
  checkSize(label, 'k', k, kvBytes); checkSize(label, 'v', v, kvBytes); checkSize(label, 'cu', cu, (B + 1) * 4);
  const pipeline = getPipeline(gpu, { label, code: forwardCode, constants: { D, BQ: t.BQ, BK: t.BK, TPR: t.TPR } });
  const u = params(gpu, label, B, T, M, H, Hkv, D);
  const workgroups: [number, number, number] = [cdiv(T, t.BQ), H, B];
  checkWorkgroups(gpu, label, workgroups);
  const bindGroup = bindBuffers(gpu, label, pipeline, [out, lse, q, k, v, cu, u]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups }], owned: [u] };
}

// dq is (M,H,D), dk and dv are (M,Hkv,D): all assigned (=). workspace holds
// attentionBackwardWorkspaceBytes(M, H) bytes ((M,H,2): lse and Δ = rowsum(dout·out) per query row; lse is
// copied there so the dkdv pass binds 8 storage buffers, the portable WebGPU limit).
// dout, q, out are (M,H,D), k, v are (M,Hkv,D), lse is (M,H), cu is (B+1,) u32.
// Three dispatches: prep (Δ), dkdv (per key tile, loops over the group's heads and query tiles), dq.
export function attentionBackward(
  gpu: Gpu, dq: Buf, dk: Buf, dv: Buf, workspace: Buf,
  dout: Buf, q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, cu: Buf,
  B: number, T: number, M: number, H: number, Hkv: number, D: number, tiles: AttentionTiles = attentionTiles(D),
): Kernel {
  const label = 'attention_backward';
  const a = tiles.dkdv, c = tiles.dq;
  checkDims(gpu, `${label} (dkdv)`, B, T, M, H, Hkv, D, a, a.BK, storageBackward(D, a));
  checkDims(gpu, `${label} (dq)`, B, T, M, H, Hkv, D, c, c.BQ, storageBackward(D, c));
  const qBytes = M * H * D * 4, kvBytes = M * Hkv * D * 4;
  checkSize(label, 'dq', dq, qBytes); checkSize(label, 'dk', dk, kvBytes); checkSize(label, 'dv', dv, kvBytes);
  checkSize(label, 'workspace', workspace, attentionBackwardWorkspaceBytes(M, H));
  checkSize(label, 'dout', dout, qBytes); checkSize(label, 'q', q, qBytes); checkSize(label, 'k', k, kvBytes);
  checkSize(label, 'v', v, kvBytes); checkSize(label, 'out', out, qBytes); checkSize(label, 'lse', lse, M * H * 4);
  checkSize(label, 'cu', cu, (B + 1) * 4);
  const u = params(gpu, label, B, T, M, H, Hkv, D);
  const pipe = (entryPoint: string, t: { BQ: number; BK: number; TPR: number }, wg: number) =>
    getPipeline(gpu, { label: entryPoint.replace('backward', label), code: backwardCode, entryPoint, constants: { D, BQ: t.BQ, BK: t.BK, TPR: t.TPR, WG: wg } });
  // bindings: 0 ws (write), 1 dq, 2 dk, 3 dv, 4 ws (read), 5 dout, 6 q, 7 k, 8 v, 9 out, 10 lse, 11 cu, 12 params
  const bind = (pipeline: GPUComputePipeline, name: string, b: Record<number, Buf>) =>
    bindBuffers(gpu, `${label}_${name}`, pipeline, Array.from({ length: 13 }, (_, i) => b[i] ?? null));

  const prep = pipe('backward_prep', c, PREP_WG);
  const prepWg = elementwiseGrid(M * H, PREP_WG);
  const dkdv = pipe('backward_dkdv', a, a.BK * a.TPR);
  const dkdvWg: [number, number, number] = [cdiv(T, a.BK), Hkv, B];
  const dqp = pipe('backward_dq', c, c.BQ * c.TPR);
  const dqWg: [number, number, number] = [cdiv(T, c.BQ), H, B];
  for (const wg of [prepWg, dkdvWg, dqWg]) checkWorkgroups(gpu, label, wg);
  return {
    label,
    dispatches: [
      { pipeline: prep, workgroups: prepWg, bindGroup: bind(prep, 'prep', { 0: workspace, 5: dout, 9: out, 10: lse, 12: u }) },
      { pipeline: dkdv, workgroups: dkdvWg, bindGroup: bind(dkdv, 'dkdv', { 2: dk, 3: dv, 4: workspace, 5: dout, 6: q, 7: k, 8: v, 11: cu, 12: u }) },
      { pipeline: dqp, workgroups: dqWg, bindGroup: bind(dqp, 'dq', { 1: dq, 4: workspace, 5: dout, 6: q, 7: k, 8: v, 11: cu, 12: u }) },
    ],
    owned: [u],
  };
}
