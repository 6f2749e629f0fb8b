// Activation and gradient buffers of the model, allocated once for the largest micro-batch (maxB sequences of
// maxT tokens) and shared by every smaller shape: a (B,T,·) tensor of a smaller step uses the prefix.
// activationLayout() is the one list of buffers: allocateActivations() creates exactly its entries and the memory
// plan (plan.ts) sums them. What is kept per layer depends on the checkpointing mode (CheckpointMode below); the rest
// of a layer's activations live in one shared set that the backward refills by recomputing their kernels.
import type { Gpu } from '../gpu/device.ts';
import { createStorage } from '../gpu/buffers.ts';
import { rmsnormBackwardWorkspaceBytes } from '../ops/rmsnorm.ts';
import { attentionBackwardWorkspaceBytes } from '../ops/attention.ts';
import { LINEAR_GROUPS, type LinearName, type ModelDims } from './params.ts';
import { qkNormRopeWorkspaceBytes } from '../ops/qk_norm_rope.ts';
import type { EmbeddingPlanBuffers } from '../ops/embedding.ts';

/** What one decoder layer saves for its backward. M packed rows. */
export interface LayerActs {
  ln1: GPUBuffer; // (M,C) input_layernorm(x)
  rstd1: GPUBuffer; // (M,)
  qkv: GPUBuffer; // (M,(H+2Hkv)·D) the fused q|k|v projection, before q_norm / k_norm
  v: GPUBuffer; // (M,Hkv·D) v heads copied out for attention
  rstdqk: GPUBuffer; // (M,H+Hkv) q_norm / k_norm statistics
  qr: GPUBuffer; // (M,H*D) after q_norm and RoPE
  kr: GPUBuffer; // (M,Hkv*D)
  att: GPUBuffer; // (M,H*D) attention output
  lse: GPUBuffer; // (M,H)
  x2: GPUBuffer; // (M,C) residual after attention
  ln2: GPUBuffer; // (M,C) post_attention_layernorm(x2)
  rstd2: GPUBuffer; // (M,)
  gu: GPUBuffer; // (M,2F) the fused gate|up projection
  h: GPUBuffer; // (M,F) silu(gate)*up, full fine-tuning only (else 4 bytes, unused: the down products read gu)
}

export interface Activations {
  maxB: number;
  maxT: number;
  ids: GPUBuffer; // (M,) u32 packed real tokens (padding-free), then a tail of pad ids up to the row bucket
  cu: GPUBuffer; // (B+2,) u32 sequence starts (cu_seqlens): B sequences, then the tail segment, then M
  positions: GPUBuffer; // (M,) u32 position of each packed row within its sequence (RoPE)
  margins: GPUBuffer; // (P,) f32
  resid: GPUBuffer[]; // L+1 × (M,C): resid[l] enters layer l; resid[L] enters the final norm
  /** Checkpointing mode the layout was made for (effectiveCheckpointing). */
  checkpointing: CheckpointMode;
  /** Storage of the saved activations (effectiveActivationDtype). */
  activationDtype: ActivationDtype;
  /** float16 storage: per layer but the last its packed f16 buffer, holding `blocks` (the shared f32 set is
   *  layers[l]); the last layer keeps its activations in the shared set itself (nothing runs between its forward and
   *  its backward but the head); else null. */
  act16: { layer: GPUBuffer[]; blocks: Act16Block[] } | null;
  layers: LayerActs[]; // per layer l: its kept buffers, and the shared set's (KEPT_PER_LAYER) for the rest
  /** Per layer (kept with checkpointing too: the recompute reuses them instead of re-running x·Aᵀ), per fusion
   *  group with LoRA: (M, parts·R) dropout(x)·Aᵀ. Small: 7·R floats per row per layer with every linear targeted. */
  xa: GPUBuffer[][];
  tmpC: GPUBuffer; // (M,C) o_proj output before the residual add
  xf: GPUBuffer; // (M,C) final norm output
  rstdf: GPUBuffer; // (M,)
  rewards: GPUBuffer; // (B,)
  poolIdx: GPUBuffer; // (B,) u32
  drewards: GPUBuffer; // (B,)
  metrics: GPUBuffer; // (8,) of the last micro-batch
  // The last layer's attention runs for the B pooled rows' queries and everything after it on those rows only
  // (src/model/qwen3.ts): its compact buffers
  lastAtt: GPUBuffer; // (B, H*D) attention output of the pooled rows' queries (o_proj's input)
  lastStats: GPUBuffer; // (B, H, 2) their attention's [lse, Δ]
  lastDq: GPUBuffer; // (B, H*D) their queries' gradient, scattered into dq
  lastResid: GPUBuffer; // (B, C) residual stream entering the last layer at the pooled rows
  lastDres: GPUBuffer; // (B, C) gradient of the compact residual stream
  lastDatt: GPUBuffer; // (B, H*D) o_proj's input gradient (the pooled attention's dO)
  /** u32 (1 + B): [LoRA dropout seed, pooled rows…]: the compact products' dropout masks use the packed row. */
  dropRows: GPUBuffer;
  // gradients (shared by all layers)
  dres: GPUBuffer; // (M,C) gradient of the residual stream
  dC: GPUBuffer; // (M,C) dln1 / dln2 / dxf
  dh: GPUBuffer; // (M,F)
  dgu: GPUBuffer; // (M,2F)
  datt: GPUBuffer; // (M,H*D)
  dq: GPUBufferBinding; // (M,H*D)   dq | dk | dv: ranges of one buffer (attention backward → qk_norm_rope backward)
  dk: GPUBufferBinding; // (M,Hkv*D)
  dv: GPUBufferBinding; // (M,Hkv*D)
  dqkv: GPUBuffer; // (M,(H+2Hkv)·D)
  wsNorm: GPUBuffer; // rmsnorm / q,k-norm dweight workspace
  wsAttn: GPUBuffer; // attention backward workspace
  wsLora: GPUBuffer; // (M, 3·R) LoRA backward workspace
  dropoutSeed: GPUBuffer; // u32[1], rewritten every micro-step
  cos: GPUBufferBinding; // (maxT, D/2) RoPE tables: cos | sin, ranges of one buffer
  sin: GPUBufferBinding;
  /** Full fine-tuning: the embedding gradient's CSR plan (one per model), else null. */
  embedPlan: EmbeddingPlanBuffers | null;
  bytes: number; // total allocated (= activationBytes() of the same options)
}

