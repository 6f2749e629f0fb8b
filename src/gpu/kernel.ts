// Kernels are planned once and recorded many times. An op's wrapper (src/ops/*.ts) builds a `Kernel` for fixed
// buffers and dims: the pipeline comes from the cache, the dims go into a small uniform buffer written once, and
// the bind group is made once. A training step then records a list of kernels into one command encoder
// without allocating anything.
import type { Gpu } from './device.ts';
import { flags } from './flags.ts';

/**
 * A storage buffer argument: a whole buffer, or a range of one ({buffer, offset, size}; offset a multiple of
 * minStorageBufferOffsetAlignment = 256) — parameters live at offsets inside a few large blocks.
 */
export type Buf = GPUBuffer | GPUBufferBinding;

export function isRange(b: Buf): b is GPUBufferBinding {
  return !(b instanceof Object && 'mapAsync' in b);
}

/** Bytes visible through a Buf. */
export function bufSize(b: Buf): number {
  return isRange(b) ? (b.size ?? b.buffer.size - (b.offset ?? 0)) : b.size;
}

/** The GPU label of the buffer behind a Buf (for error messages). */
export function bufLabel(b: Buf): string {
  return isRange(b) ? `${b.buffer.label}@${b.offset ?? 0}` : b.label;
}

export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

export interface Kernel {
  label: string;
  dispatches: Dispatch[];
  /** Buffers this kernel owns (its uniforms); freed by destroyKernels. */
  owned: GPUBuffer[];
}

// ---- pipeline cache: keyed by (label, entry point, constants, code) ----

const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();
const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/** Debug counter of pipelines compiled, for tests and tuning. */
export const pipelineStats = { compiled: 0 };

export interface PipelineSpec {
  /** Shader name, e.g. 'matmul_forward'; also the GPU label. */
  label: string;
  code: string;
  entryPoint?: string;
  /** WGSL `override` constants (tile sizes, workgroup sizes). */
  constants?: Record<string, number>;
}

export function getPipeline(gpu: Gpu, spec: PipelineSpec): GPUComputePipeline {
  const d = gpu.device;
  let mods = moduleCache.get(d);
  if (!mods) moduleCache.set(d, (mods = new Map()));
  let pipes = pipelineCache.get(d);
  if (!pipes) pipelineCache.set(d, (pipes = new Map()));
  const entryPoint = spec.entryPoint ?? 'main';
  const constants = spec.constants ?? {};
  const constKey = Object.keys(constants)
    .sort()
    .map((k) => `${k}=${constants[k]}`)
    .join(',');
  const key = `${spec.label}|${entryPoint}|${constKey}|${spec.code.length}:${hashString(spec.code)}`;
  let p = pipes.get(key);
  if (p) return p;
  const codeKey = `${spec.label}|${hashString(spec.code)}`;
  let mod = mods.get(codeKey);
  if (!mod) {
    if (flags.printWgsl) console.log(`// ---- WGSL ${spec.label}\n${spec.code}`);
    mod = d.createShaderModule({ label: spec.label, code: spec.code });
    mods.set(codeKey, mod);
  }
  p = d.createComputePipeline({
    label: `${spec.label}:${entryPoint}${constKey ? `[${constKey}]` : ''}`,
    layout: 'auto',
    compute: { module: mod, entryPoint, constants },
  });
  pipelineStats.compiled++;
  pipes.set(key, p);
  return p;
}

function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

// ---- uniforms and bind groups ----

/**
 * A uniform buffer holding `values`, each stored as u32 unless listed in `f32` (by index). WGSL params structs
 * of the ops are all-scalar (u32/f32), 4 bytes each, padded here to 16 bytes.
 */
