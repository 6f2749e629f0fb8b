// Reward head of Qwen3ForSequenceClassification: pool the rightmost non-pad token's hidden state (after the final
// norm) and project it with score = Linear(C, 1, bias=False). Shader: shaders/reward_head.wgsl. The same shader
// defines the pooled rows for the last decoder layer (poolIndex, gatherPooledRows, scatterPooledRows): it computes
// everything after K/V on those B rows only, and the head then reads them compact (`compact`: hidden is (B,C)).
// Reference: ./reward_head.ref.ts. Test: tests/ops/reward_head.test.ts.
// Legend: B sequences, M rows (packed: sequence b is rows [cu[b], cu[b+1])), C hidden. Buffers may be ranges (Buf).
import code from '../../shaders/reward_head.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bindBuffers, cdiv, checkWorkgroups, createUniform, getPipeline } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';

const WG = 256;

function checkDims(label: string, gpu: Gpu, B: number, T: number, C: number): void {
  for (const [k, v] of [['B', B], ['M', T], ['C', C]] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: ${k} = ${v} must be a positive integer`);
  if (B > gpu.device.limits.maxComputeWorkgroupsPerDimension) throw new Error(`${label}: B = ${B} is above maxComputeWorkgroupsPerDimension`);
  if (T * C > 0xffffffff) throw new Error(`${label}: M*C = ${T * C} does not fit u32 indexing`);
}

// rewards (B,) f32 out, poolIdx (B,) u32 saved (absolute rows); hidden (M,C) f32 (compact: (B,C), row b the pooled
// row of sequence b), ids (M,) u32, cu (B+1,) u32, scoreW (C,) f32.
// p_b = cu[b] + rightmost t with ids[cu[b]+t] != padId (argmax(arange(T)*(ids!=pad)); only pad → t = 0).
export function rewardHeadForward(
  gpu: Gpu, rewards: Buf, poolIdx: Buf, hidden: Buf, ids: Buf, cu: Buf, scoreW: Buf,
  B: number, M: number, C: number, padId: number, compact = false,
): Kernel {
  checkDims('reward_head_forward', gpu, B, M, C);
  const label = 'reward_head_forward';
  const pipeline = getPipeline(gpu, { label, code, entryPoint: 'forward', constants: { WG } });
  const params = createUniform(gpu, label, [B, M, C, padId, compact ? 1 : 0]);
  const bindGroup = bindBuffers(gpu, label, pipeline, [rewards, poolIdx, hidden, ids, scoreW, null, null, null, null, params, cu]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups: [B, 1, 1] }], owned: [params] };
}

// dhidden (M,C) assigned (zeros except row p_b = drewards[b]*scoreW); dscoreW (C,) += Σ_b drewards[b]*hidden[p_b,:]
// (null: frozen head, no dispatch). drewards (B,), hidden (M,C), scoreW (C,), poolIdx (B,) from the forward, cu (B+1,).
// compact: hidden and dhidden are (B,C), row b the pooled row of sequence b.
export function rewardHeadBackward(
  gpu: Gpu, dhidden: Buf, dscoreW: Buf | null, drewards: Buf, hidden: Buf, scoreW: Buf,
  poolIdx: Buf, cu: Buf, B: number, M: number, C: number, compact = false,
): Kernel {
  const label = 'reward_head_backward';
  checkDims(label, gpu, B, M, C);
  const params = createUniform(gpu, label, [B, compact ? B : M, C, 0, compact ? 1 : 0]);
  const pDh = getPipeline(gpu, { label, code, entryPoint: 'backward_dhidden', constants: { WG: WG_1D } });
  const gridDh = elementwiseGrid((compact ? B : M) * C);
  checkWorkgroups(gpu, label, gridDh);
  const dispatches = [{
    pipeline: pDh,
    bindGroup: bindBuffers(gpu, `${label}.dhidden`, pDh, [null, null, null, null, scoreW, dhidden, null, drewards, poolIdx, params, cu]),
    workgroups: gridDh,
  }];
  if (dscoreW) {
    const pDs = getPipeline(gpu, { label, code, entryPoint: 'backward_dscore', constants: { WG } });
    dispatches.push({
      pipeline: pDs,
      bindGroup: bindBuffers(gpu, `${label}.dscore`, pDs, [null, null, hidden, null, null, null, dscoreW, drewards, poolIdx, params]),
      workgroups: [cdiv(C, WG), 1, 1],
    });
  }
  return { label, dispatches, owned: [params] };
}

// poolIdx (B,) u32 = p_b (as rewardHeadForward saves it) from ids (M,) and cu (B+1,) alone, and rows[1 + b] = p_b
// (rows (1+B,) u32: word 0, the LoRA dropout seed, is left as written; the compact products' dropout row map).
export function poolIndex(gpu: Gpu, poolIdx: Buf, rows: Buf, ids: Buf, cu: Buf, B: number, M: number, padId: number): Kernel {
  const label = 'pool_index';
  checkDims(label, gpu, B, M, 1);
  const pipeline = getPipeline(gpu, { label, code, entryPoint: 'pool_index', constants: { WG } });
  const params = createUniform(gpu, label, [B, M, 1, padId, 0]);
  const bindGroup = bindBuffers(gpu, label, pipeline, [null, poolIdx, null, ids, null, null, null, null, null, params, cu, null, null, rows]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups: [B, 1, 1] }], owned: [params] };
}

// out (B,W) = src[poolIdx[b], :] of src (M,W) (dense rows).
export function gatherPooledRows(gpu: Gpu, out: Buf, src: Buf, poolIdx: Buf, B: number, M: number, W: number, label = 'gather_pooled_rows'): Kernel {
  checkDims(label, gpu, B, M, W);
  const pipeline = getPipeline(gpu, { label: 'gather_pooled_rows', code, entryPoint: 'gather_rows', constants: { WG: WG_1D } });
  const params = createUniform(gpu, label, [B, M, W, 0, 0]);
  const grid = elementwiseGrid(B * W);
  checkWorkgroups(gpu, label, grid);
  const bindGroup = bindBuffers(gpu, label, pipeline, [null, null, null, null, null, null, null, null, poolIdx, params, null, src, out]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups: grid }], owned: [params] };
}

// out (M,W) assigned: row poolIdx[b] = src[b, :] of src (B,W), every other row 0 (the backward of gatherPooledRows).
export function scatterPooledRows(gpu: Gpu, out: Buf, src: Buf, poolIdx: Buf, cu: Buf, B: number, M: number, W: number, label = 'scatter_pooled_rows'): Kernel {
  checkDims(label, gpu, B, M, W);
  const pipeline = getPipeline(gpu, { label: 'scatter_pooled_rows', code, entryPoint: 'scatter_rows', constants: { WG: WG_1D } });
  const params = createUniform(gpu, label, [B, M, W, 0, 0]);
  const grid = elementwiseGrid(M * W);
  checkWorkgroups(gpu, label, grid);
  const bindGroup = bindBuffers(gpu, label, pipeline, [null, null, null, null, null, null, null, null, poolIdx, params, cu, src, out]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups: grid }], owned: [params] };
}
