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
// Memory: the forward is O(T) (K/V tiles stream through workgroup memory); the backward recomputes the
// probabilities once, in the dk/dv pass, and stores dS for the causal tile pairs in a workspace that the dq
// pass reads (attentionBackwardWorkspaceBytes: ~H·Σ len²/2 floats, one buffer reused by every layer).
// Rows are read as vec4, so D must be a multiple of 4 (and ≤ 128: the forward keeps a whole q row and output row
// per thread in registers). Tiles are override constants (attentionTiles(D, G)):
//   forward  one query row per thread, BQ rows × all G query heads of a kv head per workgroup (G·BQ ≤ 256
//            invocations), key/value tiles of BK rows: 2·BK·D·4 bytes of workgroup storage (16 KiB at D = 128)
//   dkdv     BK key rows × TPR threads per row, query tiles of BQ rows (BK a multiple of BQ)
//   dq       BQ query rows × TPRq threads per row, key tiles of BK rows (the same BQ, BK: they index the dS tiles)
// Dispatches: forward 1; backward 3 (prep Δ, dkdv + dS, dq).
// FLOPs per visible (query, key) pair, counted as multiply-adds × 2: forward 4·D (q·k, P·v); backward 10·D
// (q·k and dout·v recomputed once, P·dout, dS·q in dkdv; dS·k in dq) + 2·D per query row for Δ: 2.5× the forward.
import forwardCode from '../../shaders/attention_forward.wgsl?raw';
import backwardCode from '../../shaders/attention_backward.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bindBuffers, bufLabel, bufSize, cdiv, checkWorkgroups, createUniform, getPipeline } from '../gpu/kernel.ts';
import { elementwiseGrid } from './grid.ts';

/** Tile shape of the attention kernels. */
export interface AttentionTiles {
  /** forward: query rows per workgroup per head (BQ; the workgroup has G·BQ threads) and key rows per tile (BK ≤ 32) */
  forward: { BQ: number; BK: number };
  /**
   * backward: dS tiles of BQ query rows × BK key rows (BK a multiple of BQ); dkdv has BK·TPR threads (TPR per key
   * row), dq BQ·TPRq threads (TPRq per query row).
   */
  backward: { BQ: number; BK: number; TPR: number; TPRq: number };
}

const MAX_D = 128; // MAX_D4 = 32 in attention_forward.wgsl
const MAX_BK_FWD = 32; // MAX_BK in attention_forward.wgsl
const MAX_DPT = 4; // MAX_DPT in attention_backward.wgsl: vec4s per thread, ceil(D / 4 / TPR)
const PREP_WG = 64;

/** Default tiles for head dim D (a multiple of 4, ≤ 128) and G = H / Hkv query heads per kv head. */
export function attentionTiles(D: number, G = 1): AttentionTiles {
  let BQ = 64;
  while (BQ > 1 && G * BQ > 256) BQ /= 2;
  const D4 = D / 4;
  const TPR = Math.max(1, Math.min(8, D4)), TPRq = Math.max(1, Math.min(16, D4));
  return {
    forward: { BQ, BK: 16 },
    backward: { BQ: D > 64 ? 8 : 16, BK: 16, TPR, TPRq },
  };
}

/** Workgroup bytes of the forward kernel: the k and v tiles. */
export function storageForward(D: number, t: { BK: number }): number {
  return 4 * 2 * t.BK * D;
}

/** Workgroup bytes of the dkdv kernel: q, dout, k, v tiles (row stride D+4), P and dS tiles, lse and Δ. */
export function storageBackward(D: number, t: { BQ: number; BK: number }): number {
  return 4 * (2 * (t.BQ + t.BK) * (D + 4) + 2 * t.BQ * t.BK + 2 * t.BQ);
}

/** Stored dS tiles of one (sequence, head) with nq query tiles: Σ_{qt<nq} (qt / R + 1), R = BK / BQ. */
export function dsTilesPerHead(nq: number, R: number): number {
  let n = 0;
  for (let qt = 0; qt < nq; qt++) n += Math.floor(qt / R) + 1;
  return n;
}

/**
 * Bytes of the backward workspace: (lse, Δ) per (row, head) ((M,H,2) f32), then dS·scale for the causal tile
 * pairs of every (sequence, head) (BQ×BK f32 tiles). A bound for any packing of M rows into at most S sequences of
 * at most T rows each (tile counts are convex in the length: full-length sequences maximise them).
 */
