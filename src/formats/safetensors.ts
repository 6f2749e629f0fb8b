// safetensors read/write (https://github.com/huggingface/safetensors), by byte range so a 1.5 GB checkpoint is never
// one buffer. Layout: 8-byte little-endian u64 N, then N bytes of UTF-8 JSON header, then the data section.
// Header: {"__metadata__": {str: str}?, "<tensor>": {"dtype", "shape", "data_offsets": [begin, end]}, ...}, offsets
// relative to the data section, tensors contiguous from 0 to the end of the file (the Rust library's validate()).
// Writing matches the Rust library byte for byte (safetensors/src/tensor.rs `prepare`): tensors ordered by dtype
// alignment descending then name (UTF-8 bytes), header keys in that order after "__metadata__", JSON without
// spaces, padded with spaces to a multiple of 8 bytes.
import type { ByteSource } from './bytes.ts';
import { excessiveNesting, MAX_JSON_DEPTH, parseJsonText, type JsonTextError } from './json_text.ts';

/** safetensors dtypes in the Rust enum's order (increasing alignment); serialization sorts by it, descending. */
export const DTYPES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64'] as const;
export type Dtype = (typeof DTYPES)[number];

export const DTYPE_SIZE: Record<Dtype, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

/** The Rust reader refuses headers above 100 MB; so do we (a bad length field must not allocate gigabytes). */
export const MAX_HEADER_SIZE = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** [begin, end) relative to the data section (file offset dataStart + begin). */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  file: string;
  /** File size in bytes. */
  size: number;
  /** N, the JSON header's byte length (including padding). */
  headerLength: number;
  /** 8 + N: file offset of the data section. */
  dataStart: number;
  metadata: Record<string, string> | null;
  /** Tensors in file order (by data offset). */
  tensors: Map<string, TensorInfo>;
}

/** A user-facing format error: names the file, the tensor when there is one, and what to do. */
export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    message: string,
    readonly tensor?: string,
  ) {
    super(`${file}: ${tensor !== undefined ? `tensor "${tensor}": ` : ''}${message}`);
    this.name = 'SafetensorsError';
  }
}

const REDOWNLOAD = 'the file is truncated or corrupt: delete it and download it again';

function isDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && (DTYPES as readonly string[]).includes(s);
}

/** Number of elements of a shape (1 for a scalar []). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Reads and validates the header of a safetensors file. Touches only the first 8 + N bytes. */
export async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsHeader> {
  const file = src.name;
  if (src.size < 8) {
    throw new SafetensorsError(file, `file is ${src.size} bytes, smaller than the 8-byte header length field; ${REDOWNLOAD}`);
  }
  const lenBytes = await src.read(0, 8);
  const dv = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
  const n = dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
  if (n > MAX_HEADER_SIZE) {
    throw new SafetensorsError(file, `header length field says ${n} bytes, above the format's ${MAX_HEADER_SIZE}-byte limit; this is not a safetensors file (or its first 8 bytes are damaged)`);
  }
  if (8 + n > src.size) {
    throw new SafetensorsError(file, `header length field says ${n} bytes but only ${src.size - 8} bytes follow it; ${REDOWNLOAD}`);
  }
  return parseSafetensorsHeader(file, src.size, await src.read(8, n));
}

