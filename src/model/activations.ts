// Activation and gradient buffers of the model, allocated once for the largest micro-batch (maxB sequences of
// maxT tokens) and shared by every smaller shape: a (B,T,·) tensor of a smaller step uses the prefix.
// With gradient checkpointing only the residual stream entering each layer (and LoRA's small x·Aᵀ) is kept per
// layer; the rest of a layer's activations live in one shared set that the backward refills by recomputing that layer.
import type { Gpu } from '../gpu/device.ts';
import { createStorage } from '../gpu/buffers.ts';
import { rmsnormBackwardWorkspaceBytes } from '../ops/rmsnorm.ts';
import { attentionBackwardWorkspaceBytes } from '../ops/attention.ts';
import { LINEAR_GROUPS, type LinearName, type ModelDims } from './params.ts';
import { qkNormRopeWorkspaceBytes } from '../ops/qk_norm_rope.ts';

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
  h: GPUBuffer; // (M,F) silu(gate)*up
}

export interface Activations {
  maxB: number;
  maxT: number;
  ids: GPUBuffer; // (M,) u32 packed real tokens (padding-free), then a tail of pad ids up to the row bucket
  cu: GPUBuffer; // (B+2,) u32 sequence starts (cu_seqlens): B sequences, then the tail segment, then M
  positions: GPUBuffer; // (M,) u32 position of each packed row within its sequence (RoPE)
  margins: GPUBuffer; // (P,) f32
  resid: GPUBuffer[]; // L+1 × (M,C): resid[l] enters layer l; resid[L] enters the final norm
  layers: LayerActs[]; // L sets, or 1 shared set with gradient checkpointing
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
  bytes: number; // total allocated, for the memory plan
}

export interface ActivationOptions {
  maxB: number;
  maxT: number;
  gradientCheckpointing: boolean;
  loraTargets: LinearName[];
  loraR: number;
  training: boolean;
}

const align256 = (n: number) => Math.ceil(n / 256) * 256;

/** xa buffers of one layer: one per fusion group with LoRA targets, (M, targeted parts·R). */
export function loraGroupWidths(o: ActivationOptions): number[] {
  return LINEAR_GROUPS.map((g) => g.filter((n) => o.loraTargets.includes(n)).length).filter((n) => n > 0).map((n) => n * o.loraR);
}

/** Bytes per buffer, as activationBytes() and allocateActivations() both see them (one source of truth). */
export function activationLayout(d: ModelDims, o: ActivationOptions): { name: string; bytes: number; count: number }[] {
  const M = o.maxB * o.maxT;
  const { C, F, H, Hkv, D, L } = d;
  const f = 4;
  const sets = o.gradientCheckpointing ? 1 : L;
  const NQKV = (H + 2 * Hkv) * D;
  const out: { name: string; bytes: number; count: number }[] = [
    { name: 'ids', bytes: M * 4, count: 1 },
    { name: 'positions', bytes: M * 4, count: 1 },
    { name: 'resid', bytes: M * C * f, count: L + 1 },
    { name: 'layer.ln1', bytes: M * C * f, count: sets },
    { name: 'layer.rstd1', bytes: M * f, count: sets },
    { name: 'layer.qkv', bytes: M * NQKV * f, count: sets },
    { name: 'layer.v', bytes: M * Hkv * D * f, count: sets },
    { name: 'layer.rstdqk', bytes: M * (H + Hkv) * f, count: sets },
    { name: 'layer.qr', bytes: M * H * D * f, count: sets },
    { name: 'layer.kr', bytes: M * Hkv * D * f, count: sets },
    { name: 'layer.att', bytes: M * H * D * f, count: sets },
    { name: 'layer.lse', bytes: M * H * f, count: sets },
    { name: 'layer.x2', bytes: M * C * f, count: sets },
    { name: 'layer.ln2', bytes: M * C * f, count: sets },
    { name: 'layer.rstd2', bytes: M * f, count: sets },
    { name: 'layer.gu', bytes: M * 2 * F * f, count: sets },
    { name: 'layer.h', bytes: M * F * f, count: sets },
    ...loraGroupWidths(o).map((w, i) => ({ name: `layer.lora_xa${i}`, bytes: M * w * f, count: L })),
    { name: 'tmpC', bytes: M * C * f, count: 1 },
    { name: 'xf', bytes: M * C * f, count: 1 },
  ];
  if (o.training) {
    out.push(
      { name: 'dres', bytes: M * C * f, count: 1 },
      { name: 'dC', bytes: M * C * f, count: 1 },
      { name: 'dh', bytes: M * F * f, count: 1 },
      { name: 'dgu', bytes: M * 2 * F * f, count: 1 },
      { name: 'datt', bytes: M * H * D * f, count: 1 },
      { name: 'dqkv3', bytes: align256(M * H * D * f) + 2 * align256(M * Hkv * D * f), count: 1 },
      { name: 'dqkv', bytes: M * NQKV * f, count: 1 },
      { name: 'wsNorm', bytes: Math.max(rmsnormBackwardWorkspaceBytes(M, C), qkNormRopeWorkspaceBytes(M, D)), count: 1 },
      { name: 'wsAttn', bytes: attentionBackwardWorkspaceBytes(M, o.maxT, o.maxB + 1, H, D), count: 1 },
      { name: 'wsLora', bytes: M * Math.max(1, 3 * o.loraR) * f, count: 1 },
    );
  }
  return out;
}

