// Imported preference sets, stored in the browser's FileStore like a Hub dataset so they outlive the tab:
//   imports/<id>/pairs.jsonl   the accepted valid pairs, one JSON object per line in file order, TRL's column names
//                              (prompt?, chosen, rejected | chosen_ids, rejected_ids, margin?, other columns kept)
//   imports/<id>/lines.json    the line of the dropped file each pair came from (a JSON array, parallel to pairs.jsonl),
//                              so Inspect names lines of the user's own file, not of a split
//   imports/<id>/import.json   ImportMeta: the file's name, format, pair count, the content's sha256 and the split
// pairs.jsonl is written first and import.json last: an import exists once its metadata is complete.
// The split is metadata, not a copy of the rows: the test rows are the last ⌈test_size·n⌉ (or test_size) entries of
// the seeded permutation src/data/split.ts's trainTestSplit draws over the row indices, so changing test_size or the
// seed rewrites only import.json. Each split reads pairs.jsonl as a stream and keeps its own lines (in file order).
import { sha256Hex } from '../data/hash.ts';
import type { PreferencePair } from '../data/records.ts';
import { trainTestSplit } from '../data/split.ts';
import { openStoredFile, type FileStore } from '../data/storage.ts';
import { readPieces, type ByteSource } from '../formats/bytes.ts';
import type { ByteSource as StreamSource } from '../data/jsonl.ts';
import type { ImportSplit, StoredImport } from './protocol.ts';
import { putStoredBytes, readStoredBytes } from './stored_bytes.ts';

export const IMPORTS_PREFIX = 'imports/';
export const PAIRS_FILE = 'pairs.jsonl';
export const META_FILE = 'import.json';
export const LINES_FILE = 'lines.json';

/** datasets' train_test_split has no default seed; ours is 42 with 10% test rows. */
export const DEFAULT_IMPORT_SPLIT: ImportSplit = { kind: 'seeded', test_size: 0.1, seed: 42 };

export interface ImportMeta {
  version: 1;
  id: string;
  name: string;
  createdAt: number;
  format: StoredImport['format'];
  /** True when the rows had an explicit prompt column (absent in imports stored before it was kept). */
  explicitPrompt?: boolean;
  pairs: number;
  /** sha256 (hex) of pairs.jsonl: the import's revision in the tokenized-dataset cache key. */
  sha256: string;
  split: ImportSplit;
}