/**
 * What the backward gets from the forward (all f32):
 * - `none`: every layer's activations kept (the fastest backward, the most memory);
 * - `selective`: per layer the outputs of the products and attention (qkv, att, lse, x2, gu) and LoRA's xa are
 *   kept; the cheap ones (input/post-attention norms, q/k norm + RoPE with the v copy, SwiGLU) are recomputed
 *   into one shared set right before the layer's backward;
 * - `selective_mlp`: as selective, and the gate|up product is recomputed too (gu not kept): the MLP's half of the
 *   activations for one product (~35% of a layer's forward FLOPs at T = 1024);
 * - `full` (transformers' gradient checkpointing): only the residual stream entering each layer (and xa) is kept,
 *   the layer's whole forward but its last product is recomputed.
 * Recompute is the same kernels on the same inputs, so every mode gives bit-identical results.
 */
export const CHECKPOINT_MODES = ['none', 'selective', 'selective_mlp', 'full'] as const;
export type CheckpointMode = (typeof CHECKPOINT_MODES)[number];

export const LAYER_ACT_NAMES = ['ln1', 'rstd1', 'qkv', 'v', 'rstdqk', 'qr', 'kr', 'att', 'lse', 'x2', 'ln2', 'rstd2', 'gu', 'h'] as const satisfies readonly (keyof LayerActs)[];

/** The LayerActs kept per layer in each mode (the rest are one shared set, refilled by the recompute). */
export const KEPT_PER_LAYER: Record<CheckpointMode, ReadonlySet<keyof LayerActs>> = {
  none: new Set(LAYER_ACT_NAMES),
  selective: new Set(['qkv', 'att', 'lse', 'x2', 'gu']),
  selective_mlp: new Set(['qkv', 'att', 'lse', 'x2']),
  full: new Set(),
};

/**
 * How the per-layer activations saved for the backward are stored. `float16`: the LayerActs in F16_ACTS that the
 * checkpointing mode keeps per layer are packed to f16 at the end of the layer's forward (one buffer per layer,
 * src/ops/act16.ts) and unpacked to f32 into one shared set at the start of its backward; all math stays f32. The
 * residual stream (resid, x2: where Qwen's outlier activations live), the statistics (rstd, lse), LoRA's xa and h
 * stay f32; v is restored from q|k|v's v columns. A value beyond f16's range (±65504) becomes ±Inf: the step's
 * gradient is then non-finite and the trainer stops with its non-finite error (src/train/trainer.ts).
 */
