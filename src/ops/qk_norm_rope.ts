// q_norm, k_norm (per-head RMSNorm) and RoPE fused into one pass over the fused q|k|v projection output, which also
// copies v out for attention; backward in one pass (+ two for the norm weights' gradient in full fine-tuning).
// Shader: shaders/qk_norm_rope.wgsl. Reference: ./qk_norm_rope.ref.ts. Test: tests/ops/qk_norm_rope.test.ts.
// Letters: M packed rows, H query heads, Hkv kv heads, D head dim (even). qkv (M,(H+2Hkv)·D); qr (M,H,D);
// kr, v (M,Hkv,D); rstd (M,H+Hkv); positions (M,) u32; cos/sin (maxT, D/2) from ropeTable.
import code from '../../shaders/qk_norm_rope.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, type Dispatch, bindBuffers, bufLabel, checkWorkgroups, createUniform, getPipeline, isRange, cdiv } from '../gpu/kernel.ts';
import { bufferOf, checkDims, needBytes } from './args.ts';
import { elementwiseGrid } from './grid.ts';
import { rmsnormBackwardBlocks } from './rmsnorm.ts';

const WG = 64;

/**
 * Two ranges of one GPUBuffer as a single binding starting at the first: the binding and the second's element
 * offset in it. (The kernels bind q_norm|k_norm, cos|sin and dq|dk|dv this way to stay within 8 storage buffers.)
 */
export function spanOf(label: string, first: Buf, ...rest: Buf[]): { binding: Buf; offsets: number[] } {
  const off = (b: Buf) => (isRange(b) ? (b.offset ?? 0) : 0);
  const end = (b: Buf) => off(b) + (isRange(b) ? (b.size ?? b.buffer.size - off(b)) : b.size);
  const buffer = bufferOf(first);
  const start = off(first);
  let last = end(first);
  const offsets = rest.map((b) => {
    if (bufferOf(b) !== buffer || off(b) < start || (off(b) - start) % 4 !== 0)
      throw new Error(`${label}: ${bufLabel(b)} must lie after ${bufLabel(first)} in the same GPU buffer (one binding holds both)`);
    last = Math.max(last, end(b));
    return (off(b) - start) / 4;
  });
  return { binding: { buffer, offset: start, size: last - start }, offsets };
}

export interface QkNormRopeArgs {
  /** q_norm.weight and k_norm.weight (D,) each: ranges of one buffer, k after q. */
  qNorm: Buf;
  kNorm: Buf;
  /** cos and sin tables (maxT, D/2): ranges of one buffer, sin after cos. */
  cos: Buf;
  sin: Buf;
  positions: Buf;
  M: number;
  H: number;
  Hkv: number;
  D: number;
  eps: number;
}

function uniform(gpu: Gpu, label: string, a: QkNormRopeArgs, kOff: number, sinOff: number, dkOff = 0, dvOff = 0): GPUBuffer {
  const { rowsPerBlock, numBlocks } = rmsnormBackwardBlocks(a.M);
  return createUniform(gpu, label, [a.M, a.H, a.Hkv, a.D, a.eps, rowsPerBlock, numBlocks, a.D / 2, kOff, sinOff, dkOff, dvOff], new Set([4]));
}

function check(label: string, a: QkNormRopeArgs): void {
  checkDims(label, { M: a.M, H: a.H, Hkv: a.Hkv, D: a.D });
  if (a.D % 2 !== 0) throw new Error(`${label}: head dim D = ${a.D} must be even (RoPE pairs)`);
  if (a.H % a.Hkv !== 0) throw new Error(`${label}: H = ${a.H} is not a multiple of Hkv = ${a.Hkv}`);
  needBytes(label, 'positions', a.positions, a.M * 4);
  needBytes(label, 'q_norm', a.qNorm, a.D * 4);
  needBytes(label, 'k_norm', a.kNorm, a.D * 4);
}

function dispatch(gpu: Gpu, label: string, entry: string, bufs: (Buf | null)[], u: GPUBuffer, workgroups: [number, number, number]): Dispatch {
  const pipeline = getPipeline(gpu, { label: 'qk_norm_rope', code, entryPoint: entry, constants: { WG } });
  checkWorkgroups(gpu, label, workgroups);
  const slots = Array.from({ length: 10 }, (_, i) => bufs[i] ?? null); // the uniform is binding 10
  return { pipeline, bindGroup: bindBuffers(gpu, `${label}.${entry}`, pipeline, [...slots, u]), workgroups };
}

