// RMSNorm (transformers Qwen3RMSNorm): out = (x * rstd) * weight, rstd = 1/sqrt(mean(x²) + eps), stats in f32.
// Shader: shaders/rmsnorm.wgsl. Reference: ./rmsnorm.ref.ts. Test: tests/ops/rmsnorm.test.ts.
// N rows of width C. Over the hidden size: N = B*T, C = hidden. Per head (q_norm/k_norm): N = B*T*H, C = D, with
// one weight (D,) shared by all heads. Buffers are f32. Also the fused pre-norm step
// residualRmsnormForward: resOut = resIn + delta, normOut = rmsnorm(resOut) (one pass over the residual stream).
// Variants (src/gpu/variants.ts): the row sums use subgroup operations where the device has `subgroups`
// (opts.subgroups overrides: tests run both; flags.noSubgroups turns them off); the dweight passes have no
// workgroup reduction and are the same in both.
import code from '../../shaders/rmsnorm.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bindBuffers, cdiv, checkWorkgroups, createUniform, getPipeline } from '../gpu/kernel.ts';
import { useSubgroups, wgslVariant } from '../gpu/variants.ts';
import { elementwiseGrid } from './grid.ts';
import { checkAliasing, checkDims, needBytes, sameRange } from './args.ts';

/** Threads per row: a power of two in [32, 256], about C/4 so each thread handles ~4 columns. */
export function rmsnormWorkgroupSize(C: number): number {
  let wg = 32;
  while (wg < 256 && wg * 4 < C) wg *= 2;
  return wg;
}

/** The dweight reduction sums blocks of `rowsPerBlock` rows (about √N), then the `numBlocks` block sums. */
export function rmsnormBackwardBlocks(N: number): { rowsPerBlock: number; numBlocks: number } {
  const rowsPerBlock = Math.max(1, Math.ceil(Math.sqrt(N)));
  return { rowsPerBlock, numBlocks: cdiv(N, rowsPerBlock) };
}

/**
 * Bytes of the f32 workspace (numBlocks, C) rmsnormBackward needs when it computes dweight. Non-decreasing in N,
 * so a workspace sized for the largest N (and C) of a run serves every smaller step.
 */
export function rmsnormBackwardWorkspaceBytes(N: number, C: number): number {
  return rmsnormBackwardBlocks(N).numBlocks * C * 4;
}

// Binding slots of shaders/rmsnorm.wgsl, in order; the uniform is bound last (12).
interface Slots {
  out?: Buf; rstdOut?: Buf; inp?: Buf; weight?: Buf; dinp?: Buf; dout?: Buf;
  rstd?: Buf; workspace?: Buf; dweight?: Buf; resOut?: Buf; resIn?: Buf; delta?: Buf;
}
const SLOT_ORDER: (keyof Slots)[] =
  ['out', 'rstdOut', 'inp', 'weight', 'dinp', 'dout', 'rstd', 'workspace', 'dweight', 'resOut', 'resIn', 'delta'];

/** Variant choice of the row reductions: `subgroups` true/false forces it (an error if the device lacks the feature). */
export interface RmsnormVariant {
  subgroups?: boolean;
}

function dispatch(gpu: Gpu, entryPoint: string, WG: number, slots: Slots, params: GPUBuffer, workgroups: [number, number, number], sg = false) {
  const label = `rmsnorm_${entryPoint}`;
  const shader = sg ? 'rmsnorm+subgroups' : 'rmsnorm';
  const pipeline = getPipeline(gpu, { label: shader, code: wgslVariant(shader, code, { subgroups: sg }), entryPoint, constants: { WG } });
  checkWorkgroups(gpu, label, workgroups);
  const buffers = [...SLOT_ORDER.map((k) => slots[k] ?? null), params];
  return { pipeline, bindGroup: bindBuffers(gpu, label, pipeline, buffers), workgroups };
}

function params(gpu: Gpu, label: string, N: number, C: number, eps: number, accumulate = false): GPUBuffer {
  const { rowsPerBlock, numBlocks } = rmsnormBackwardBlocks(N);
  return createUniform(gpu, label, [N, C, eps, rowsPerBlock, numBlocks, accumulate ? 1 : 0], new Set([2]));
}

// out (N,C), rstd (N,) saved for backward; inp (N,C); weight (C,). Buffers may be ranges (Buf); out and rstd
// must not share a GPUBuffer with inp or weight (no in place).
export function rmsnormForward(
  gpu: Gpu, out: Buf, rstd: Buf, inp: Buf, weight: Buf, N: number, C: number, eps: number, opts: RmsnormVariant = {},
): Kernel {
  const label = 'rmsnorm_forward';
  const sg = useSubgroups(gpu, opts.subgroups, label);
  checkDims(label, { N, C });
  checkAliasing(label, { out, rstd }, { inp, weight });
  needBytes(label, 'out', out, N * C * 4); needBytes(label, 'inp', inp, N * C * 4);
  needBytes(label, 'rstd', rstd, N * 4); needBytes(label, 'weight', weight, C * 4);
  const u = params(gpu, label, N, C, eps);
  const WG = rmsnormWorkgroupSize(C);
  return { label, dispatches: [dispatch(gpu, 'forward', WG, { out, rstdOut: rstd, inp, weight }, u, elementwiseGrid(N, 1), sg)], owned: [u] };
}