export { ACTIVATION_DTYPES, type ActivationDtype } from '../train/activation_dtype.ts';
import type { ActivationDtype } from '../train/activation_dtype.ts';
export const F16_ACTS = ['ln1', 'qkv', 'qr', 'kr', 'att', 'ln2', 'gu'] as const satisfies readonly (keyof LayerActs)[];

export interface ActivationOptions {
  maxB: number;
  maxT: number;
  /** `true` = 'full', `false` = 'none'; overridden by `checkpointing` when that is given. */
  gradientCheckpointing: boolean;
  checkpointing?: CheckpointMode;
  loraTargets: LinearName[];
  loraR: number;
  training: boolean;
  /** Full fine-tuning: the embedding gradient's CSR plan buffers (src/ops/embedding.ts) and h = silu(gate)·up (dW
   *  of down_proj reads it) are part of the layout; otherwise the down products read gate|up (no h stored). */
  fullFineTune?: boolean;
  /** Storage of the saved activations (default float32). */
  activationDtype?: ActivationDtype;
}

/** One f16 block of a layer's packed buffer: LayerActs `name`, (rows, cols), starting at half `hOffset` (a multiple
 *  of the allocated rows, so a smaller plan uses the prefix rows of each block). */
export interface Act16Block {
  name: (typeof F16_ACTS)[number];
  cols: number;
  hOffset: number;
}

const align256 = (n: number) => Math.ceil(n / 256) * 256;

/** The mode the allocation and the plan use: none without training or with one layer (nothing to share). */
export function effectiveCheckpointing(L: number, o: Pick<ActivationOptions, 'gradientCheckpointing' | 'checkpointing' | 'training'>): CheckpointMode {
  if (!o.training || L <= 1) return 'none';
  return o.checkpointing ?? (o.gradientCheckpointing ? 'full' : 'none');
}

/** The storage the allocation uses: float16 only when training with more than one layer and the mode keeps some
 *  F16_ACTS per layer (with 'full' checkpointing nothing is kept but the residual stream). */
export function effectiveActivationDtype(L: number, o: Pick<ActivationOptions, 'gradientCheckpointing' | 'checkpointing' | 'training' | 'activationDtype'>): ActivationDtype {
  if (o.activationDtype !== 'float16') return 'float32';
  const kept = KEPT_PER_LAYER[effectiveCheckpointing(L, o)];
  return o.training && L > 1 && F16_ACTS.some((n) => kept.has(n)) ? 'float16' : 'float32';
}

/** The f16 blocks of each layer's packed buffer (empty with float32 storage), M = maxB·maxT rows each. */
export function act16Blocks(d: ModelDims, o: ActivationOptions): Act16Block[] {
  if (effectiveActivationDtype(d.L, o) !== 'float16') return [];
  const kept = KEPT_PER_LAYER[effectiveCheckpointing(d.L, o)];
  const M = o.maxB * o.maxT;
  const cols: Record<(typeof F16_ACTS)[number], number> = {
    ln1: d.C, qkv: (d.H + 2 * d.Hkv) * d.D, qr: d.H * d.D, kr: d.Hkv * d.D, att: d.H * d.D, ln2: d.C, gu: 2 * d.F,
  };
  let h = 0;
  return F16_ACTS.filter((n) => kept.has(n)).map((name) => {
    const b = { name, cols: cols[name], hOffset: h };
    h += M * cols[name];
    return b;
  });
}

/** xa buffers of one layer, in the order groupLinears (src/model/linear.ts) asks for them: (M, parts·R) for a fusion
 *  group whose every linear is targeted (one product), else (M, R) for each targeted linear (one product each). */
export function loraGroupWidths(o: Pick<ActivationOptions, 'loraTargets' | 'loraR'>): number[] {
  return LINEAR_GROUPS.flatMap((g) => {
    const t = g.filter((n) => o.loraTargets.includes(n));
    return t.length === g.length ? [g.length * o.loraR] : t.map(() => o.loraR);
  });
}

/** One buffer kind: `count` buffers of `bytes` each (as allocated: ≥ 4, sub-ranges 256-aligned). */
export interface LayoutEntry {
  name: string;
  bytes: number;
  count: number;
  /** Counted as workspace (gradients, scratch, inputs) by the memory plan; else activations. */
  workspace: boolean;
}