/** Validates header JSON bytes (the N bytes after the length field) against a file of `size` bytes. */
export function parseSafetensorsHeader(file: string, size: number, headerBytes: Uint8Array): SafetensorsHeader {
  const n = headerBytes.byteLength;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw new SafetensorsError(file, `header is not valid UTF-8; ${REDOWNLOAD}`);
  }
  if (excessiveNesting(text) >= 0) throw new SafetensorsError(file, `header nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels; this is not a safetensors file`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(file, `header is not valid JSON (${(e as Error).message}); ${REDOWNLOAD}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new SafetensorsError(file, `header must be a JSON object of tensors, found ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}; this is not a safetensors file`);
  }
  let metadata: Record<string, string> | null = null;
  const infos: TensorInfo[] = [];
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(file, v);
      continue;
    }
    infos.push(parseTensorInfo(file, name, v));
  }
  // Contiguity, in file order: the first tensor starts at 0, each starts where the previous ended, the last ends
  // at the end of the file. Zero-size tensors sort before a tensor starting at the same offset.
  infos.sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let pos = 0;
  let prev: TensorInfo | null = null;
  for (const t of infos) {
    const [b, e] = t.dataOffsets;
    if (b < pos) {
      throw new SafetensorsError(file, `data_offsets [${b}, ${e}] overlap tensor "${prev!.name}" [${prev!.dataOffsets[0]}, ${prev!.dataOffsets[1]}]; the header is inconsistent — re-export the file`, t.name);
    }
    if (b > pos) {
      const after = prev ? `after tensor "${prev.name}" (ends at ${pos})` : 'at the start of the data section';
      throw new SafetensorsError(file, `data_offsets [${b}, ${e}] leave a gap of ${b - pos} bytes ${after} that no tensor covers; the header is inconsistent — re-export the file`, t.name);
    }
    pos = e;
    prev = t;
  }
  const expected = 8 + n + pos;
  if (expected > size) {
    throw new SafetensorsError(file, `the header describes ${pos} bytes of tensor data (file size ${expected}) but the file has ${size} bytes${prev ? `; tensor "${prev.name}" ends past the end of the file` : ''}; ${REDOWNLOAD}`);
  }
  if (expected < size) {
    throw new SafetensorsError(file, `${size - expected} bytes follow the last tensor${prev ? ` ("${prev.name}", ending at data offset ${pos})` : ''}; the header does not cover the whole file — the file is corrupt or was written incorrectly`);
  }
  return { file, size, headerLength: n, dataStart: 8 + n, metadata, tensors: new Map(infos.map((t) => [t.name, t])) };
}

function parseMetadata(file: string, v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new SafetensorsError(file, `"__metadata__" must be an object of strings, found ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  }
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') {
      throw new SafetensorsError(file, `"__metadata__"."${k}" must be a string (safetensors metadata is str → str), found ${s === null ? 'null' : typeof s}`);
    }
  }
  return { ...(v as Record<string, string>) };
}

function parseTensorInfo(file: string, name: string, v: unknown): TensorInfo {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new SafetensorsError(file, `entry must be an object {dtype, shape, data_offsets}, found ${v === null ? 'null' : typeof v}`, name);
  }
  const o = v as Record<string, unknown>;
  if (!isDtype(o.dtype)) {
    throw new SafetensorsError(file, `dtype ${JSON.stringify(o.dtype)} is not a safetensors dtype (expected one of ${DTYPES.join(', ')})`, name);
  }
  const shape = o.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new SafetensorsError(file, `shape must be an array of non-negative integers, found ${JSON.stringify(shape)}`, name);
  }
  const off = o.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && x >= 0) || off[1] < off[0]) {
    throw new SafetensorsError(file, `data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, found ${JSON.stringify(off)}`, name);
  }
  const count = numel(shape);
  const nbytes = count * DTYPE_SIZE[o.dtype];
  if (!Number.isSafeInteger(nbytes)) {
    throw new SafetensorsError(file, `shape ${JSON.stringify(shape)} is too large (${count} elements overflow)`, name);
  }
  if (off[1] - off[0] !== nbytes) {
    throw new SafetensorsError(file, `shape ${JSON.stringify(shape)} × ${o.dtype} (${DTYPE_SIZE[o.dtype]} bytes) = ${nbytes} bytes, but data_offsets [${off[0]}, ${off[1]}] span ${off[1] - off[0]} bytes; the header is inconsistent — re-export the file`, name);
  }
  return { name, dtype: o.dtype, shape: shape.slice(), dataOffsets: [off[0], off[1]] };
}

