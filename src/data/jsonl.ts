// Streaming JSONL reader for preference files (and score files). The input is a byte stream (a File's stream() in the
// browser worker, fs.createReadStream in Node, or any async iterable of chunks); the file is never held as one string.
// Lines are split on the byte 0x0A (never part of a multi-byte UTF-8 sequence, so chunk boundaries cannot split a
// character wrongly) and each complete line is decoded on its own with a fatal TextDecoder, so invalid UTF-8 is reported
// with its line and byte instead of silently becoming U+FFFD.
// Rules (documented for users):
//   - a UTF-8 byte order mark at the start of the file is stripped; CRLF line endings are accepted;
//   - whitespace-only lines anywhere (including trailing ones) are skipped and counted, not errors — like pandas'
//     read_json(lines=True) and pyarrow's JSON reader, which `datasets` uses;
//   - the last line may lack a newline;
//   - a line longer than maxLineBytes (default 16 MiB) is an error; its bytes are dropped as they arrive;
//   - a line nesting arrays/objects deeper than MAX_JSON_DEPTH (100) is an error naming its column, checked before
//     the value is walked (validators, JSON.stringify and inspection all recurse);
//   - line numbers are physical 1-based line numbers, as an editor shows them.

import { PreferenceCollector, type CollectOptions } from './collect.ts';
import { locateJsonError } from './json-error.ts';
import { excessiveNesting, MAX_JSON_DEPTH } from '../formats/json_text.ts';
import type { DataIssue, PreferenceImport, ScoreRecord } from './records.ts';
import { validateScoreRow, type RowOptions } from './validate.ts';

export type ByteSource = ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>;

export interface JsonlProgress {
  bytesRead: number;
  lines: number;
}

export interface JsonlOptions {
  /** Longest accepted line in bytes (without the newline). Default 16 MiB. */
  maxLineBytes?: number;
  /** Called about every MiB read and once at the end. */
  onProgress?: (p: JsonlProgress) => void;
  signal?: AbortSignal;
}

/** One physical line, already classified. */
export type JsonlEvent =
  | { kind: 'value'; line: number; value: unknown }
  | { kind: 'blank'; line: number }
  | { kind: 'issue'; issue: DataIssue };

/** File-level facts noticed while reading. */
export interface JsonlFileInfo {
  bom: boolean;
  crlf: boolean;
}

export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
const PROGRESS_EVERY = 1 << 20;

async function* chunksOf(source: ByteSource): AsyncGenerator<Uint8Array> {
  const enc = new TextEncoder();
  if (typeof (source as ReadableStream).getReader === 'function') {
    const reader = (source as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      reader.releaseLock();
    }
  }
  for await (const c of source as AsyncIterable<Uint8Array | string>) yield typeof c === 'string' ? enc.encode(c) : c;
}

/** Index of the first byte of an invalid UTF-8 sequence (fatal decoding failed there), or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const x = b[i];
    // n continuation bytes and the smallest code point that may use this length (shorter forms are overlong).
    const [n, min] = x < 0x80 ? [0, 0] : x >= 0xc2 && x <= 0xdf ? [1, 0x80] : x >= 0xe0 && x <= 0xef ? [2, 0x800] : x >= 0xf0 && x <= 0xf4 ? [3, 0x10000] : [-1, 0];
    if (n < 0) return i;
    if (n > 0 && i + n >= b.length) return i; // truncated sequence
    let cp = n === 0 ? x : x & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const y = b[i + k];
      if ((y & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (y & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Split a byte stream into lines and parse each as JSON. `info` is filled as the file is read. */