/**
 * Every buffer allocateActivations() creates, by name: the one description the allocation and the memory plan
 * (src/model/plan.ts) both read, so they cannot drift. `layer.<name>` entries are the LayerActs fields
 * (count L when kept per layer, else 1), `lora_xa<g>` LoRA's per-layer x·Aᵀ per fusion group.
 */
export function activationLayout(d: ModelDims, o: ActivationOptions): LayoutEntry[] {
  const M = o.maxB * o.maxT;
  const { C, F, H, Hkv, D, L } = d;
  const f = 4;
  const mode = effectiveCheckpointing(L, o);
  const kept = KEPT_PER_LAYER[mode];
  const blocks = act16Blocks(d, o);
  const in16 = new Set<keyof LayerActs>(blocks.map((b) => b.name));
  if (in16.has('qkv')) in16.add('v'); // restored from q|k|v's v columns
  const perLayer = (n: keyof LayerActs) => kept.has(n) && !in16.has(n);
  const NQKV = (H + 2 * Hkv) * D;
  const layerBytes: Record<keyof LayerActs, number> = {
    ln1: M * C * f, rstd1: M * f, qkv: M * NQKV * f, v: M * Hkv * D * f, rstdqk: M * (H + Hkv) * f,
    qr: M * H * D * f, kr: M * Hkv * D * f, att: M * H * D * f, lse: M * H * f,
    x2: M * C * f, ln2: M * C * f, rstd2: M * f, gu: M * 2 * F * f, h: o.training && o.fullFineTune ? M * F * f : 4,
  };
  const t = o.training;
  const tabB = align256(o.maxT * (D / 2) * f);
  const qB = align256(M * H * D * f), kvB = align256(M * Hkv * D * f);
  const e = (name: string, bytes: number, count = 1, workspace = false): LayoutEntry => ({ name, bytes: Math.max(4, bytes), count, workspace });
  const g = (name: string, bytes: number): LayoutEntry => e(name, t ? bytes : 4, 1, true); // gradient / scratch: 4 B placeholder without training
  const out: LayoutEntry[] = [
    e('ids', M * 4, 1, true),
    e('cu', (o.maxB + 2) * 4, 1, true),
    e('positions', M * 4, 1, true),
    e('margins', Math.ceil(o.maxB / 2) * f, 1, true),
    e('resid', M * C * f, L + 1),
    ...LAYER_ACT_NAMES.map((n) => e(`layer.${n}`, layerBytes[n], perLayer(n) ? L : 1)),
    // the last layer needs no copy: the shared set still holds its values when its backward starts
    ...(blocks.length ? [e('layer16', blocks.reduce((t, b) => t + M * b.cols, 0) * 2, L - 1)] : []),
    ...loraGroupWidths(o).map((w, i) => e(`lora_xa${i}`, M * w * f, L)),
    e('tmpC', M * C * f, 1, true),
    e('xf', M * C * f),
    e('rstdf', M * f),
    e('rewards', o.maxB * f),
    e('poolIdx', o.maxB * 4),
    e('drewards', o.maxB * f),
    e('metrics', 8 * f),
    e('last.att', o.maxB * H * D * f),
    e('last.resid', o.maxB * C * f),
    e('last.stats', o.maxB * H * 2 * f),
    g('last.dq', o.maxB * H * D * f),
    g('last.dres', o.maxB * C * f),
    g('last.datt', o.maxB * H * D * f),
    e('dropRows', (1 + o.maxB) * 4, 1, true),
    g('dres', M * C * f),
    g('dC', M * C * f),
    g('dh', M * F * f),
    g('dgu', M * 2 * F * f),
    g('datt', M * H * D * f),
    g('dqkv3', qB + 2 * kvB),
    g('dqkv', M * NQKV * f),
    g('wsNorm', Math.max(rmsnormBackwardWorkspaceBytes(M, C), qkNormRopeWorkspaceBytes(M, D))),
    g('wsAttn', attentionBackwardWorkspaceBytes(M, o.maxT, o.maxB + 1, H, D)),
    g('wsLora', M * Math.max(1, 3 * o.loraR) * f),
    e('dropoutSeed', 4, 1, true),
    e('rope', 2 * tabB, 1, true),
  ];
  if (t && o.fullFineTune) out.push(e('embedPlan.uniq', M * 4, 1, true), e('embedPlan.offsets', (M + 1) * 4, 1, true), e('embedPlan.positions', M * 4, 1, true));
  return out;
}