/** A user-facing problem with an import (message says what, fix says what to do). */
export class ImportStoreError extends Error {
  override name = 'ImportStoreError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

export function importKey(id: string, file: string): string {
  return `${IMPORTS_PREFIX}${id}/${file}`;
}

/** The id of an import from one of its storage keys (null for other keys). */
export function importIdOfKey(key: string): string | null {
  return key.startsWith(IMPORTS_PREFIX) ? key.slice(IMPORTS_PREFIX.length).split('/')[0] || null : null;
}

/** A validated pair as a JSONL row with TRL's column names; reading the row back validates to the same pair. */
export function pairToRow(p: PreferencePair): Record<string, unknown> {
  const margin = p.margin !== undefined ? { margin: p.margin } : {};
  if (p.format === 'tokenized') return { ...p.extra, chosen_ids: p.chosen_ids, rejected_ids: p.rejected_ids, ...margin };
  return { ...p.extra, ...(p.prompt !== undefined ? { prompt: p.prompt } : {}), chosen: p.chosen, rejected: p.rejected, ...margin };
}

/**
 * 1 for the rows of the test split, 0 for train. Throws ImportStoreError naming the field when test_size does not fit
 * n rows (trainTestSplit's rules: a fraction in (0, 1) or a whole count ≥ 1, leaving at least one training row).
 */
export function testMask(n: number, split: ImportSplit): Uint8Array {
  const mask = new Uint8Array(n);
  if (split.kind === 'whole') {
    if (split.split === 'test') mask.fill(1);
    return mask;
  }
  if (!Number.isInteger(split.seed) || split.seed < 0) {
    throw new ImportStoreError(`seed: expected a whole number ≥ 0, got ${split.seed}.`, 'Set the split seed to a whole number such as 42.');
  }
  let test: number[];
  try {
    test = trainTestSplit(Array.from({ length: n }, (_, i) => i), { test_size: split.test_size, seed: split.seed }).test;
  } catch (e) {
    throw new ImportStoreError(`The split does not fit ${n} pairs: ${(e as Error).message}.`, `Set test_size to a fraction such as 0.1, or a number of test pairs below ${n}.`);
  }
  for (const i of test) mask[i] = 1;
  return mask;
}

export function splitCounts(n: number, split: ImportSplit): { train: number; test: number } {
  const test = testMask(n, split).reduce((a, b) => a + b, 0);
  return { train: n - test, test };
}

/** The splits that have rows, train first. */
export function splitsOfImport(meta: ImportMeta): ('train' | 'test')[] {
  const c = splitCounts(meta.pairs, meta.split);
  return (['train', 'test'] as const).filter((s) => c[s] > 0);
}

/** A string naming the content and the split, for cache keys: `<sha256 16 hex>-t<test_size>-s<seed>` or `-whole-<split>`. */
export function importRevision(meta: ImportMeta): string {
  const s = meta.split;
  return `${meta.sha256.slice(0, 16)}-${s.kind === 'whole' ? `whole-${s.split}` : `t${s.test_size}-s${s.seed}`}`;
}

export async function readImportMeta(store: FileStore, id: string): Promise<ImportMeta | null> {
  const bytes = await readStoredBytes(store, importKey(id, META_FILE));
  if (!bytes) return null;
  const meta = JSON.parse(new TextDecoder().decode(bytes)) as ImportMeta;
  // the pairs must be complete too (pairs.jsonl is written before the metadata)
  const pairs = await store.stat(importKey(id, PAIRS_FILE));
  return pairs?.complete ? meta : null;
}

async function writeMeta(store: FileStore, meta: ImportMeta): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(meta, null, 2) + '\n');
  await putStoredBytes(store, importKey(meta.id, META_FILE), [bytes], `import:${await sha256Hex(bytes)}`);
}

/** What the page shows for a stored import. */
export async function describeImport(store: FileStore, meta: ImportMeta): Promise<StoredImport> {
  const files: StoredImport['files'] = [];
  for (const path of [PAIRS_FILE, LINES_FILE, META_FILE]) {
    const key = importKey(meta.id, path);
    const f = await store.stat(key);
    if (f) files.push({ key, path, bytes: f.storedBytes });
  }
  return { id: meta.id, name: meta.name, createdAt: meta.createdAt, format: meta.format, ...(meta.explicitPrompt ? { explicitPrompt: true } : {}), pairs: meta.pairs, split: meta.split, splits: splitCounts(meta.pairs, meta.split), files };
}

/** Stores the accepted pairs of a file with its split; returns what the page shows. */
export async function storeImport(
  store: FileStore,
  o: { id: string; name: string; records: PreferencePair[]; split: ImportSplit; createdAt?: number; /** 1-based source line of each record. */ lines?: number[] },
): Promise<StoredImport> {
  if (o.lines && o.lines.length !== o.records.length) throw new Error(`storeImport: ${o.lines.length} lines for ${o.records.length} records`);
  if (o.records.length === 0) throw new ImportStoreError(`${o.name}: no valid pair to import.`, 'Fix the lines listed, then drop the file again.');
  testMask(o.records.length, o.split); // refuse a split that does not fit before writing anything
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let batch = '';
  for (const r of o.records) {
    batch += JSON.stringify(pairToRow(r)) + '\n';
    if (batch.length >= 1 << 20) {
      parts.push(enc.encode(batch));
      batch = '';
    }
  }
  if (batch) parts.push(enc.encode(batch));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    all.set(p, off);
    off += p.byteLength;
  }
  const sha256 = await sha256Hex(all);
  await putStoredBytes(store, importKey(o.id, PAIRS_FILE), [all], `import:${sha256}`);
  if (o.lines) await putStoredBytes(store, importKey(o.id, LINES_FILE), [enc.encode(JSON.stringify(o.lines))], `lines:${sha256}`);
  const meta: ImportMeta = { version: 1, id: o.id, name: o.name, createdAt: o.createdAt ?? Date.now(), format: o.records[0].format, ...('prompt' in o.records[0] && o.records[0].prompt !== undefined ? { explicitPrompt: true } : {}), pairs: o.records.length, sha256, split: o.split };
  await writeMeta(store, meta);
  return describeImport(store, meta);
}

