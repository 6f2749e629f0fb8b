// GPU storage of a parameter table: frozen tensors each in their own buffer (f32 or packed 16-bit), trainable
// tensors as ranges of a few f32 blocks, with gradients, AdamW moments in blocks of the same layout. Loading
// streams each tensor from its source by byte ranges (never a whole file in memory) and converts on the GPU.
import type { Gpu } from '../gpu/device.ts';
import { checked } from '../gpu/device.ts';
import { createStorage, writeBuffer, readBytes } from '../gpu/buffers.ts';
import { type Buf, destroyKernels, runKernels } from '../gpu/kernel.ts';
import { bf16ToF32, f16ToF32 } from '../ops/convert.ts';
import { bf16ScaleRange, recordBf16Range, type F16ScaleRange } from '../ops/f16_tiles.ts';
import { Rng } from '../util/random.ts';
import type { ParamEntry, ParamTable } from './params.ts';
import { UserError } from '../util/user_error.ts';

export interface ModelWeights {
  table: ParamTable;
  /** Frozen tensors: ranges of a few blocks (table order, so a layer's q/k/v and gate/up weights are adjacent). */
  frozen: Map<string, GPUBufferBinding>;
  frozenBlocks: GPUBuffer[];
  params: GPUBuffer[]; // trainable blocks
  grads: GPUBuffer[]; // same layout as params
  m: GPUBuffer[]; // AdamW first moments (allocated by allocateOptimizerState)
  v: GPUBuffer[];
}

/** Where a tensor lives: a whole buffer or a range of a block (the ops take either). */
export type Ref = Buf;

/** Where a tensor lives: its own buffer (frozen) or a range of a trainable block. */
export function paramRef(w: ModelWeights, name: string): Ref {
  const frozen = w.frozen.get(name);
  if (frozen) return frozen;
  return range(w.params, entryOf(w, name));
}

export function gradRef(w: ModelWeights, name: string): GPUBufferBinding {
  const e = entryOf(w, name);
  if (!e.trainable) throw new Error(`gradRef: ${name} is frozen`);
  return range(w.grads, e);
}

function entryOf(w: ModelWeights, name: string): ParamEntry {
  const e = w.table.byName.get(name);
  if (!e) throw new Error(`no parameter named ${name}`);
  return e;
}

const range = (blocks: GPUBuffer[], e: ParamEntry): GPUBufferBinding => ({ buffer: blocks[e.block], offset: e.offset, size: e.bytes });

export function allocateWeights(gpu: Gpu, table: ParamTable): ModelWeights {
  const frozenBlocks = table.frozenBlockBytes.map((b, i) => createStorage(gpu, `frozen[${i}]`, b));
  const frozen = new Map<string, GPUBufferBinding>();
  for (const e of table.frozen) frozen.set(e.name, range(frozenBlocks, e));
  const params = table.trainableBlockBytes.map((b, i) => createStorage(gpu, `params[${i}]`, b));
  const grads = table.trainableBlockBytes.map((b, i) => createStorage(gpu, `grads[${i}]`, b));
  return { table, frozen, frozenBlocks, params, grads, m: [], v: [] };
}

export function allocateOptimizerState(gpu: Gpu, w: ModelWeights): void {
  if (w.m.length) return;
  w.m = w.table.trainableBlockBytes.map((b, i) => createStorage(gpu, `adam_m[${i}]`, b));
  w.v = w.table.trainableBlockBytes.map((b, i) => createStorage(gpu, `adam_v[${i}]`, b));
}

export function destroyWeights(w: ModelWeights): void {
  for (const b of w.frozenBlocks) b.destroy();
  for (const list of [w.params, w.grads, w.m, w.v]) for (const b of list) b.destroy();
}

