// Token embedding lookup and its gradient. Shader: shaders/embedding.wgsl. Reference: ./embedding.ref.ts.
// Test: tests/ops/embedding.test.ts. BT = B*T token positions, C hidden, V vocab.
//
// Forward: out (BT,C) f32 = wte[ids]. wte (V,C) is f32, or 16-bit ('f16' | 'bf16') packed two per u32 word:
// element e of the flat (V,C) array sits in word e >> 1, low half first — the raw bytes of a safetensors
// F16/BF16 tensor, uploaded as is. ids (BT,) u32.
//
// Backward (deterministic, no float atomics): the CPU knows the ids of a step, so it builds a CSR plan
// (embeddingBackwardPlan: unique ids ascending, offsets, positions grouped by id in ascending order) and writes
// it into fixed-capacity buffers (createEmbeddingPlanBuffers(gpu, BT) once, writeEmbeddingPlan(gpu, bufs, plan)
// every step, before submitting the step). The kernel is built once on those buffers with capacity BT and
// dispatches one workgroup per (plan slot, column tile); slots past the number of unique ids hold an empty range
// (offsets padded with the position count) and do nothing. dwte (V,C) f32 += Σ of dout rows per id.
import code from '../../shaders/embedding.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, cdiv, simpleKernel } from '../gpu/kernel.ts';
import { createStorage, writeBuffer } from '../gpu/buffers.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';
import { checkAliasing, checkDims, needBytes } from './args.ts';

export type WeightDtype = 'f32' | 'f16' | 'bf16';
const DTYPE_CODE: Record<WeightDtype, number> = { f32: 0, f16: 1, bf16: 2 };

/** Bytes of a (V,C) embedding table in `dtype` (16-bit tables: two elements per u32, padded to 4 bytes). */
export function embeddingTableBytes(V: number, C: number, dtype: WeightDtype = 'f32'): number {
  return dtype === 'f32' ? V * C * 4 : Math.ceil((V * C) / 2) * 4;
}

// out (BT,C) f32 ← wte (V,C) rows at ids (BT,) u32. Ids must be < V (not checked on the GPU; see embeddingBackwardPlan).
export function embeddingForward(gpu: Gpu, out: Buf, ids: Buf, wte: Buf, BT: number, C: number, opts: { weightDtype?: WeightDtype } = {}): Kernel {
  const label = 'embedding_forward';
  checkDims(label, { BT, C });
  const dtype = opts.weightDtype ?? 'f32';
  if (!(dtype in DTYPE_CODE)) throw new Error(`${label}: weightDtype '${dtype}' is not one of f32, f16, bf16`);
  needBytes(label, 'out', out, BT * C * 4); needBytes(label, 'ids', ids, BT * 4); needBytes(label, 'wte', wte, embeddingTableBytes(1, C, dtype));
  checkAliasing(label, { out }, { ids, wte });
  return simpleKernel(gpu, { label, code, entryPoint: 'forward', constants: { WG: WG_1D, DTYPE: DTYPE_CODE[dtype] } },
    [out, ids, wte, null, null, null, null, null], [BT * C, C, 0, 0], elementwiseGrid(BT * C));
}

export interface EmbeddingPlan {
  uniq: Uint32Array;      // (U,)   unique ids, ascending
  offsets: Uint32Array;   // (U+1,) positions of uniq[u] are positions[offsets[u] .. offsets[u+1])
  positions: Uint32Array; // (n,)   row indices 0..n−1 of dout grouped by id, ascending within an id
}

/**
 * CSR plan of `ids` (n,) for embeddingBackward. With `V`, throws on an id ≥ V, naming its position. With
 * `paddingIdx` (torch nn.Embedding(padding_idx=…)), the positions holding that id are left out: its row gets no
 * gradient.
 */