export async function resplitImport(store: FileStore, id: string, split: ImportSplit): Promise<StoredImport> {
  const meta = await readImportMeta(store, id);
  if (!meta) throw new ImportStoreError('That import is no longer stored in this browser.', 'Drop the JSONL file again.');
  testMask(meta.pairs, split);
  const next = { ...meta, split };
  await writeMeta(store, next);
  return describeImport(store, next);
}

/** Every complete import, newest first. */
export async function listStoredImports(store: FileStore): Promise<StoredImport[]> {
  const ids = new Set<string>();
  for (const f of await store.list()) {
    const id = importIdOfKey(f.key);
    if (id && f.key === importKey(id, META_FILE)) ids.add(id);
  }
  const out: StoredImport[] = [];
  for (const id of ids) {
    const meta = await readImportMeta(store, id);
    if (meta) out.push(await describeImport(store, meta));
  }
  return out.sort((a, b) => b.createdAt - a.createdAt);
}

/** Deletes the import's files (metadata first, so a half-deleted import is not listed). */
export async function deleteImport(store: FileStore, id: string): Promise<void> {
  await store.delete(importKey(id, META_FILE));
  await store.delete(importKey(id, PAIRS_FILE));
  await store.delete(importKey(id, LINES_FILE));
}

/** The source-file line of each stored pair (null for imports stored before lines were kept). */
async function readSourceLines(store: FileStore, meta: ImportMeta): Promise<number[] | null> {
  const b = await readStoredBytes(store, importKey(meta.id, LINES_FILE));
  if (!b) return null;
  const lines = JSON.parse(new TextDecoder().decode(b)) as unknown;
  return Array.isArray(lines) && lines.length === meta.pairs ? (lines as number[]) : null;
}

/** The lines of `src` whose 0-based index i has mask[i] === want, read `pieceSize` bytes at a time, out in ~1 MiB pieces. */
export async function* maskedLines(src: ByteSource, mask: Uint8Array, want: number, pieceSize = 1 << 20): AsyncGenerator<Uint8Array> {
  let line = 0;
  let out: Uint8Array[] = [];
  let outBytes = 0;
  let carry: Uint8Array[] = []; // the current line's bytes from earlier pieces
  const keep = (b: Uint8Array) => {
    out.push(b);
    outBytes += b.byteLength;
  };
  for await (const piece of readPieces(src, pieceSize)) {
    let start = 0;
    for (let i = piece.indexOf(10); i >= 0; i = piece.indexOf(10, start)) {
      if (mask[line] === want) {
        for (const c of carry) keep(c);
        keep(piece.subarray(start, i + 1));
      }
      carry = [];
      line++;
      start = i + 1;
    }
    if (start < piece.byteLength) carry.push(piece.slice(start));
    if (outBytes >= 1 << 20) {
      yield* out;
      out = [];
      outBytes = 0;
    }
  }
  if (carry.length && mask[line] === want) for (const c of carry) keep(c);
  yield* out;
}

/**
 * The import's splits as JSONL streams (each split keeps its lines of pairs.jsonl, in file order), with `lineOf`:
 * a split's 1-based line → the line of the dropped file it came from (when the import kept them).
 */
export async function importSplitSources(store: FileStore, meta: ImportMeta): Promise<{ split: 'train' | 'test'; name: string; open: () => StreamSource; lineOf?: (line: number) => number }[]> {
  const src = await openStoredFile(store, importKey(meta.id, PAIRS_FILE));
  const mask = testMask(meta.pairs, meta.split);
  const source = await readSourceLines(store, meta);
  return splitsOfImport(meta).map((split) => {
    const want = split === 'test' ? 1 : 0;
    const of = source ? source.filter((_, i) => mask[i] === want) : null;
    return { split, name: `${meta.name} (${split})`, open: () => maskedLines(src, mask, want), ...(of ? { lineOf: (line: number) => of[line - 1] ?? line } : {}) };
  });
}
