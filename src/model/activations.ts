// Activation and gradient buffers of the model, allocated once for the largest micro-batch (maxB sequences of
// maxT tokens) and shared by every smaller shape: a (B,T,·) tensor of a smaller step uses the prefix.
// With gradient checkpointing only the residual stream entering each layer is kept per layer; the rest of a
// layer's activations live in one shared set that the backward refills by recomputing that layer.
import type { Gpu } from '../gpu/device.ts';
import { createStorage } from '../gpu/buffers.ts';
import { rmsnormBackwardWorkspaceBytes } from '../ops/rmsnorm.ts';
import { attentionBackwardWorkspaceBytes } from '../ops/attention.ts';
import type { LinearName, ModelDims } from './params.ts';

/** What one decoder layer saves for its backward. M = B*T rows. */
export interface LayerActs {
  ln1: GPUBuffer; // (M,C) input_layernorm(x)
  rstd1: GPUBuffer; // (M,)
  q: GPUBuffer; // (M,H*D) q_proj output, before q_norm
  k: GPUBuffer; // (M,Hkv*D)
  v: GPUBuffer; // (M,Hkv*D)
  rstdq: GPUBuffer; // (M*H,)
  rstdk: GPUBuffer; // (M*Hkv,)
  qr: GPUBuffer; // (M,H*D) after q_norm and RoPE
  kr: GPUBuffer; // (M,Hkv*D)
  att: GPUBuffer; // (M,H*D) attention output
  lse: GPUBuffer; // (B,H,T)
  x2: GPUBuffer; // (M,C) residual after attention
  ln2: GPUBuffer; // (M,C) post_attention_layernorm(x2)
  rstd2: GPUBuffer; // (M,)
  gate: GPUBuffer; // (M,F)
  up: GPUBuffer; // (M,F)
  h: GPUBuffer; // (M,F) silu(gate)*up
  xa: Map<LinearName, GPUBuffer>; // (M,R) LoRA dropout(x)·Aᵀ per targeted linear
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
  tmpC: GPUBuffer; // (M,C) o_proj / down_proj output before the residual add
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
  dgate: GPUBuffer; // (M,F)
  dup: GPUBuffer; // (M,F)
  datt: GPUBuffer; // (M,H*D), later dq after rope backward
  dqr: GPUBuffer; // (M,H*D), later dq
  dkr: GPUBuffer; // (M,Hkv*D), later dk
  dk: GPUBuffer; // (M,Hkv*D)
  dv: GPUBuffer; // (M,Hkv*D)
  wsNorm: GPUBuffer; // rmsnorm dweight workspace
  wsAttn: GPUBuffer; // attention backward workspace
  wsLora: GPUBuffer; // (M,Rmax) LoRA backward workspace
  dropoutSeed: GPUBuffer; // u32[1], rewritten every micro-step
  cos: GPUBuffer; // (maxT, D/2) RoPE tables
  sin: GPUBuffer;
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

/** Bytes per buffer, as activationBytes() and allocateActivations() both see them (one source of truth). */
export function activationLayout(d: ModelDims, o: ActivationOptions): { name: string; bytes: number; count: number }[] {
  const M = o.maxB * o.maxT;
  const { C, F, H, Hkv, D, L } = d;
  const f = 4;
  const sets = o.gradientCheckpointing ? 1 : L;
  const out: { name: string; bytes: number; count: number }[] = [
    { name: 'ids', bytes: M * 4, count: 1 },
    { name: 'positions', bytes: M * 4, count: 1 },
    { name: 'resid', bytes: M * C * f, count: L + 1 },
    { name: 'layer.ln1', bytes: M * C * f, count: sets },
    { name: 'layer.rstd1', bytes: M * f, count: sets },
    { name: 'layer.q', bytes: M * H * D * f, count: sets },
    { name: 'layer.k', bytes: M * Hkv * D * f, count: sets },
    { name: 'layer.v', bytes: M * Hkv * D * f, count: sets },
    { name: 'layer.rstdq', bytes: M * H * f, count: sets },
    { name: 'layer.rstdk', bytes: M * Hkv * f, count: sets },
    { name: 'layer.qr', bytes: M * H * D * f, count: sets },
    { name: 'layer.kr', bytes: M * Hkv * D * f, count: sets },
    { name: 'layer.att', bytes: M * H * D * f, count: sets },
    { name: 'layer.lse', bytes: M * H * f, count: sets },
    { name: 'layer.x2', bytes: M * C * f, count: sets },
    { name: 'layer.ln2', bytes: M * C * f, count: sets },
    { name: 'layer.rstd2', bytes: M * f, count: sets },
    { name: 'layer.gate', bytes: M * F * f, count: sets },
    { name: 'layer.up', bytes: M * F * f, count: sets },
    { name: 'layer.h', bytes: M * F * f, count: sets },
    { name: 'layer.lora_xa', bytes: M * o.loraR * f, count: sets * o.loraTargets.length },
    { name: 'tmpC', bytes: M * C * f, count: 1 },
    { name: 'xf', bytes: M * C * f, count: 1 },
  ];
  if (o.training) {
    out.push(
      { name: 'dres', bytes: M * C * f, count: 1 },
      { name: 'dC', bytes: M * C * f, count: 1 },
      { name: 'dF', bytes: M * F * f, count: 3 },
      { name: 'dHD', bytes: M * H * D * f, count: 2 },
      { name: 'dHkvD', bytes: M * Hkv * D * f, count: 3 },
      { name: 'wsNorm', bytes: Math.max(rmsnormBackwardWorkspaceBytes(M, C), rmsnormBackwardWorkspaceBytes(M * H, D)), count: 1 },
      { name: 'wsAttn', bytes: attentionBackwardWorkspaceBytes(M, H), count: 1 },
      { name: 'wsLora', bytes: M * Math.max(1, o.loraR) * f, count: 1 },
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
    const xa = new Map<LinearName, GPUBuffer>();
    for (const t of o.loraTargets) xa.set(t, buf(`${p}.${t}.lora_xa`, M * o.loraR * f));
    return {
      ln1: buf(`${p}.ln1`, M * C * f), rstd1: buf(`${p}.rstd1`, M * f),
      q: buf(`${p}.q`, M * H * D * f), k: buf(`${p}.k`, M * Hkv * D * f), v: buf(`${p}.v`, M * Hkv * D * f),
      rstdq: buf(`${p}.rstdq`, M * H * f), rstdk: buf(`${p}.rstdk`, M * Hkv * f),
      qr: buf(`${p}.qr`, M * H * D * f), kr: buf(`${p}.kr`, M * Hkv * D * f),
      att: buf(`${p}.att`, M * H * D * f), lse: buf(`${p}.lse`, M * H * f),
      x2: buf(`${p}.x2`, M * C * f), ln2: buf(`${p}.ln2`, M * C * f), rstd2: buf(`${p}.rstd2`, M * f),
      gate: buf(`${p}.gate`, M * F * f), up: buf(`${p}.up`, M * F * f), h: buf(`${p}.h`, M * F * f),
      xa,
    };
  };
  const sets = o.gradientCheckpointing ? 1 : L;
  const none = () => buf('unused', 4);
  const t = o.training;
  return {
    maxB: o.maxB,
    maxT: o.maxT,
    ids: buf('act.ids', M * 4),
    cu: buf('act.cu', (o.maxB + 2) * 4),
    positions: buf('act.positions', M * 4),
    margins: buf('act.margins', Math.ceil(o.maxB / 2) * f),
    resid: Array.from({ length: L + 1 }, (_, i) => buf(`act.resid${i}`, M * C * f)),
    layers: Array.from({ length: sets }, (_, i) => layerSet(i)),
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
    dgate: t ? buf('grad.dgate', M * F * f) : none(),
    dup: t ? buf('grad.dup', M * F * f) : none(),
    datt: t ? buf('grad.datt', M * H * D * f) : none(),
    dqr: t ? buf('grad.dqr', M * H * D * f) : none(),
    dkr: t ? buf('grad.dkr', M * Hkv * D * f) : none(),
    dk: t ? buf('grad.dk', M * Hkv * D * f) : none(),
    dv: t ? buf('grad.dv', M * Hkv * D * f) : none(),
    wsNorm: t ? buf('ws.norm', Math.max(rmsnormBackwardWorkspaceBytes(M, C), rmsnormBackwardWorkspaceBytes(M * H, D))) : none(),
    wsAttn: t ? buf('ws.attn', attentionBackwardWorkspaceBytes(M, H)) : none(),
    wsLora: t ? buf('ws.lora', M * Math.max(1, o.loraR) * f) : none(),
    dropoutSeed: buf('act.dropoutSeed', 4),
    cos: buf('rope.cos', o.maxT * (D / 2) * f),
    sin: buf('rope.sin', o.maxT * (D / 2) * f),
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
    else if (v && typeof v === 'object' && 'destroy' in v && 'mapAsync' in v) {
      if (!seen.has(v as GPUBuffer)) (v as GPUBuffer).destroy();
      seen.add(v as GPUBuffer);
    } else if (v && typeof v === 'object') Object.values(v).forEach(visit);
  };
  for (const [k, v] of Object.entries(a)) if (k !== 'bytes') visit(v);
}