/** One tensor of a checkpoint file, readable by byte range. */
export interface TensorSource {
  file: string;
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  byteLength: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

const CHUNK = 16 << 20; // bytes per upload, so no tensor is ever held whole in JS memory

/**
 * Loads every tensor of the table that `sources` has. Missing `score.weight` and LoRA tensors are initialised
 * (see initNewParams); any other missing tensor, or a shape that contradicts the config, is an error naming the
 * tensor and the file.
 */
export async function loadWeights(gpu: Gpu, w: ModelWeights, sources: Map<string, TensorSource>, onProgress?: (done: number, total: number) => void): Promise<string[]> {
  const missing: string[] = [];
  const all = [...w.table.frozen, ...w.table.trainable];
  let done = 0;
  const total = all.reduce((s, e) => s + e.bytes, 0);
  await checked(gpu, 'load weights', async () => {
    for (const e of all) {
      const src = sources.get(e.name);
      if (!src) {
        if (e.kind === 'score' || e.kind === 'lora_A' || e.kind === 'lora_B') missing.push(e.name);
        else {
          const files = [...new Set([...sources.values()].map((s) => s.file))];
          throw new UserError(`${e.name} is missing from the checkpoint (${files.length ? files.join(', ') : 'its safetensors files hold no tensors at all'}). Is this a Qwen3 model folder?`);
        }
        continue;
      }
      const want = e.kind === 'score' ? [[1, e.shape[1]]] : [e.shape];
      if (!want.some((s) => s.length === src.shape.length && s.every((d, i) => d === src.shape[i]))) {
        throw new UserError(`${e.name} in ${src.file} has shape [${src.shape}] but config.json implies [${e.shape}]; the config and the weights do not belong together`);
      }
      await uploadTensor(gpu, w, e, src);
      done += e.bytes;
      onProgress?.(done, total);
    }
  });
  return missing;
}

async function uploadTensor(gpu: Gpu, w: ModelWeights, e: ParamEntry, src: TensorSource): Promise<void> {
  const dst = paramRef(w, e.name);
  const dstBuf = 'buffer' in dst && !('mapAsync' in dst) ? (dst as GPUBufferBinding).buffer : (dst as GPUBuffer);
  const dstOff = 'buffer' in dst && !('mapAsync' in dst) ? ((dst as GPUBufferBinding).offset ?? 0) : 0;
  const K = e.shape[e.shape.length - 1];
  const srcElem = src.dtype === 'F32' ? 4 : 2;
  const numel = e.numel;
  if (src.byteLength !== numel * srcElem) throw new UserError(`${e.name} in ${src.file}: ${src.byteLength} bytes for ${numel} ${src.dtype} values; the file is corrupt or truncated`);

  const sameLayout =
    (e.dtype === 'f32' && src.dtype === 'F32') ||
    (((e.dtype === 'bf16' && src.dtype === 'BF16') || (e.dtype === 'f16' && src.dtype === 'F16')) && K % 2 === 0);
  if (sameLayout) {
    // bf16 tensors: whether (and under which power-of-two scales) every value is exactly an f16, for the GEMM's f16
    // weight tiles (src/ops/f16_tiles.ts); checked on the CPU as the chunks go by.
    let f16: F16ScaleRange | 'none' | null = null;
    for (let off = 0; off < src.byteLength; off += CHUNK) {
      const bytes = await src.read(off, Math.min(CHUNK, src.byteLength - off));
      if (e.dtype === 'bf16') f16 = bf16ScaleRange(halves(bytes), f16);
      writeBuffer(gpu, dstBuf, bytes, dstOff + off);
    }
    if (e.dtype === 'bf16') recordBf16Range(dstBuf, dstOff, e.bytes, f16 ?? bf16ScaleRange(new Uint16Array(0)));
    return;
  }
  if (e.dtype === 'f32' && (src.dtype === 'BF16' || src.dtype === 'F16')) {
    // 16-bit → f32 on the GPU, chunk by chunk through a staging buffer. Chunks hold an even element count so
    // the packed input words line up.
    const chunkElems = CHUNK / 4;
    const staging = createStorage(gpu, `${e.name}.staging`, chunkElems * 2);
    try {
      for (let first = 0; first < numel; first += chunkElems) {
        const n = Math.min(chunkElems, numel - first);
        const bytes = await src.read(first * 2, n * 2);
        writeBuffer(gpu, staging, bytes);
        const opts = { outOffset: dstOff / 4 + first };
        const k = src.dtype === 'BF16' ? bf16ToF32(gpu, dstBuf, staging, n, opts) : f16ToF32(gpu, dstBuf, staging, n, opts);
        await runKernels(gpu, [k], `convert ${e.name}`);
        destroyKernels([k]);
      }
    } finally {
      staging.destroy();
    }
    return;
  }
  // Rare layouts (odd row length for packed storage, f32 source into 16-bit storage): repack row by row on the CPU.
  throw new Error(`${e.name} in ${src.file}: loading ${src.dtype} into ${e.dtype} storage with row length ${K} is not supported; load the model in f32 (frozenDtype 'f32')`);
}

/** The 16-bit values of little-endian bytes (copied when the view is not 2-byte aligned). */
function halves(bytes: Uint8Array): Uint16Array {
  const n = bytes.byteLength >> 1;
  return bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, n) : new Uint16Array(bytes.slice(0, 2 * n).buffer);
}