export function activationBytes(d: ModelDims, o: ActivationOptions): number {
  return activationLayout(d, o).reduce((s, e) => s + e.bytes * e.count, 0);
}

export function allocateActivations(gpu: Gpu, d: ModelDims, o: ActivationOptions): Activations {
  const M = o.maxB * o.maxT;
  const { C, F, H, Hkv, D, L } = d;
  let bytes = 0;
  const buf = (label: string, n: number) => {
    bytes += Math.max(4, n);
    return createStorage(gpu, label, Math.max(4, n));
  };
  const f = 4;
  const layerSet = (i: number): LayerActs => {
    const p = `act.layer${o.gradientCheckpointing ? '*' : i}`;
    return {
      ln1: buf(`${p}.ln1`, M * C * f), rstd1: buf(`${p}.rstd1`, M * f),
      qkv: buf(`${p}.qkv`, M * (H + 2 * Hkv) * D * f), v: buf(`${p}.v`, M * Hkv * D * f), rstdqk: buf(`${p}.rstdqk`, M * (H + Hkv) * f),
      qr: buf(`${p}.qr`, M * H * D * f), kr: buf(`${p}.kr`, M * Hkv * D * f),
      att: buf(`${p}.att`, M * H * D * f), lse: buf(`${p}.lse`, M * H * f),
      x2: buf(`${p}.x2`, M * C * f), ln2: buf(`${p}.ln2`, M * C * f), rstd2: buf(`${p}.rstd2`, M * f),
      gu: buf(`${p}.gu`, M * 2 * F * f), h: buf(`${p}.h`, M * F * f),
    };
  };
  const sets = o.gradientCheckpointing ? 1 : L;
  const none = () => buf('unused', 4);
  const t = o.training;
  const qB = align256(M * H * D * f), kvB = align256(M * Hkv * D * f);
  const d3 = t ? buf('grad.dq|dk|dv', qB + 2 * kvB) : none();
  const range = (b: GPUBuffer, offset: number, size: number): GPUBufferBinding => (t ? { buffer: b, offset, size } : { buffer: b, offset: 0, size: 4 });
  const half = D / 2;
  const tabB = align256(o.maxT * half * f);
  const rope = buf('rope.cos|sin', 2 * tabB);
  return {
    maxB: o.maxB,
    maxT: o.maxT,
    ids: buf('act.ids', M * 4),
    cu: buf('act.cu', (o.maxB + 2) * 4),
    positions: buf('act.positions', M * 4),
    margins: buf('act.margins', Math.ceil(o.maxB / 2) * f),
    resid: Array.from({ length: L + 1 }, (_, i) => buf(`act.resid${i}`, M * C * f)),
    layers: Array.from({ length: sets }, (_, i) => layerSet(i)),
    xa: Array.from({ length: L }, (_, i) => loraGroupWidths(o).map((w, g) => buf(`act.layer${i}.lora_xa${g}`, M * w * f))),
    tmpC: buf('act.tmpC', M * C * f),
    xf: buf('act.xf', M * C * f),
    rstdf: buf('act.rstdf', M * f),
    rewards: buf('act.rewards', o.maxB * f),
    poolIdx: buf('act.poolIdx', o.maxB * 4),
    drewards: buf('act.drewards', o.maxB * f),
    metrics: buf('act.metrics', 8 * f),
    dres: t ? buf('grad.dres', M * C * f) : none(),
    dC: t ? buf('grad.dC', M * C * f) : none(),
    dh: t ? buf('grad.dh', M * F * f) : none(),
    dgu: t ? buf('grad.dgu', M * 2 * F * f) : none(),
    datt: t ? buf('grad.datt', M * H * D * f) : none(),
    dq: range(d3, 0, M * H * D * f),
    dk: range(d3, qB, M * Hkv * D * f),
    dv: range(d3, qB + kvB, M * Hkv * D * f),
    dqkv: t ? buf('grad.dqkv', M * (H + 2 * Hkv) * D * f) : none(),
    wsNorm: t ? buf('ws.norm', Math.max(rmsnormBackwardWorkspaceBytes(M, C), qkNormRopeWorkspaceBytes(M, D))) : none(),
    wsAttn: t ? buf('ws.attn', attentionBackwardWorkspaceBytes(M, o.maxT, o.maxB + 1, H, D)) : none(),
    wsLora: t ? buf('ws.lora', M * Math.max(1, 3 * o.loraR) * f) : none(),
    dropoutSeed: buf('act.dropoutSeed', 4),
    cos: { buffer: rope, offset: 0, size: o.maxT * half * f },
    sin: { buffer: rope, offset: tabB, size: o.maxT * half * f },
    get bytes() {
      return bytes;
    },
  } as Activations;
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