/**
 * dinp (N,C): assigned, or added to with `accumulate` (the residual stream). dweight (C,) += Σ_rows dout·x·rstd,
 * or null when the weight is frozen (LoRA): then `workspace` may be null too. workspace: f32 of at least
 * rmsnormBackwardWorkspaceBytes(N, C) bytes, scratch (contents on entry do not matter; it may be shared with
 * other kernels that do not run concurrently). dout (N,C), inp (N,C), weight (C,), rstd (N,) from the forward.
 * Buffers may be ranges (Buf); the written ones (dinp, dweight, workspace) must not share a GPUBuffer with the
 * read ones (dout, inp, weight, rstd).
 */
export function rmsnormBackward(
  gpu: Gpu, dinp: Buf, dweight: Buf | null, workspace: Buf | null,
  dout: Buf, inp: Buf, weight: Buf, rstd: Buf, N: number, C: number,
  opts: { accumulate?: boolean } & RmsnormVariant = {},
): Kernel {
  const label = 'rmsnorm_backward';
  const sg = useSubgroups(gpu, opts.subgroups, label);
  checkDims(label, { N, C });
  checkAliasing(label, { dinp, dweight, workspace }, { dout, inp, weight, rstd });
  needBytes(label, 'dinp', dinp, N * C * 4); needBytes(label, 'dout', dout, N * C * 4); needBytes(label, 'inp', inp, N * C * 4);
  needBytes(label, 'rstd', rstd, N * 4); needBytes(label, 'weight', weight, C * 4);
  const u = params(gpu, label, N, C, 0, opts.accumulate ?? false);
  const WG = rmsnormWorkgroupSize(C);
  const dispatches = [dispatch(gpu, 'backward_dinp', WG, { dinp, dout, inp, weight, rstd }, u, elementwiseGrid(N, 1), sg)];
  if (dweight) {
    if (!workspace) throw new Error(`${label}: dweight needs a workspace of rmsnormBackwardWorkspaceBytes(${N}, ${C}) bytes`);
    needBytes(label, 'dweight', dweight, C * 4);
    needBytes(label, 'workspace (see rmsnormBackwardWorkspaceBytes)', workspace, rmsnormBackwardWorkspaceBytes(N, C));
    const { numBlocks } = rmsnormBackwardBlocks(N);
    const CW = 64; // column tile of the dweight passes: coalesced row reads, many workgroups
    dispatches.push(
      dispatch(gpu, 'dweight_partial', CW, { dout, inp, rstd, workspace }, u, [cdiv(C, CW), numBlocks, 1]),
      dispatch(gpu, 'dweight_reduce', CW, { workspace, dweight }, u, [cdiv(C, CW), 1, 1]),
    );
  }
  return { label, dispatches, owned: [u] };
}

/**
 * Fused pre-norm step: resOut = resIn + delta; normOut = rmsnorm(resOut) with rstd (N,) saved. All (N,C) but
 * weight (C,) and rstd. In place allowed: resOut and resIn the same buffer or range (the stream updated in place). The backward
 * is rmsnormBackward on resOut with `accumulate` into the residual gradient (the add passes gradients through).
 */
export function residualRmsnormForward(
  gpu: Gpu, resOut: Buf, normOut: Buf, rstd: Buf, resIn: Buf, delta: Buf,
  weight: Buf, N: number, C: number, eps: number, opts: RmsnormVariant = {},
): Kernel {
  const label = 'residual_rmsnorm_forward';
  const sg = useSubgroups(gpu, opts.subgroups, label);
  checkDims(label, { N, C });
  const inPlace = sameRange(resOut, resIn);
  checkAliasing(label, { resOut, normOut, rstd }, { resIn: inPlace ? null : resIn, delta, weight });
  for (const [n, b] of [['resOut', resOut], ['normOut', normOut], ['resIn', resIn], ['delta', delta]] as const) needBytes(label, n, b, N * C * 4);
  needBytes(label, 'rstd', rstd, N * 4); needBytes(label, 'weight', weight, C * 4);
  const u = params(gpu, label, N, C, eps);
  const WG = rmsnormWorkgroupSize(C);
  const d = inPlace
    ? dispatch(gpu, 'residual_forward_inplace', WG, { out: normOut, rstdOut: rstd, weight, resOut, delta }, u, elementwiseGrid(N, 1), sg)
    : dispatch(gpu, 'residual_forward', WG, { out: normOut, rstdOut: rstd, weight, resOut, resIn, delta }, u, elementwiseGrid(N, 1), sg);
  return { label, dispatches: [d], owned: [u] };
}
