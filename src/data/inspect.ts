// Dataset inspection, the pipeline's first step: per split, the row count, columns and their types, validation
// counts (invalid rows with the first errors, duplicates, identical pairs), example rows rendered as conversations,
// token-length histograms (prompt, chosen, rejected) with how many exceed max_length, and score distributions
// (score_chosen, score_rejected, their difference) when the columns exist. Everything returned is JSON-able; the
// studio renders it and the CLI prints it (inspect-text.ts). Browser-safe: sources are byte streams / AsyncBuffers.

import { PreferenceCollector } from './collect.ts';
import { type Histogram, histogram } from './histogram.ts';
import { renderExample } from './inspect-text.ts';
import { type ByteSource, type JsonlOptions, readJsonlLines } from './jsonl.ts';
import { type AsyncBuffer, type ParquetColumn, parquetInfo, readParquetRowGroups } from './parquet.ts';
import { type PreferencePair, type RowPlace, type RowShape, formatIssue, formatWarning } from './records.ts';
import { DEFAULT_MAX_LENGTH, tokenizePair } from './tokenize.ts';
import type { ChatTokenizer } from './tokenizer.ts';
import { splitPrompt } from './validate.ts';

export interface InspectOptions {
  /** Enables the token-length section. */
  tokenizer?: ChatTokenizer;
  maxLength?: number;
  /** Example rows to render (default 2). */
  examples?: number;
  /** Measure token lengths on at most this many valid pairs (default all). */
  tokenRowLimit?: number;
  /** Histogram bins (default 10). */
  bins?: number;
  /** Errors kept in the report (default 10). */
  maxErrors?: number;
  signal?: AbortSignal;
}

export interface TokenStats {
  /** Valid pairs measured. */
  measured: number;
  maxLength: number;
  prompt: Histogram;
  chosen: Histogram;
  rejected: Histogram;
  /** Sequences longer than maxLength; `pairs` = pairs TRL would drop (chosen or rejected too long). */
  overMaxLength: { chosen: number; rejected: number; pairs: number };
}

export interface ScoreStats {
  /** Valid pairs with numeric score_chosen and score_rejected. */
  pairs: number;
  score_chosen: Histogram;
  score_rejected: Histogram;
  /** score_chosen − score_rejected. */
  difference: Histogram;
  /** Pairs whose chosen score is not above the rejected one (difference ≤ 0). */
  chosenNotHigher: number;
}

export interface SplitReport {
  split: string;
  files: string[];
  rows: number;
  columns: ParquetColumn[];
  shape: RowShape | null;
  valid: number;
  invalid: number;
  /** The first errors, formatted (`line 4, field chosen[1].role: ...`). */
  errors: string[];
  blankLines: number;
  duplicates: number;
  identicalPairs: number;
  /** Rows TRL trains on that look like mistakes, one formatted line per kind (`3 rows: … — lines 2, 7, 9`). */
  warnings: string[];
  examples: string[];
  tokens: TokenStats | null;
  scores: ScoreStats | null;
}

export interface DatasetReport {
  source: string;
  maxLength: number;
  splits: SplitReport[];
}

/** Arrow-style type of a JSON value (nested types from this value only). */
export function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int64' : 'double';
  if (Array.isArray(v)) {
    const first = v.find((x) => x !== null && x !== undefined);
    return `list<${first === undefined ? 'null' : jsonType(first)}>`;
  }
  return `struct<${Object.entries(v as object).map(([k, x]) => `${k}: ${jsonType(x)}`).join(', ')}>`;
}

/** Column types over JSON rows: first-seen order; int64 and double merge to double; nulls are ignored. */
class ColumnTypes {
  private types = new Map<string, Set<string>>();
  add(row: unknown): void {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return;
    for (const [k, v] of Object.entries(row)) {
      let s = this.types.get(k);
      if (!s) this.types.set(k, (s = new Set()));
      if (v !== null && v !== undefined) s.add(jsonType(v));
    }
  }
  columns(): ParquetColumn[] {
    return [...this.types].map(([name, s]) => {
      if (s.size === 2 && s.has('int64') && s.has('double')) return { name, type: 'double' };
      return { name, type: s.size === 0 ? 'null' : [...s].join(' | ') };
    });
  }
}

/** Accumulates the statistics of one split's valid pairs. */
export class SplitInspector {
  private readonly promptLens: number[] = [];
  private readonly chosenLens: number[] = [];
  private readonly rejectedLens: number[] = [];
  private readonly scoresC: number[] = [];
  private readonly scoresR: number[] = [];
  private readonly diffs: number[] = [];
  readonly examples: string[] = [];
  private readonly maxLength: number;

  constructor(private readonly opts: InspectOptions = {}) {
    this.maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  }

  add(pair: PreferencePair, place: RowPlace): void {
    if (this.examples.length < (this.opts.examples ?? 2)) this.examples.push(renderExample(pair, place));
    const sc = pair.extra.score_chosen;
    const sr = pair.extra.score_rejected;
    if (typeof sc === 'number' && typeof sr === 'number' && Number.isFinite(sc) && Number.isFinite(sr)) {
      this.scoresC.push(sc);
      this.scoresR.push(sr);
      this.diffs.push(sc - sr);
    }
    const tok = this.opts.tokenizer;
    if (tok && this.chosenLens.length < (this.opts.tokenRowLimit ?? Infinity)) {
      const t = tokenizePair(tok, pair);
      this.chosenLens.push(t.chosen_ids.length);
      this.rejectedLens.push(t.rejected_ids.length);
      this.promptLens.push(promptLength(tok, pair));
    }
  }