export function attentionBackwardWorkspaceBytes(M: number, T: number, S: number, H: number, D: number, tiles: AttentionTiles = attentionTiles(D)): number {
  const { BQ, BK } = tiles.backward;
  const R = BK / BQ;
  const nqT = Math.ceil(T / BQ);
  // Σ_b TILES(nq_b) with Σ_b nq_b ≤ ceil(M / BQ) + S and nq_b ≤ nqT: at most `full` full-length sequences plus one rest.
  const budget = Math.ceil(M / BQ) + Math.min(S, M);
  const full = Math.min(Math.floor(budget / nqT), S);
  const rest = full < S ? Math.min(budget - full * nqT, nqT) : 0;
  const tiles_ = full * dsTilesPerHead(nqT, R) + dsTilesPerHead(rest, R);
  return 4 * (M * H * 2 + tiles_ * H * BQ * BK);
}

function checkDims(label: string, B: number, T: number, M: number, H: number, Hkv: number, D: number): void {
  for (const [n, x] of Object.entries({ B, T, M, H, Hkv, D })) {
    if (!Number.isInteger(x) || x < 1) throw new Error(`${label}: ${n} = ${x} must be a positive integer`);
  }
  if (H % Hkv !== 0) throw new Error(`${label}: H = ${H} is not a multiple of Hkv = ${Hkv} (GQA groups must be whole)`);
  if (D % 4 !== 0) throw new Error(`${label}: head dim D = ${D} must be a multiple of 4 (rows are read as vec4)`);
  if (D > MAX_D) throw new Error(`${label}: head dim D = ${D} is over ${MAX_D} (the forward keeps a q row and an output row per thread in registers)`);
}

function checkWorkgroup(gpu: Gpu, label: string, tiles: object, D: number, wg: number, storage: number): void {
  const lim = gpu.device.limits;
  if (wg > lim.maxComputeInvocationsPerWorkgroup) throw new Error(`${label}: tiles ${JSON.stringify(tiles)} give ${wg} invocations per workgroup, over the device limit ${lim.maxComputeInvocationsPerWorkgroup}`);
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
// Assigns out and lse. One dispatch.
export function attentionForward(
  gpu: Gpu, out: Buf, lse: Buf, q: Buf, k: Buf, v: Buf, cu: Buf,
  B: number, T: number, M: number, H: number, Hkv: number, D: number, tiles?: AttentionTiles,
): Kernel {
  const label = 'attention_forward';
  checkDims(label, B, T, M, H, Hkv, D);
  const G = H / Hkv;
  const t = (tiles ?? attentionTiles(D, G)).forward;
  if (!(t.BK >= 1 && t.BK <= MAX_BK_FWD)) throw new Error(`${label}: key tile BK = ${t.BK} must be in [1, ${MAX_BK_FWD}]`);
  checkWorkgroup(gpu, label, t, D, G * t.BQ, storageForward(D, t));
  const qBytes = M * H * D * 4, kvBytes = M * Hkv * D * 4;
  checkSize(label, 'out', out, qBytes); checkSize(label, 'lse', lse, M * H * 4); checkSize(label, 'q', q, qBytes);
  checkSize(label, 'k', k, kvBytes); checkSize(label, 'v', v, kvBytes); checkSize(label, 'cu', cu, (B + 1) * 4);
  const pipeline = getPipeline(gpu, { label, code: forwardCode, constants: { D, G, BQ: t.BQ, BK: t.BK } });
  const u = params(gpu, label, B, T, M, H, Hkv, D);
  const workgroups: [number, number, number] = [cdiv(T, t.BQ), Hkv, B];
  checkWorkgroups(gpu, label, workgroups);
  const bindGroup = bindBuffers(gpu, label, pipeline, [out, lse, q, k, v, cu, u]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups }], owned: [u] };
}

