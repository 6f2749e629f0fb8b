// 16-bit (f16) storage of saved activations: pack f32 tensors into one per-layer buffer of f16 words at the end of a
// layer's forward, unpack them back to f32 at the start of its backward (src/model/activations.ts,
// activation_dtype "float16"). Shader: shaders/act16.wgsl (+ shaders/half_bits.wgsl). CPU reference:
// ./act16.ref.ts. Test: tests/ops/act16.test.ts.
//
// A segment is a (rows, cols) block: f32 element (r, c) at fOffset + r·fStride + c of its tensor, f16 element (r, c)
// at half hOffset + r·hStride + c of the packed buffer. cols, hOffset and hStride are even (a thread owns one word).
import actCode from '../../shaders/act16.wgsl?raw';
import halfBits from '../../shaders/half_bits.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, type Dispatch, bindBuffers, bufLabel, bufSize, checkWorkgroups, createUniform, getPipeline } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';
import { bufferOf } from './args.ts';

const code = `${actCode}\n${halfBits}`;
/** Segments one dispatch handles (bindings: the packed buffer + 4 tensors + the uniform). */
export const ACT16_SEGMENTS_PER_DISPATCH = 4;

export interface Act16Segment {
  /** The f32 tensor (read by pack, written by unpack). */
  f32: Buf;
  rows: number;
  cols: number;
  /** f32 elements between rows (default cols) and before row 0 (default 0). */
  fStride?: number;
  fOffset?: number;
  /** Halves of the packed buffer before row 0 and between rows (default cols). */
  hOffset: number;
  hStride?: number;
}

interface Norm { f32: Buf; rows: number; cols: number; fStride: number; fOffset: number; hOffset: number; hStride: number }

function normalize(label: string, packed: Buf, s: Act16Segment, i: number): Norm {
  const n: Norm = { f32: s.f32, rows: s.rows, cols: s.cols, fStride: s.fStride ?? s.cols, fOffset: s.fOffset ?? 0, hOffset: s.hOffset, hStride: s.hStride ?? s.cols };
  for (const [k, v] of Object.entries(n)) {
    if (k !== 'f32' && (!Number.isInteger(v) || (v as number) < 0)) throw new Error(`${label}: segment ${i} ${k} ${v} must be an integer ≥ 0`);
  }
  if (n.rows < 1 || n.cols < 2) throw new Error(`${label}: segment ${i} is ${n.rows}×${n.cols}; needs ≥ 1 row and ≥ 2 columns`);
  for (const k of ['cols', 'hOffset', 'hStride', 'fStride', 'fOffset'] as const) {
    if (n[k] % 2 !== 0) throw new Error(`${label}: segment ${i} ${k} ${n[k]} must be even (a thread owns one word of two f16)`);
  }
  if (n.fStride < n.cols || n.hStride < n.cols) throw new Error(`${label}: segment ${i} row strides (${n.fStride}, ${n.hStride}) are below its ${n.cols} columns`);
  const fBytes = (n.fOffset + (n.rows - 1) * n.fStride + n.cols) * 4;
  const hBytes = (n.hOffset + (n.rows - 1) * n.hStride + n.cols) * 2;
  if (fBytes > bufSize(n.f32)) throw new Error(`${label}: segment ${i} needs ${fBytes} bytes of ${bufLabel(n.f32)}, it has ${bufSize(n.f32)}`);
  if (hBytes > bufSize(packed)) throw new Error(`${label}: segment ${i} needs ${hBytes} bytes of ${bufLabel(packed)}, it has ${bufSize(packed)}`);
  if (bufferOf(n.f32) === bufferOf(packed)) throw new Error(`${label}: segment ${i}'s tensor is the packed buffer ${bufLabel(packed)}`);
  return n;
}

// Unused tensor slots of a dispatch are bound to small buffers of their own (writable bindings must not alias).
const spares = new WeakMap<GPUDevice, GPUBuffer[]>();
function spare(gpu: Gpu, k: number): GPUBuffer {
  let list = spares.get(gpu.device);
  if (!list) spares.set(gpu.device, (list = []));
  while (list.length <= k) list.push(gpu.device.createBuffer({ label: `act16.spare${list.length}`, size: 16, usage: GPUBufferUsage.STORAGE }));
  return list[k];
}

function act16Kernel(gpu: Gpu, entry: 'pack' | 'unpack', packed: Buf, segments: Act16Segment[]): Kernel {
  const label = `act16_${entry}`;
  if (segments.length === 0) throw new Error(`${label}: no segments`);
  const segs = segments.map((s, i) => normalize(label, packed, s, i));
  const pipeline = getPipeline(gpu, { label, code, entryPoint: entry, constants: { WG: WG_1D } });
  const dispatches: Dispatch[] = [];
  const owned: GPUBuffer[] = [];
  const K = ACT16_SEGMENTS_PER_DISPATCH;
  // Greedy dispatches of ≤ 4 segments over ≤ 4 tensors: segments of one Buf share its slot; two different ranges of
  // one GPUBuffer go to different dispatches (writable bindings must not alias).
  const groups: { segs: Norm[]; slots: Buf[] }[] = [];
  for (const g of segs) {
    let cur = groups[groups.length - 1];
    const fits = (c: { segs: Norm[]; slots: Buf[] }) => c.segs.length < K &&
      (c.slots.includes(g.f32) || (c.slots.length < K && !c.slots.some((b) => bufferOf(b) === bufferOf(g.f32))));
    if (!cur || !fits(cur)) groups.push((cur = { segs: [], slots: [] }));
    if (!cur.slots.includes(g.f32)) cur.slots.push(g.f32);
    cur.segs.push(g);
  }
  for (const { segs: part, slots } of groups) {
    const params: number[] = [0, 0, 0, 0];
    let start = 0;
    for (let s = 0; s < K; s++) {
      const g = part[s];
      if (g) {
        params.push(start, g.cols / 2, g.fOffset, g.fStride, g.hOffset / 2, g.hStride / 2, slots.indexOf(g.f32), 0);
        start += g.rows * (g.cols / 2);
      } else params.push(0xffffffff, 1, 0, 0, 0, 0, 0, 0); // never reached: t < total ≤ 0xffffffff
    }
    if (start > 0xffffffff) throw new Error(`${label}: ${start} words do not fit u32 indexing`);
    params[0] = start;
    const u = createUniform(gpu, label, params);
    owned.push(u);
    const tensors = Array.from({ length: K }, (_, s) => slots[s] ?? spare(gpu, s));
    const binds: (Buf | null)[] = entry === 'pack' ? [packed, ...tensors, null, null, null, null, null, u] : [null, null, null, null, null, packed, ...tensors, u];
    const workgroups = elementwiseGrid(start);
    checkWorkgroups(gpu, label, workgroups);
    dispatches.push({ pipeline, bindGroup: bindBuffers(gpu, label, pipeline, binds), workgroups });
  }
  return { label, dispatches, owned };
}

/** packed (f16 words) ← f16 of each segment's f32 block; ⌈segments/4⌉ dispatches (more when > 4 tensors). */
export function act16Pack(gpu: Gpu, packed: Buf, segments: Act16Segment[]): Kernel {
  return act16Kernel(gpu, 'pack', packed, segments);
}

/** Each segment's f32 block ← its f16 halves of `packed` (exact); ⌈segments/4⌉ dispatches (more when > 4 tensors). */
export function act16Unpack(gpu: Gpu, packed: Buf, segments: Act16Segment[]): Kernel {
  return act16Kernel(gpu, 'unpack', packed, segments);
}