  tokens(): TokenStats | null {
    if (!this.opts.tokenizer) return null;
    const L = this.maxLength;
    const bins = this.opts.bins ?? 10;
    let pairs = 0;
    for (let i = 0; i < this.chosenLens.length; i++) if (this.chosenLens[i] > L || this.rejectedLens[i] > L) pairs++;
    return {
      measured: this.chosenLens.length,
      maxLength: L,
      prompt: histogram(this.promptLens, { bins, integer: true }),
      chosen: histogram(this.chosenLens, { bins, integer: true }),
      rejected: histogram(this.rejectedLens, { bins, integer: true }),
      overMaxLength: { chosen: this.chosenLens.filter((x) => x > L).length, rejected: this.rejectedLens.filter((x) => x > L).length, pairs },
    };
  }

  scores(): ScoreStats | null {
    if (this.diffs.length === 0) return null;
    const bins = this.opts.bins ?? 10;
    return {
      pairs: this.diffs.length,
      score_chosen: histogram(this.scoresC, { bins }),
      score_rejected: histogram(this.scoresR, { bins }),
      difference: histogram(this.diffs, { bins }),
      chosenNotHigher: this.diffs.filter((d) => d <= 0).length,
    };
  }
}

/** Tokens of the prompt alone: the explicit prompt, or the implicit one (shared leading messages / text / ids). */
export function promptLength(tok: ChatTokenizer, pair: PreferencePair): number {
  const { prompt } = splitPrompt(pair);
  if (prompt.length === 0) return 0;
  if (typeof prompt === 'string') return tok.encodeText(prompt).length;
  if (typeof prompt[0] === 'number') return prompt.length;
  return tok.encodeChat(prompt as Parameters<ChatTokenizer['encodeChat']>[0]).length;
}

function finish(split: string, files: string[], columns: ParquetColumn[], c: PreferenceCollector, ins: SplitInspector): SplitReport {
  const s = c.summary;
  return {
    split,
    files,
    rows: s.rows,
    columns,
    shape: s.shape,
    valid: s.valid,
    invalid: s.invalid,
    errors: s.errors.map(formatIssue),
    blankLines: s.blankLines,
    duplicates: s.duplicates,
    identicalPairs: s.identicalPairs,
    warnings: s.warnings.map(formatWarning),
    examples: ins.examples,
    tokens: ins.tokens(),
    scores: ins.scores(),
  };
}

/** Inspect one split stored as a JSONL file. */
export async function inspectJsonl(split: string, fileName: string, source: ByteSource, opts: InspectOptions & JsonlOptions & { lineOf?: (line: number) => number } = {}): Promise<SplitReport> {
  const c = new PreferenceCollector({ maxErrors: opts.maxErrors ?? 10, keepRecords: false });
  const ins = new SplitInspector(opts);
  const types = new ColumnTypes();
  for await (const ev of readJsonlLines(source, opts)) {
    if (ev.kind === 'blank') c.addBlank();
    else if (ev.kind === 'issue') c.addIssue(ev.issue);
    else {
      types.add(ev.value);
      // places name the user's own file's lines when the split is a subset of it (an import's split)
      const place: RowPlace = { kind: 'line', line: opts.lineOf ? opts.lineOf(ev.line) : ev.line };
      const pair = c.addRow(place, ev.value);
      if (pair) ins.add(pair, place);
    }
  }
  return finish(split, [fileName], types.columns(), c, ins);
}

/** Inspect one split stored as parquet shards (in order; rows are numbered across shards). */
export async function inspectParquet(split: string, shards: { name: string; file: AsyncBuffer }[], opts: InspectOptions = {}): Promise<SplitReport> {
  const c = new PreferenceCollector({ maxErrors: opts.maxErrors ?? 10, keepRecords: false });
  const ins = new SplitInspector(opts);
  let columns: ParquetColumn[] = [];
  let offset = 0;
  for (const [i, shard] of shards.entries()) {
    const info = await parquetInfo(shard.file, shard.name);
    if (i === 0) columns = info.columns;
    for await (const { rowStart, rows } of readParquetRowGroups(shard.file, { metadata: info.metadata, signal: opts.signal, name: shard.name })) {
      rows.forEach((row, k) => {
        const place: RowPlace = { kind: 'row', row: offset + rowStart + k };
        const pair = c.addRow(place, row);
        if (pair) ins.add(pair, place);
      });
    }
    offset += info.numRows;
  }
  return finish(split, shards.map((s) => s.name), columns, c, ins);
}

/** Split name from a Hub-style file name: `train-00000-of-00001.parquet` → `train`; otherwise the stem. */
export function splitNameOf(fileName: string): string {
  const base = fileName.split(/[\\/]/).pop()!;
  const stem = base.replace(/\.(parquet|jsonl|json|ndjson)$/i, '');
  const m = /^(.+?)-\d{5}-of-\d{5}$/.exec(stem);
  return m ? m[1] : stem;
}

/** Hub order: train, validation, test, then the rest alphabetically. */
export function compareSplits(a: string, b: string): number {
  const rank = (s: string) => {
    const i = ['train', 'validation', 'test'].indexOf(s);
    return i < 0 ? 3 : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}
