// Causal attention of one query row per sequence (the pooled row p_b) against the full K/V of its sequence: the last
// decoder layer's attention (src/model/qwen3.ts), forward and backward. Shader: shaders/attention_pooled.wgsl.
// Reference: tests/ops/attention_pooled.test.ts (float64, from the packed batch directly).
// Legend: B sequences, M packed rows (sequence b is rows [cu[b], cu[b+1])), H query heads, Hkv kv heads, D head dim.
import code from '../../shaders/attention_pooled.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bindBuffers, bufLabel, bufSize, createUniform, getPipeline, isRange } from '../gpu/kernel.ts';

const WG = 64;
const DMAX = 4 * WG;

function check(label: string, gpu: Gpu, B: number, M: number, H: number, Hkv: number, D: number): void {
  for (const [k, v] of [['B', B], ['M', M], ['H', H], ['Hkv', Hkv], ['D', D]] as const)
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: ${k} = ${v} must be a positive integer`);
  if (H % Hkv !== 0) throw new Error(`${label}: H = ${H} is not a multiple of Hkv = ${Hkv}`);
  if (D > DMAX) throw new Error(`${label}: head dim D = ${D} is above ${DMAX}`);
  const lim = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  if (H > lim || B > lim) throw new Error(`${label}: H = ${H} or B = ${B} is above maxComputeWorkgroupsPerDimension ${lim}`);
}

function need(label: string, name: string, b: Buf, bytes: number): void {
  if (bufSize(b) < bytes) throw new Error(`${label}: buffer ${name} (${bufLabel(b)}) has ${bufSize(b)} bytes, needs ${bytes}`);
}

function uniform(gpu: Gpu, label: string, B: number, M: number, H: number, Hkv: number, D: number, dvOff = 0, nx = 1): GPUBuffer {
  return createUniform(gpu, label, [B, M, H, Hkv, D, Math.fround(1 / Math.sqrt(D)), dvOff, nx], new Set([5]));
}

// out (B, H·D) and stats (B, H, 2) (stats[·,0] = lse) from q (M, H·D) at rows pool[b], k, v (M, Hkv·D), pool (B,),
// cu (B+1,): sequence b's query attends to rows [cu[b], pool[b]].
export function attentionPooledForward(
  gpu: Gpu, out: Buf, stats: Buf, q: Buf, k: Buf, v: Buf, pool: Buf, cu: Buf, B: number, M: number, H: number, Hkv: number, D: number,
): Kernel {
  const label = 'attention_pooled_forward';
  check(label, gpu, B, M, H, Hkv, D);
  need(label, 'out', out, B * H * D * 4); need(label, 'stats', stats, B * H * 8); need(label, 'q', q, M * H * D * 4);
  need(label, 'k', k, M * Hkv * D * 4); need(label, 'v', v, M * Hkv * D * 4); need(label, 'pool', pool, B * 4); need(label, 'cu', cu, (B + 1) * 4);
  const pipeline = getPipeline(gpu, { label, code, entryPoint: 'forward', constants: { WG } });
  const params = uniform(gpu, label, B, M, H, Hkv, D);
  const bindGroup = bindBuffers(gpu, label, pipeline, [q, k, v, out, stats, pool, cu, null, null, null, params]);
  return { label, dispatches: [{ pipeline, bindGroup, workgroups: [H, B, 1] }], owned: [params] };
}

// dq (B, H·D) and dk, dv (M, Hkv·D) (assigned; rows no pooled query sees get 0) from dout (B, H·D) and the forward's
// out and stats (stats[·,1] = Δ is written here). dk and dv: ranges of ONE buffer, dk first (a binding each would
// exceed WebGPU's 8 storage buffers per stage).
export function attentionPooledBackward(
  gpu: Gpu, dq: Buf, dk: Buf, dv: Buf, dout: Buf, q: Buf, k: Buf, v: Buf, out: Buf, stats: Buf, pool: Buf, cu: Buf,
  B: number, M: number, H: number, Hkv: number, D: number,
): Kernel {
  const label = 'attention_pooled_backward';
  check(label, gpu, B, M, H, Hkv, D);
  const kvBytes = M * Hkv * D * 4;
  need(label, 'dq', dq, B * H * D * 4); need(label, 'dk', dk, kvBytes); need(label, 'dv', dv, kvBytes); need(label, 'dout', dout, B * H * D * 4);
  need(label, 'out', out, B * H * D * 4); need(label, 'stats', stats, B * H * 8);
  const buf = (b: Buf) => (isRange(b) ? b.buffer : b);
  const off = (b: Buf) => (isRange(b) ? (b.offset ?? 0) : 0);
  if (buf(dk) !== buf(dv) || off(dv) < off(dk) + kvBytes || (off(dv) - off(dk)) % 4 !== 0)
    throw new Error(`${label}: dk (${bufLabel(dk)}) and dv (${bufLabel(dv)}) must be ranges of one buffer, dv after dk`);
  const dkv: GPUBufferBinding = { buffer: buf(dk), offset: off(dk), size: off(dv) - off(dk) + kvBytes };
  const dvOff = (off(dv) - off(dk)) / 4;
  const lim = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  const groups = M * Hkv;
  const nx = Math.min(groups, lim);
  const ny = Math.ceil(groups / nx);
  if (ny > lim) throw new Error(`${label}: M·Hkv = ${groups} workgroups exceed the grid`);
  const owned: GPUBuffer[] = [];
  const dispatch = (entry: string, bufs: (Buf | null)[], workgroups: [number, number, number], x = 1) => {
    const pipeline = getPipeline(gpu, { label: `attention_pooled_${entry}`, code, entryPoint: entry, constants: { WG } });
    const params = uniform(gpu, `${label}.${entry}`, B, M, H, Hkv, D, dvOff, x);
    owned.push(params);
    return { pipeline, bindGroup: bindBuffers(gpu, `${label}.${entry}`, pipeline, [...bufs, params]), workgroups };
  };
  return {
    label,
    owned,
    dispatches: [
      dispatch('delta', [null, null, null, out, stats, null, null, dout, null, null], [H, B, 1]),
      dispatch('dq_rows', [q, k, v, null, stats, pool, cu, dout, dq, null], [H, B, 1]),
      dispatch('dkdv', [q, k, v, null, stats, pool, cu, dout, null, dkv], [nx, ny, 1], nx),
    ],
  };
}

/** Model-counted FLOPs of the pooled attention: forward 4·D per (query, key) pair, backward 10·D per pair + 2·D per
 *  query row (as attentionFlops); `keys` = Σ_b (pool[b] − cu[b] + 1). */
export function attentionPooledFlops(keys: number, B: number, H: number, D: number): { forward: number; backward: number } {
  return { forward: 4 * D * H * keys, backward: 10 * D * H * keys + 2 * D * H * B };
}