/** The raw little-endian bytes of one tensor, read by range. */
export async function readTensorBytes(src: ByteSource, header: SafetensorsHeader, name: string): Promise<Uint8Array> {
  const t = header.tensors.get(name);
  if (!t) {
    const near = [...header.tensors.keys()].filter((k) => k.endsWith(name.split('.').pop() ?? name)).slice(0, 3);
    throw new SafetensorsError(header.file, `no tensor named "${name}" (${header.tensors.size} tensors${near.length ? `; similar: ${near.join(', ')}` : ''})`);
  }
  if (src.size !== header.size) {
    throw new SafetensorsError(header.file, `file size changed from ${header.size} to ${src.size} bytes since its header was read; read the header again`);
  }
  return src.read(header.dataStart + t.dataOffsets[0], t.dataOffsets[1] - t.dataOffsets[0]);
}

// ---------------------------------------------------------------------------------------------- writing

export interface TensorToWrite {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Little-endian element bytes, C order; byteLength must be numel(shape) × DTYPE_SIZE[dtype]. */
  data: Uint8Array;
}

const utf8 = new TextEncoder();

function compareUtf8(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Serializes tensors to safetensors as a list of parts (8-byte length, header, then each tensor's data as given,
 * not copied): write them one after the other to a file or a Blob. Byte-identical to Python's
 * `safetensors.torch.save_file` for the same tensors and metadata (metadata keys sorted; Rust leaves a multi-key
 * map in hash order).
 */
export function serializeSafetensors(tensors: TensorToWrite[], metadata?: Record<string, string> | null): Uint8Array[] {
  const seen = new Set<string>();
  const items = tensors.map((t) => {
    if (t.name === '__metadata__') throw new SafetensorsError('(serialize)', '"__metadata__" is reserved and cannot name a tensor', t.name);
    if (seen.has(t.name)) throw new SafetensorsError('(serialize)', 'tensor name given twice', t.name);
    seen.add(t.name);
    if (!isDtype(t.dtype)) throw new SafetensorsError('(serialize)', `unknown dtype ${JSON.stringify(t.dtype)}`, t.name);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw new SafetensorsError('(serialize)', `bad shape ${JSON.stringify(t.shape)}`, t.name);
    const nbytes = numel(t.shape) * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== nbytes) {
      throw new SafetensorsError('(serialize)', `data has ${t.data.byteLength} bytes but shape ${JSON.stringify(t.shape)} × ${t.dtype} needs ${nbytes}`, t.name);
    }
    return { t, key: utf8.encode(t.name), rank: DTYPES.indexOf(t.dtype) };
  });
  items.sort((a, b) => b.rank - a.rank || compareUtf8(a.key, b.key));

  const fields: string[] = [];
  if (metadata) {
    const keys = Object.keys(metadata).sort();
    fields.push(`"__metadata__":{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(metadata[k]))}`).join(',')}}`);
  }
  let offset = 0;
  for (const { t } of items) {
    const end = offset + t.data.byteLength;
    fields.push(`${JSON.stringify(t.name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = utf8.encode(`{${fields.join(',')}}`);
  const pad = (8 - (json.length % 8)) % 8;
  const header = new Uint8Array(json.length + pad).fill(0x20);
  header.set(json);
  const len = new Uint8Array(8);
  const dv = new DataView(len.buffer);
  dv.setUint32(0, header.length % 2 ** 32, true);
  dv.setUint32(4, Math.floor(header.length / 2 ** 32), true);
  return [len, header, ...items.map(({ t }) => t.data)];
}

/** Concatenates parts into one buffer (small files and tests only). */
export function concatParts(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- sharded models

export const SAFETENSORS_INDEX_FILE = 'model.safetensors.index.json';

export interface SafetensorsIndex {
  metadata: Record<string, unknown>;
  /** tensor name → shard file name (relative to the model folder). */
  weightMap: Record<string, string>;
}

/** Parses `model.safetensors.index.json` ({"metadata": {...}, "weight_map": {tensor: shard}}). */
export function parseSafetensorsIndex(text: string, file = SAFETENSORS_INDEX_FILE): SafetensorsIndex {
  let json: unknown;
  try {
    json = parseJsonText(text, file);
  } catch (e) {
    throw new SafetensorsError(file, `${(e as JsonTextError).reason ?? (e as Error).message}; download it again`);
  }
  const o = json as Record<string, unknown>;
  if (o === null || typeof o !== 'object' || o.weight_map === null || typeof o.weight_map !== 'object' || Array.isArray(o.weight_map)) {
    throw new SafetensorsError(file, 'expected an object with a "weight_map" object {tensor name: shard file}');
  }
  for (const [k, v] of Object.entries(o.weight_map as Record<string, unknown>)) {
    if (typeof v !== 'string' || !v.endsWith('.safetensors') || v.includes('..') || v.startsWith('/')) {
      throw new SafetensorsError(file, `weight_map["${k}"] must be a .safetensors file name in the model folder, found ${JSON.stringify(v)}`);
    }
  }
  const metadata = o.metadata && typeof o.metadata === 'object' ? (o.metadata as Record<string, unknown>) : {};
  return { metadata, weightMap: { ...(o.weight_map as Record<string, string>) } };
}

/** The distinct shard files an index names, sorted. */
export function shardFiles(index: SafetensorsIndex): string[] {
  return [...new Set(Object.values(index.weightMap))].sort();
}

export interface TensorLocation {
  source: ByteSource;
  header: SafetensorsHeader;
  info: TensorInfo;
}

/**
 * Reads the headers of one or more safetensors files (a single checkpoint, or every shard of an index) and maps
 * each tensor name to where it lives. With an index, checks that every weight_map entry is in the shard it names
 * and that no shard holds a tensor the index does not list. Sources are named by file (ByteSource.name).
 */
export async function locateTensors(sources: ByteSource[], index?: SafetensorsIndex): Promise<Map<string, TensorLocation>> {
  const out = new Map<string, TensorLocation>();
  for (const source of sources) {
    const header = await readSafetensorsHeader(source);
    for (const info of header.tensors.values()) {
      const prev = out.get(info.name);
      if (prev) throw new SafetensorsError(source.name, `also present in ${prev.source.name}; a tensor must live in one shard`, info.name);
      if (index && index.weightMap[info.name] !== undefined && baseName(index.weightMap[info.name]) !== baseName(source.name)) {
        throw new SafetensorsError(source.name, `the index maps it to ${index.weightMap[info.name]}; the index and the shards disagree — download the model again`, info.name);
      }
      if (index && index.weightMap[info.name] === undefined) {
        throw new SafetensorsError(source.name, `not listed in ${SAFETENSORS_INDEX_FILE}'s weight_map; the index and the shards disagree — download the model again`, info.name);
      }
      out.set(info.name, { source, header, info });
    }
  }
  if (index) {
    for (const [name, shard] of Object.entries(index.weightMap)) {
      if (!out.has(name)) {
        throw new SafetensorsError(SAFETENSORS_INDEX_FILE, `weight_map names tensor "${name}" in ${shard}, but ${sources.some((s) => baseName(s.name) === baseName(shard)) ? 'that shard does not contain it' : 'that shard was not provided'}`);
      }
    }
  }
  return out;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

// ---------------------------------------------------------------------------------------------- bf16

/** f32 → bf16 bits, round to nearest even (torch's `.to(torch.bfloat16)`); NaN → 0x7fc0 (quiet, sign kept). */
export function f32ToBf16(x: Float32Array): Uint16Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const b = u[i];
    if ((b & 0x7fffffff) > 0x7f800000) out[i] = ((b >>> 16) & 0x8000) | 0x7fc0;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** bf16 bits → f32 (exact). */
export function bf16ToF32(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  const u = new Uint32Array(out.buffer);
  for (let i = 0; i < h.length; i++) u[i] = h[i] << 16;
  return out;
}