// qr (M,H,D), kr (M,Hkv,D): normed and rotated heads; v (M,Hkv,D): copied; rstd (M,H+Hkv) saved. Assigns all.
export function qkNormRopeForward(gpu: Gpu, qr: Buf, kr: Buf, v: Buf, rstd: Buf, qkv: Buf, a: QkNormRopeArgs): Kernel {
  const label = 'qk_norm_rope_forward';
  check(label, a);
  const { M, H, Hkv, D } = a;
  needBytes(label, 'qkv', qkv, M * (H + 2 * Hkv) * D * 4);
  needBytes(label, 'qr', qr, M * H * D * 4); needBytes(label, 'kr', kr, M * Hkv * D * 4); needBytes(label, 'v', v, M * Hkv * D * 4);
  needBytes(label, 'rstd', rstd, M * (H + Hkv) * 4);
  const nw = spanOf(label, a.qNorm, a.kNorm);
  const tab = spanOf(label, a.cos, a.sin);
  const u = uniform(gpu, label, a, nw.offsets[0], tab.offsets[0]);
  const d = dispatch(gpu, label, 'forward', [qkv, nw.binding, tab.binding, a.positions, qr, kr, v, rstd], u, elementwiseGrid(M * (H + 2 * Hkv), WG));
  return { label, dispatches: [d], owned: [u] };
}

/**
 * dqkv (M,(H+2Hkv)·D) assigned from dq (M,H,D), dk, dv (M,Hkv,D) (ranges of one buffer: dk, dv after dq).
 * dqNorm, dkNorm (D,) += their gradients when given (full fine-tuning), through `workspace` of
 * qkNormRopeWorkspaceBytes(M, D) bytes. qkv and rstd from the forward.
 */
export function qkNormRopeBackward(
  gpu: Gpu, dqkv: Buf, dqNorm: Buf | null, dkNorm: Buf | null, workspace: Buf | null,
  dq: Buf, dk: Buf, dv: Buf, qkv: Buf, rstd: Buf, a: QkNormRopeArgs,
): Kernel {
  const label = 'qk_norm_rope_backward';
  check(label, a);
  const { M, H, Hkv, D } = a;
  needBytes(label, 'dqkv', dqkv, M * (H + 2 * Hkv) * D * 4);
  needBytes(label, 'dq', dq, M * H * D * 4); needBytes(label, 'dk', dk, M * Hkv * D * 4); needBytes(label, 'dv', dv, M * Hkv * D * 4);
  const nw = spanOf(label, a.qNorm, a.kNorm);
  const tab = spanOf(label, a.cos, a.sin);
  const d3 = spanOf(label, dq, dk, dv);
  const u = uniform(gpu, label, a, nw.offsets[0], tab.offsets[0], d3.offsets[0], d3.offsets[1]);
  const dispatches = [dispatch(gpu, label, 'backward', [qkv, nw.binding, tab.binding, a.positions, dqkv, null, null, null, rstd, d3.binding], u, elementwiseGrid(M * (H + 2 * Hkv), WG))];
  if (dqNorm || dkNorm) {
    if (!dqNorm || !dkNorm || !workspace) throw new Error(`${label}: norm weight gradients need dqNorm, dkNorm and a workspace`);
    needBytes(label, 'workspace (qkNormRopeWorkspaceBytes)', workspace, qkNormRopeWorkspaceBytes(M, D));
    needBytes(label, 'dq_norm', dqNorm, D * 4); needBytes(label, 'dk_norm', dkNorm, D * 4);
    const { numBlocks } = rmsnormBackwardBlocks(M);
    dispatches.push(
      dispatch(gpu, label, 'dweight_partial', [qkv, null, tab.binding, a.positions, workspace, null, null, null, rstd, d3.binding], u, elementwiseGrid(numBlocks * 2 * D, WG)),
      dispatch(gpu, label, 'dweight_reduce', [null, null, null, null, dqNorm, dkNorm, null, null, null, workspace], u, [cdiv(2 * D, WG), 1, 1]),
    );
  }
  return { label, dispatches, owned: [u] };
}

/** Bytes of the norm-weight gradient workspace: (blocks of rows, q|k, D) f32. */
export function qkNormRopeWorkspaceBytes(M: number, D: number): number {
  return rmsnormBackwardBlocks(M).numBlocks * 2 * D * 4;
}