export function createUniform(gpu: Gpu, label: string, values: number[], f32: ReadonlySet<number> = NO_F32): GPUBuffer {
  const n = Math.max(4, Math.ceil(values.length / 4) * 4);
  const data = new ArrayBuffer(n * 4);
  const u = new Uint32Array(data);
  const f = new Float32Array(data);
  values.forEach((v, i) => {
    if (f32.has(i)) f[i] = v;
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`${label}: uniform ${i} = ${v} is not a u32`);
      u[i] = v;
    }
  });
  const buf = gpu.device.createBuffer({ label: `${label}.params`, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  gpu.device.queue.writeBuffer(buf, 0, data);
  return buf;
}
const NO_F32: ReadonlySet<number> = new Set();

/**
 * Bind group for @group(0) with bindings 0..n-1 in order. A `null` skips a binding the entry point does not use
 * (layout 'auto' holds only the bindings an entry point touches, so forward and backward entries of one .wgsl
 * file can share binding numbers and bind different subsets).
 */
export function bindBuffers(gpu: Gpu, label: string, pipeline: GPUComputePipeline, buffers: (Buf | null)[]): GPUBindGroup {
  const entries: GPUBindGroupEntry[] = [];
  buffers.forEach((b, binding) => {
    if (b) entries.push({ binding, resource: isRange(b) ? b : { buffer: b } });
  });
  return gpu.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
}

/**
 * The common case: one pipeline, one dispatch. `buffers` are bound at 0..n-1 (null: unused by this entry
 * point) and, if `params` is given, a uniform holding it is bound last (binding n).
 */
export function simpleKernel(
  gpu: Gpu,
  spec: PipelineSpec,
  buffers: (Buf | null)[],
  params: number[] | null,
  workgroups: [number, number, number],
  f32Params?: ReadonlySet<number>,
): Kernel {
  const pipeline = getPipeline(gpu, spec);
  const owned: GPUBuffer[] = [];
  const all: (Buf | null)[] = [...buffers];
  if (params) {
    const u = createUniform(gpu, spec.label, params, f32Params);
    owned.push(u);
    all.push(u);
  }
  checkWorkgroups(gpu, spec.label, workgroups);
  return { label: spec.label, dispatches: [{ pipeline, bindGroup: bindBuffers(gpu, spec.label, pipeline, all), workgroups }], owned };
}

export function checkWorkgroups(gpu: Gpu, label: string, wg: [number, number, number]): void {
  const max = gpu.device.limits.maxComputeWorkgroupsPerDimension;
  for (const n of wg) {
    if (!Number.isInteger(n) || n < 0 || n > max)
      throw new Error(`${label}: workgroup count ${wg.join('x')} exceeds maxComputeWorkgroupsPerDimension ${max}`);
  }
}

/** Dispatch counter, for tuning: every recorded dispatch adds one. */
export const dispatchStats = { count: 0 };

/** Records kernels in order into one compute pass. Each dispatch is its own usage scope, so order is enforced. */
export function recordKernels(encoder: GPUCommandEncoder, kernels: Kernel[], label = 'kernels'): void {
  const pass = encoder.beginComputePass({ label });
  for (const k of kernels) {
    for (const d of k.dispatches) {
      if (d.workgroups[0] * d.workgroups[1] * d.workgroups[2] === 0) continue;
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      dispatchStats.count++;
    }
  }
  pass.end();
}

/** Encodes, submits and waits for `kernels`. For tests and one-off work; a training step records its own. */
export async function runKernels(gpu: Gpu, kernels: Kernel[], label = 'run'): Promise<void> {
  if (gpu.lost) throw gpu.lost;
  const enc = gpu.device.createCommandEncoder({ label });
  recordKernels(enc, kernels, label);
  gpu.device.queue.submit([enc.finish()]);
  await gpu.device.queue.onSubmittedWorkDone();
}

export function destroyKernels(kernels: Kernel[]): void {
  for (const k of kernels) for (const b of k.owned) b.destroy();
}

/** ceil(a / b) for workgroup counts. */
export const cdiv = (a: number, b: number): number => Math.ceil(a / b);