// dq is (M,H,D), dk and dv are (M,Hkv,D): all assigned (=). workspace holds at least
// attentionBackwardWorkspaceBytes(M, T, B, H, D, tiles) bytes: the (M,H,2) header (lse and Δ = rowsum(dout·out)
// per query row; lse is copied there so the dkdv pass binds 8 storage buffers, the portable WebGPU limit), then
// the dS tiles. One workspace serves every layer (each layer's backward consumes it before the next one runs).
// dout, q, out are (M,H,D), k, v are (M,Hkv,D), lse is (M,H), cu is (B+1,) u32.
// Three dispatches: prep (Δ), dkdv (per key tile, loops over the group's heads and query tiles, writes dS), dq.
export function attentionBackward(
  gpu: Gpu, dq: Buf, dk: Buf, dv: Buf, workspace: Buf,
  dout: Buf, q: Buf, k: Buf, v: Buf, out: Buf, lse: Buf, cu: Buf,
  B: number, T: number, M: number, H: number, Hkv: number, D: number, tiles: AttentionTiles = attentionTiles(D),
): Kernel {
  const label = 'attention_backward';
  checkDims(label, B, T, M, H, Hkv, D);
  const t = tiles.backward;
  if (!(t.BQ >= 1 && t.BK % t.BQ === 0)) throw new Error(`${label}: key tile BK = ${t.BK} must be a multiple of the query tile BQ = ${t.BQ}`);
  for (const [n, tpr] of [['TPR', t.TPR], ['TPRq', t.TPRq]] as const) {
    if (Math.ceil(D / 4 / tpr) > MAX_DPT) throw new Error(`${label}: D = ${D} needs more than ${MAX_DPT} vec4s per thread with ${n} = ${tpr}; raise ${n}`);
  }
  checkWorkgroup(gpu, `${label} (dkdv)`, t, D, t.BK * t.TPR, storageBackward(D, t));
  checkWorkgroup(gpu, `${label} (dq)`, t, D, t.BQ * t.TPRq, 4 * (t.BK * (D + 4) + t.BQ * t.BK));
  const qBytes = M * H * D * 4, kvBytes = M * Hkv * D * 4;
  checkSize(label, 'dq', dq, qBytes); checkSize(label, 'dk', dk, kvBytes); checkSize(label, 'dv', dv, kvBytes);
  checkSize(label, 'workspace', workspace, attentionBackwardWorkspaceBytes(M, T, B, H, D, tiles));
  checkSize(label, 'dout', dout, qBytes); checkSize(label, 'q', q, qBytes); checkSize(label, 'k', k, kvBytes);
  checkSize(label, 'v', v, kvBytes); checkSize(label, 'out', out, qBytes); checkSize(label, 'lse', lse, M * H * 4);
  checkSize(label, 'cu', cu, (B + 1) * 4);
  const u = params(gpu, label, B, T, M, H, Hkv, D);
  const pipe = (entryPoint: string, tpr: number, wg: number) =>
    getPipeline(gpu, { label: entryPoint.replace('backward', label), code: backwardCode, entryPoint, constants: { D, BQ: t.BQ, BK: t.BK, TPR: tpr, WG: wg } });
  // bindings: 0 ws, 1 dq, 2 dk, 3 dv, 5 dout, 6 q, 7 k, 8 v, 9 out, 10 lse, 11 cu, 12 params
  const bind = (pipeline: GPUComputePipeline, name: string, b: Record<number, Buf>) =>
    bindBuffers(gpu, `${label}_${name}`, pipeline, Array.from({ length: 13 }, (_, i) => b[i] ?? null));

  const prep = pipe('backward_prep', t.TPR, PREP_WG);
  const prepWg = elementwiseGrid(M * H, PREP_WG);
  const dkdv = pipe('backward_dkdv', t.TPR, t.BK * t.TPR);
  const dkdvWg: [number, number, number] = [cdiv(T, t.BK), Hkv, B];
  const dqp = pipe('backward_dq', t.TPRq, t.BQ * t.TPRq);
  const dqWg: [number, number, number] = [cdiv(T, t.BQ), H, B];
  for (const wg of [prepWg, dkdvWg, dqWg]) checkWorkgroups(gpu, label, wg);
  return {
    label,
    dispatches: [
      { pipeline: prep, workgroups: prepWg, bindGroup: bind(prep, 'prep', { 0: workspace, 5: dout, 9: out, 10: lse, 12: u }) },
      { pipeline: dkdv, workgroups: dkdvWg, bindGroup: bind(dkdv, 'dkdv', { 0: workspace, 2: dk, 3: dv, 5: dout, 6: q, 7: k, 8: v, 11: cu, 12: u }) },
      { pipeline: dqp, workgroups: dqWg, bindGroup: bind(dqp, 'dq', { 0: workspace, 1: dq, 7: k, 11: cu, 12: u }) },
    ],
    owned: [u],
  };
}

/** Model-counted FLOPs of causal attention over sequences of these lengths (one layer): forward and backward. */
export function attentionFlops(lengths: readonly number[], H: number, D: number): { forward: number; backward: number } {
  let pairs = 0, rows = 0;
  for (const n of lengths) { pairs += (n * (n + 1)) / 2; rows += n; }
  return { forward: 4 * D * H * pairs, backward: 10 * D * H * pairs + 2 * D * H * rows };
}