export function activationBytes(d: ModelDims, o: ActivationOptions): number {
  return activationLayout(d, o).reduce((s, e) => s + e.bytes * e.count, 0);
}

/** Allocates exactly activationLayout()'s entries (nothing else) and hands them out by name. */
export function allocateActivations(gpu: Gpu, d: ModelDims, o: ActivationOptions): Activations {
  const M = o.maxB * o.maxT;
  const { H, Hkv, D, L } = d;
  const f = 4;
  const layout = activationLayout(d, o);
  let bytes = 0;
  const bufs = new Map<string, GPUBuffer[]>();
  for (const e of layout) {
    bufs.set(e.name, Array.from({ length: e.count }, (_, i) => {
      bytes += e.bytes;
      return createStorage(gpu, `act.${e.name}${e.count > 1 ? `[${i}]` : ''}`, e.bytes);
    }));
  }
  const one = (name: string) => bufs.get(name)![0];
  const layerSet = (l: number): LayerActs =>
    Object.fromEntries(LAYER_ACT_NAMES.map((n) => {
      const b = bufs.get(`layer.${n}`)!;
      return [n, b[b.length === 1 ? 0 : l]];
    })) as unknown as LayerActs;
  const t = o.training;
  const d3 = one('dqkv3');
  const qB = align256(M * H * D * f), kvB = align256(M * Hkv * D * f);
  const range = (b: GPUBuffer, offset: number, size: number): GPUBufferBinding => (t ? { buffer: b, offset, size } : { buffer: b, offset: 0, size: 4 });
  const half = D / 2;
  const tabB = align256(o.maxT * half * f);
  const rope = one('rope');
  const widths = loraGroupWidths(o);
  return {
    maxB: o.maxB,
    maxT: o.maxT,
    checkpointing: effectiveCheckpointing(L, o),
    activationDtype: effectiveActivationDtype(L, o),
    act16: bufs.has('layer16') ? { layer: bufs.get('layer16')!, blocks: act16Blocks(d, o) } : null,
    ids: one('ids'),
    cu: one('cu'),
    positions: one('positions'),
    margins: one('margins'),
    resid: bufs.get('resid')!,
    layers: Array.from({ length: L }, (_, l) => layerSet(l)),
    xa: Array.from({ length: L }, (_, l) => widths.map((_w, g) => bufs.get(`lora_xa${g}`)![l])),
    tmpC: one('tmpC'),
    xf: one('xf'),
    rstdf: one('rstdf'),
    rewards: one('rewards'),
    poolIdx: one('poolIdx'),
    drewards: one('drewards'),
    metrics: one('metrics'),
    lastAtt: one('last.att'),
    lastResid: one('last.resid'),
    lastStats: one('last.stats'),
    lastDq: one('last.dq'),
    lastDres: one('last.dres'),
    lastDatt: one('last.datt'),
    dropRows: one('dropRows'),
    dres: one('dres'),
    dC: one('dC'),
    dh: one('dh'),
    dgu: one('dgu'),
    datt: one('datt'),
    dq: range(d3, 0, M * H * D * f),
    dk: range(d3, qB, M * Hkv * D * f),
    dv: range(d3, qB + kvB, M * Hkv * D * f),
    dqkv: one('dqkv'),
    wsNorm: one('wsNorm'),
    wsAttn: one('wsAttn'),
    wsLora: one('wsLora'),
    dropoutSeed: one('dropoutSeed'),
    cos: { buffer: rope, offset: 0, size: o.maxT * half * f },
    sin: { buffer: rope, offset: tabB, size: o.maxT * half * f },
    embedPlan: bufs.has('embedPlan.uniq') ? { BT: M, uniq: one('embedPlan.uniq'), offsets: one('embedPlan.offsets'), positions: one('embedPlan.positions') } : null,
    bytes,
  };
}

export function destroyActivations(a: Activations): void {
  const seen = new Set<GPUBuffer>();
  const visit = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v instanceof Map) v.forEach(visit);
    else if (v && typeof v === 'object' && 'buffer' in v && !('mapAsync' in v)) visit((v as GPUBufferBinding).buffer);
    else if (v && typeof v === 'object' && 'destroy' in v && 'mapAsync' in v) {
      if (!seen.has(v as GPUBuffer)) (v as GPUBuffer).destroy();
      seen.add(v as GPUBuffer);
    } else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  for (const [k, v] of Object.entries(a)) if (k !== 'bytes') visit(v);
}