export async function* readJsonlLines(source: ByteSource, opts: JsonlOptions = {}, info: JsonlFileInfo = { bom: false, crlf: false }): AsyncGenerator<JsonlEvent> {
  const maxLine = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  let parts: Uint8Array[] = [];
  let partBytes = 0;
  let oversize = false;
  let line = 0;
  let bytesRead = 0;
  let nextProgress = PROGRESS_EVERY;

  const finishLine = (): JsonlEvent => {
    line++;
    if (oversize) {
      const ev: JsonlEvent = {
        kind: 'issue',
        issue: { place: { kind: 'line', line }, message: `line is longer than the limit of ${maxLine} bytes; split the record or raise maxLineBytes` },
      };
      oversize = false;
      parts = [];
      partBytes = 0;
      return ev;
    }
    let bytes = concat(parts, partBytes);
    parts = [];
    partBytes = 0;
    if (line === 1 && bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
      info.bom = true;
      bytes = bytes.subarray(3);
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) {
      info.crlf = true;
      bytes = bytes.subarray(0, bytes.length - 1);
    }
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      const at = firstInvalidUtf8(bytes);
      return {
        kind: 'issue',
        issue: { place: { kind: 'line', line }, message: `invalid UTF-8 at byte ${at + 1} of the line; save the file as UTF-8` },
      };
    }
    if (text.trim() === '') return { kind: 'blank', line };
    const deep = excessiveNesting(text);
    if (deep >= 0) {
      return { kind: 'issue', issue: { place: { kind: 'line', line }, column: deep + 1, message: `arrays/objects nested deeper than ${MAX_JSON_DEPTH} levels; a preference record needs a few levels at most` } };
    }
    try {
      return { kind: 'value', line, value: JSON.parse(text) };
    } catch (e) {
      const loc = locateJsonError(text);
      const issue: DataIssue = loc
        ? { place: { kind: 'line', line }, column: loc.index + 1, message: `invalid JSON: ${loc.message}` }
        : { place: { kind: 'line', line }, message: `invalid JSON: ${(e as Error).message}` };
      return { kind: 'issue', issue };
    }
  };

  for await (const chunk of chunksOf(source)) {
    opts.signal?.throwIfAborted();
    bytesRead += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      if (!oversize && end > start) {
        if (partBytes + (end - start) > maxLine) {
          oversize = true;
          parts = [];
          partBytes = 0;
        } else {
          // Copy: the producer may reuse its chunk buffer after we yield.
          parts.push(chunk.slice(start, end));
          partBytes += end - start;
        }
      }
      if (nl < 0) break;
      yield finishLine();
      start = nl + 1;
    }
    if (bytesRead >= nextProgress) {
      opts.onProgress?.({ bytesRead, lines: line });
      nextProgress = bytesRead + PROGRESS_EVERY;
    }
  }
  if (partBytes > 0 || oversize) yield finishLine();
  opts.onProgress?.({ bytesRead, lines: line });
}

/** Read a preference JSONL file: every line validated, then the caller chooses what to import. */
export async function readPreferenceJsonl(source: ByteSource, opts: JsonlOptions & CollectOptions = {}): Promise<PreferenceImport> {
  const collector = new PreferenceCollector(opts);
  const info: JsonlFileInfo = { bom: false, crlf: false };
  for await (const ev of readJsonlLines(source, opts, info)) {
    if (ev.kind === 'blank') collector.addBlank();
    else if (ev.kind === 'issue') collector.addIssue(ev.issue);
    else collector.addRow({ kind: 'line', line: ev.line }, ev.value);
  }
  collector.summary.bom = info.bom;
  collector.summary.crlf = info.crlf;
  return collector.result();
}

/**
 * Whether a JSONL file holds preference pairs (TRL's chosen/rejected, any format: conversational, standard, explicit
 * prompt, pre-tokenized chosen_ids/rejected_ids) or single records to score (messages | text | input_ids), decided
 * from its first non-blank line (`head`: the file's first bytes). A line too long for `head` is judged by its keys.
 */
export function looksLikePairFile(head: string): boolean {
  const line = head.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  try {
    const v = JSON.parse(line) as unknown;
    return !!v && typeof v === 'object' && !Array.isArray(v) && ('chosen' in v || 'chosen_ids' in v);
  } catch {
    return /^\s*\{.*"(chosen|chosen_ids)"\s*:/.test(line);
  }
}

/** Read a JSONL file of records to score (`messages` | `text` | `input_ids` per line). */
export async function readScoreJsonl(
  source: ByteSource,
  opts: JsonlOptions & RowOptions & { maxErrors?: number } = {},
): Promise<{ records: ScoreRecord[]; invalid: number; errors: DataIssue[]; blankLines: number }> {
  const maxErrors = opts.maxErrors ?? 20;
  const out = { records: [] as ScoreRecord[], invalid: 0, errors: [] as DataIssue[], blankLines: 0 };
  const addIssue = (issue: DataIssue) => {
    out.invalid++;
    if (out.errors.length < maxErrors) out.errors.push(issue);
  };
  for await (const ev of readJsonlLines(source, opts)) {
    if (ev.kind === 'blank') out.blankLines++;
    else if (ev.kind === 'issue') addIssue(ev.issue);
    else {
      const r = validateScoreRow(ev.value, opts.vocabSize !== undefined ? { vocabSize: opts.vocabSize } : {});
      if (r.ok) out.records.push(r.value);
      else addIssue({ place: { kind: 'line', line: ev.line }, ...(r.issue.field !== undefined ? { field: r.issue.field } : {}), message: r.issue.message });
    }
  }
  return out;
}

/** Convenience for tests and small inputs: read JSONL text already in memory. */
export function textSource(text: string, chunkSize = 1 << 16): Iterable<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) chunks.push(bytes.subarray(i, i + chunkSize));
  return chunks;
}