/**
 * Seeded initialisation of what a base checkpoint lacks: score.weight ~ normal(0, initializer_range) as
 * transformers initialises a new Linear head; LoRA A ~ kaiming_uniform(a=√5) = U(−1/√in, 1/√in), B = 0 (PEFT).
 */
export function initNewParams(gpu: Gpu, w: ModelWeights, names: string[], seed: number): void {
  const rng = new Rng(seed);
  for (const name of names) {
    const e = entryOf(w, name);
    const data = new Float32Array(e.numel);
    if (e.kind === 'score') for (let i = 0; i < data.length; i++) data[i] = rng.normal() * w.table.dims.initializerRange;
    else if (e.kind === 'lora_A') {
      const bound = 1 / Math.sqrt(e.shape[1]);
      for (let i = 0; i < data.length; i++) data[i] = rng.range(-bound, bound);
    } // lora_B stays zero
    const r = range(w.params, e);
    writeBuffer(gpu, r.buffer, data, r.offset);
  }
}

/** Reads a trainable tensor back as f32 (export, checkpoints, tests). */
export async function readParam(gpu: Gpu, w: ModelWeights, name: string, which: 'params' | 'grads' | 'm' | 'v' = 'params'): Promise<Float32Array> {
  const e = entryOf(w, name);
  if (!e.trainable) {
    if (which !== 'params') throw new Error(`${name} is frozen: it has no ${which}`);
    if (e.dtype !== 'f32') throw new Error(`readParam: ${name} is stored as ${e.dtype}`);
    const r = w.frozen.get(name)!;
    return new Float32Array(await readBytes(gpu, r.buffer, e.bytes, r.offset));
  }
  const blocks = w[which];
  return new Float32Array(await readBytes(gpu, blocks[e.block], e.bytes, e.offset));
}

/** Writes a trainable (or f32 frozen) tensor from f32 values (tests, resume). */
export function writeParam(gpu: Gpu, w: ModelWeights, name: string, data: Float32Array, which: 'params' | 'grads' | 'm' | 'v' = 'params'): void {
  const e = entryOf(w, name);
  if (data.length !== e.numel) throw new Error(`writeParam ${name}: ${data.length} values for ${e.numel}`);
  if (!e.trainable) {
    if (e.dtype !== 'f32' || which !== 'params') throw new Error(`writeParam: ${name} is frozen ${e.dtype}`);
    const r = w.frozen.get(name)!;
    writeBuffer(gpu, r.buffer, data, r.offset);
    return;
  }
  writeBuffer(gpu, w[which][e.block], data, e.offset);
}
