// Preference rows from parquet (the Hub's dataset format, e.g. trl-lib/ultrafeedback_binarized with its nested
// list<struct<content, role>> columns), read row group by row group from an AsyncBuffer (hyparquet's byte-range
// reader), so a 130 MB shard is never one ArrayBuffer: hyparquet fetches only the column chunks of the requested rows.
// Snappy, gzip, zstd, brotli and lz4 pages decode through hyparquet-compressors. Every row then goes through the same
// validator as JSONL (validate.ts via collect.ts). Row numbers in messages are 0-based, as `dataset[i]`.

import { type AsyncBuffer, type FileMetaData, type SchemaTree, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { PreferenceCollector, type CollectOptions } from './collect.ts';
import type { PreferenceImport } from './records.ts';
import { UserError } from '../util/user_error.ts';

export type { AsyncBuffer } from 'hyparquet';

export interface ParquetColumn {
  name: string;
  /** Arrow-style type: `list<struct<content: string, role: string>>`, `double`, `int64`, `string`, ... */
  type: string;
}

export interface ParquetProgress {
  rowsRead: number;
  totalRows: number;
}

export interface ParquetReadOptions {
  /** Read only these top-level columns (default all). */
  columns?: string[];
  onProgress?: (p: ParquetProgress) => void;
  signal?: AbortSignal;
  /** Metadata already read (parquetMetadataAsync), to avoid reading the footer twice. */
  metadata?: FileMetaData;
  /** The file's name, for messages. */
  name?: string;
}

/** A parquet file that cannot be read (damaged footer, lying sizes, bad pages): names the file and the row group. */
export class ParquetFileError extends UserError {
  override name = 'ParquetFileError';
}

/** Rows per row group and per file beyond which a footer is taken to be lying (a row needs at least a bit per column
 *  in the file, and no preference dataset shard comes near 2^31 rows). */
const MAX_ROWS = 2 ** 31 - 1;

/** Whether `path` (a column chunk's path_in_schema) leads from the root to a leaf of the schema tree. */
function schemaLeaf(tree: SchemaTree, path: readonly unknown[]): boolean {
  if (path.length === 0) return false;
  let node = tree;
  for (const part of path) {
    const child = node.children.find((c) => c.element.name === part);
    if (!child) return false;
    node = child;
  }
  return node.children.length === 0;
}

async function readFooter(file: AsyncBuffer, name: string): Promise<FileMetaData> {
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (e) {
    throw new ParquetFileError(`${name}: not a readable parquet file (${(e as Error).message}); download it again or re-export it`);
  }
  const rows = Number(metadata.num_rows);
  const sum = metadata.row_groups.reduce((n, rg) => n + Number(rg.num_rows), 0);
  if (!(rows >= 0 && rows <= MAX_ROWS) || metadata.row_groups.some((rg) => !(Number(rg.num_rows) >= 0)) || sum !== rows) {
    throw new ParquetFileError(`${name}: the footer's row counts are inconsistent (num_rows ${rows}, row groups sum to ${sum}); the file is damaged — download it again`);
  }
  let tree: SchemaTree;
  try {
    tree = parquetSchema(metadata);
  } catch (e) {
    throw new ParquetFileError(`${name}: the footer's schema cannot be read (${(e as Error).message}); the file is damaged — download it again`);
  }
  // Every column chunk must lie inside the file: a lying offset or size made the page reader spin (found by npm run fuzz).
  const size = file.byteLength;
  for (const [g, rg] of metadata.row_groups.entries()) {
    for (const cc of rg.columns) {
      const m = cc.meta_data;
      if (!m) continue;
      // Every chunk's path must name a leaf of the schema. hyparquet resolves the paths one chunk at a time while it
      // starts the reads of the chunks before it; an unknown path threw synchronously there and left those reads'
      // promises unobserved, so a damaged earlier chunk rejected later as an unhandled rejection that ended the
      // process (a worker in `npm run fuzz`, the CLI with exit 1). Checked here, before any read starts.
      const path = Array.isArray(m.path_in_schema) ? m.path_in_schema : [];
      if (!schemaLeaf(tree, path)) {
        throw new ParquetFileError(`${name}: row group ${g}: a column chunk names the column "${path.join('.')}", which the schema does not have as a leaf; the file is damaged — download it again`);
      }
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      const end = Math.max(start, Number(m.data_page_offset)) + Number(m.total_compressed_size);
      const offsets = [Number(cc.file_offset), Number(m.data_page_offset), start];
      if (offsets.some((x) => !(x >= 0 && x <= size)) || !(Number(m.total_compressed_size) >= 0) || !(Number(m.data_page_offset) + Number(m.total_compressed_size) <= size) || !(end <= size + Number(m.total_compressed_size))) {
        throw new ParquetFileError(`${name}: row group ${g}, column ${m.path_in_schema.join('.')}: its pages lie outside the file (offset ${Number(m.data_page_offset)}, ${Number(m.total_compressed_size)} bytes, file ${size} bytes); the file is damaged — download it again`);
      }
    }
  }
  return metadata;
}

/** Number of rows and row groups of a parquet file, from its footer. */
export async function parquetInfo(file: AsyncBuffer, name = 'parquet file'): Promise<{ metadata: FileMetaData; numRows: number; rowGroups: number; columns: ParquetColumn[] }> {
  const metadata = await readFooter(file, name);
  return { metadata, numRows: Number(metadata.num_rows), rowGroups: metadata.row_groups.length, columns: parquetColumns(metadata) };
}

function leafType(t: SchemaTree['element']): string {
  const lt = t.logical_type?.type;
  const ct = t.converted_type;
  if (lt === 'STRING' || ct === 'UTF8' || ct === 'ENUM' || lt === 'ENUM') return 'string';
  if (lt === 'JSON' || ct === 'JSON') return 'json';
  if (lt === 'DATE' || ct === 'DATE') return 'date32';
  if (lt === 'DECIMAL' || ct === 'DECIMAL') return `decimal(${t.precision}, ${t.scale})`;
  if (lt === 'TIMESTAMP' || ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS') return 'timestamp';
  if (lt === 'FLOAT16') return 'float16';
  switch (t.type) {
    case 'BOOLEAN': return 'bool';
    case 'INT32': return ct?.startsWith('UINT') ? 'uint32' : ct === 'INT_8' ? 'int8' : ct === 'INT_16' ? 'int16' : 'int32';
    case 'INT64': return ct === 'UINT_64' ? 'uint64' : 'int64';
    case 'INT96': return 'timestamp';
    case 'FLOAT': return 'float';
    case 'DOUBLE': return 'double';
    default: return 'binary';
  }
}

function describeNode(node: SchemaTree): string {
  const el = node.element;
  const isList = el.converted_type === 'LIST' || el.logical_type?.type === 'LIST';
  const isMap = el.converted_type === 'MAP' || el.converted_type === 'MAP_KEY_VALUE' || el.logical_type?.type === 'MAP';
  let t: string;
  if (isList && node.children.length === 1) {
    const rep = node.children[0];
    // 3-level list: LIST > repeated group (one child) > element. Legacy 2-level: the repeated node is the element.
    const three = rep.children.length === 1 && rep.element.name !== 'array' && !rep.element.name.endsWith('_tuple');
    t = `list<${three ? describeNode(rep.children[0]) : describeBase(rep)}>`;
  } else if (isMap && node.children.length === 1 && node.children[0].children.length === 2) {
    const [k, v] = node.children[0].children;
    t = `map<${describeNode(k)}, ${describeNode(v)}>`;
  } else {
    return el.repetition_type === 'REPEATED' ? `list<${describeBase(node)}>` : describeBase(node);
  }
  return el.repetition_type === 'REPEATED' ? `list<${t}>` : t;
}

/** A node's own type, ignoring its repetition. */
function describeBase(node: SchemaTree): string {
  if (node.children.length === 0) return leafType(node.element);
  return `struct<${node.children.map((c) => `${c.element.name}: ${describeNode(c)}`).join(', ')}>`;
}

/** Top-level columns and their types. */
export function parquetColumns(metadata: FileMetaData): ParquetColumn[] {
  return parquetSchema(metadata).children.map((c) => ({ name: c.element.name, type: describeNode(c) }));
}

/** BigInt (int64 columns) → number, typed arrays → plain arrays, recursively, so rows look like parsed JSON. */
export function jsonLike(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(jsonLike);
  if (ArrayBuffer.isView(v) && !(v instanceof Uint8Array) && !(v instanceof DataView)) {
    return Array.from(v as unknown as ArrayLike<number | bigint>, jsonLike);
  }
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonLike(x);
    return out;
  }
  return v;
}

/** Rows of a parquet file, one row group at a time (`rowStart` is the 0-based index of the group's first row). */
export async function* readParquetRowGroups(
  file: AsyncBuffer,
  opts: ParquetReadOptions = {},
): AsyncGenerator<{ rowStart: number; rows: Record<string, unknown>[] }> {
  const name = opts.name ?? 'parquet file';
  const metadata = opts.metadata ?? (await readFooter(file, name));
  const totalRows = Number(metadata.num_rows);
  let rowStart = 0;
  for (const [g, rg] of metadata.row_groups.entries()) {
    opts.signal?.throwIfAborted();
    const n = Number(rg.num_rows);
    if (n === 0) continue;
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({
        file,
        metadata,
        rowStart,
        rowEnd: rowStart + n,
        compressors,
        ...(opts.columns ? { columns: opts.columns } : {}),
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      throw new ParquetFileError(`${name}: row group ${g} (rows ${rowStart}–${rowStart + n - 1}, 0-based) cannot be read (${(e as Error).message}); the file is damaged — download it again`);
    }
    if (rows.length !== n) {
      throw new ParquetFileError(`${name}: row group ${g} holds ${rows.length} rows but the footer says ${n}; the file is damaged — download it again`);
    }
    yield { rowStart, rows: rows.map((r) => jsonLike(r) as Record<string, unknown>) };
    rowStart += n;
    opts.onProgress?.({ rowsRead: rowStart, totalRows });
  }
}

/** Read a preference parquet file: every row validated, then the caller chooses what to import. `rowOffset` numbers
 *  rows after those of earlier shards of the same split. */
export async function readPreferenceParquet(
  file: AsyncBuffer,
  opts: ParquetReadOptions & CollectOptions & { rowOffset?: number; collector?: PreferenceCollector } = {},
): Promise<PreferenceImport> {
  const collector = opts.collector ?? new PreferenceCollector(opts);
  const offset = opts.rowOffset ?? 0;
  for await (const { rowStart, rows } of readParquetRowGroups(file, opts)) {
    for (let i = 0; i < rows.length; i++) collector.addRow({ kind: 'row', row: offset + rowStart + i }, rows[i]);
  }
  return collector.result();
}