export function embeddingBackwardPlan(ids: Uint32Array, V?: number, paddingIdx: number | null = null): EmbeddingPlan {
  if (V !== undefined)
    for (let i = 0; i < ids.length; i++)
      if (ids[i] >= V) throw new Error(`embeddingBackwardPlan: token id ${ids[i]} at position ${i} is outside the vocabulary (V=${V}); check the tokenizer matches the model`);
  const kept: number[] = [];
  for (let i = 0; i < ids.length; i++) if (ids[i] !== paddingIdx) kept.push(i);
  const n = kept.length;
  const positions = Uint32Array.from(kept);
  positions.sort((a, b) => ids[a] - ids[b] || a - b);
  const uniq: number[] = [];
  const offsets: number[] = [];
  for (let k = 0; k < n; k++) {
    if (k === 0 || ids[positions[k]] !== ids[positions[k - 1]]) {
      uniq.push(ids[positions[k]]);
      offsets.push(k);
    }
  }
  offsets.push(n);
  return { uniq: Uint32Array.from(uniq), offsets: Uint32Array.from(offsets), positions };
}

/** Fixed-capacity plan buffers for up to BT positions: uniq (BT,), offsets (BT+1,), positions (BT,), all u32. */
export interface EmbeddingPlanBuffers {
  BT: number;
  uniq: GPUBuffer;
  offsets: GPUBuffer;
  positions: GPUBuffer;
}

export function createEmbeddingPlanBuffers(gpu: Gpu, BT: number): EmbeddingPlanBuffers {
  checkDims('createEmbeddingPlanBuffers', { BT });
  return {
    BT,
    uniq: createStorage(gpu, 'embedding_plan.uniq', BT * 4),
    offsets: createStorage(gpu, 'embedding_plan.offsets', (BT + 1) * 4),
    positions: createStorage(gpu, 'embedding_plan.positions', BT * 4),
  };
}

/**
 * Writes `plan` into `bufs` (queue writes, ordered before the next submit). Pads offsets past the unique ids with
 * the position count so the unused slots of the kernel do nothing. The plan may cover fewer than BT positions.
 */
export function writeEmbeddingPlan(gpu: Gpu, bufs: EmbeddingPlanBuffers, plan: EmbeddingPlan): void {
  const n = plan.positions.length;
  if (n > bufs.BT) throw new Error(`writeEmbeddingPlan: plan has ${n} positions, the buffers hold ${bufs.BT}`);
  const U = plan.uniq.length;
  const offsets = new Uint32Array(bufs.BT + 1).fill(n);
  offsets.set(plan.offsets.subarray(0, U + 1));
  writeBuffer(gpu, bufs.uniq, plan.uniq);
  writeBuffer(gpu, bufs.offsets, offsets);
  writeBuffer(gpu, bufs.positions, plan.positions);
}

/**
 * dwte (V,C) f32 += Σ over positions with that id of dout (BT,C) rows. uniq (BT,), offsets (BT+1,),
 * positions (BT,) u32 are the plan buffers (createEmbeddingPlanBuffers(gpu, BT)); their contents are read when the
 * kernel runs, so a step rewrites them with writeEmbeddingPlan and records the same kernel again.
 */
export function embeddingBackward(
  gpu: Gpu, dwte: Buf, dout: Buf, uniq: Buf, offsets: Buf, positions: Buf, BT: number, C: number,
): Kernel {
  const label = 'embedding_backward';
  checkDims(label, { BT, C });
  needBytes(label, 'dout', dout, BT * C * 4); needBytes(label, 'dwte', dwte, C * 4);
  needBytes(label, 'uniq', uniq, BT * 4); needBytes(label, 'offsets', offsets, (BT + 1) * 4); needBytes(label, 'positions', positions, BT * 4);
  checkAliasing(label, { dwte }, { dout, uniq, offsets, positions });
  const WG = C >= 256 ? 256 : C >= 128 ? 128 : 64;
  const nTiles = cdiv(C, WG);
  return simpleKernel(gpu, { label, code, entryPoint: 'backward', constants: { WG } },
    [null, null, null, dwte, dout, uniq, offsets, positions], [0, C, nTiles, BT], elementwiseGrid(BT * nTiles, 1));
}
