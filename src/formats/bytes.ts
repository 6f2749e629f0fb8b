// Byte sources: random access to a file's bytes without holding the whole file. A 1.5 GB safetensors file or a
// 130 MB parquet file is read by range from wherever it lives (a browser File, an IndexedDB-stored download, a
// Node file, a buffer). Node's file source is in bytes-node.ts so this module stays browser-safe.

/** Random read access to a file of known size. `read` returns exactly `length` bytes or throws. */
export interface ByteSource {
  /** A name for error messages (file name or storage key). */
  name: string;
  /** Total size in bytes. */
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** hyparquet's AsyncBuffer (`import type { AsyncBuffer } from 'hyparquet'`), restated to keep formats/ free of it. */
export interface AsyncBufferLike {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/** Throws a RangeError naming the source if [offset, offset+length) is not inside it. */
export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new RangeError(`${src.name}: invalid read of ${length} bytes at offset ${offset}`);
  }
  if (offset + length > src.size) {
    throw new RangeError(
      `${src.name}: read of ${length} bytes at offset ${offset} runs past the end of the file (${src.size} bytes); ` +
        `the file is truncated or the offsets that point here are wrong`,
    );
  }
}

/** A source over bytes already in memory (tests, small files). */
export function bytesSource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.byteLength,
    async read(offset, length) {
      checkRange(this, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
}

/** A source over a browser Blob or File (drag-and-drop, `<input type=file>`); reads by `slice`. */
export function blobSource(blob: Blob, name = (blob as File).name ?? 'blob'): ByteSource {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(this, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** Adapts a ByteSource to hyparquet's AsyncBuffer (`slice(start, end)` → ArrayBuffer of exactly that range). */
export function toAsyncBuffer(src: ByteSource): AsyncBufferLike {
  return {
    byteLength: src.size,
    async slice(start: number, end: number = src.size): Promise<ArrayBuffer> {
      const s = Math.max(0, Math.min(start, src.size));
      const e = Math.max(s, Math.min(end, src.size));
      const u = await src.read(s, e - s);
      if (u.byteOffset === 0 && u.byteLength === u.buffer.byteLength && u.buffer instanceof ArrayBuffer) return u.buffer;
      return u.slice().buffer as ArrayBuffer;
    },
  };
}

/** Reads a whole (small) source as UTF-8 text: config.json, tokenizer files, index files. */
export async function readText(src: ByteSource): Promise<string> {
  return new TextDecoder('utf-8', { fatal: true }).decode(await src.read(0, src.size));
}

/** Streams a source in pieces of at most `pieceSize` bytes, in order. */
export async function* readPieces(src: ByteSource, pieceSize = 8 << 20, start = 0, end = src.size): AsyncGenerator<Uint8Array> {
  for (let o = start; o < end; o += pieceSize) yield await src.read(o, Math.min(pieceSize, end - o));
}
