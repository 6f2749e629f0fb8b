// Whole files the studio writes itself into the FileStore (imports, their metadata, the tokenized-dataset cache), on
// the store's chunked append contract: begin, chunks of exactly chunkSize (the last one shorter), then complete. A
// write cut short leaves a partial file, which readStoredBytes treats as absent; writing it again starts it over.
import type { FileStore } from '../data/storage.ts';

/** Writes `parts` (concatenated) as the complete file `key`; `etag` names the content (a hash of it). */
export async function putStoredBytes(store: FileStore, key: string, parts: Uint8Array[], etag: string): Promise<void> {
  const size = parts.reduce((n, p) => n + p.byteLength, 0);
  if (size === 0) throw new Error(`${key}: refusing to store an empty file`);
  const old = await store.stat(key);
  if (old && old.complete && old.size === size && old.etag === etag) return;
  if (old) await store.delete(key);
  const f = await store.beginFile(key, { size, etag });
  const cs = f.chunkSize;
  // re-cut the parts into chunks of exactly cs bytes
  let chunk = new Uint8Array(Math.min(cs, size));
  let filled = 0;
  let written = 0;
  for (const p of parts) {
    let o = 0;
    while (o < p.byteLength) {
      const n = Math.min(chunk.byteLength - filled, p.byteLength - o);
      chunk.set(p.subarray(o, o + n), filled);
      filled += n;
      o += n;
      if (filled === chunk.byteLength) {
        await store.appendChunk(key, chunk);
        written += filled;
        chunk = new Uint8Array(Math.min(cs, size - written));
        filled = 0;
      }
    }
  }
  await store.markComplete(key);
}

/** The bytes of a complete stored file, or null when it is absent or partial. */
export async function readStoredBytes(store: FileStore, key: string): Promise<Uint8Array | null> {
  const f = await store.stat(key);
  if (!f || !f.complete) return null;
  return store.readRange(key, 0, f.size);
}

/** An ArrayBuffer holding exactly `b` (b itself when it spans its whole buffer). */
export function exactBuffer(b: Uint8Array): ArrayBuffer {
  return b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : (b.slice().buffer as ArrayBuffer);
}
