// Node-side file access for the CLI: a model folder in Hugging Face layout, preference/score data files
// (.jsonl or .parquet) read through the shared validators and tokenized as TRL does.
import { existsSync, createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openFileSource } from '../formats/bytes-node.ts';
import { toAsyncBuffer } from '../formats/bytes.ts';
import { parseSafetensorsIndex, shardFiles, SAFETENSORS_INDEX_FILE } from '../formats/safetensors.ts';
import type { ModelFiles } from '../model/load.ts';
import { readJsonlLines, readPreferenceJsonl } from '../data/jsonl.ts';
import { readParquetRowGroups, readPreferenceParquet } from '../data/parquet.ts';
import { validatePreferenceRow, validateScoreRow } from '../data/validate.ts';
import { formatIssue, formatWarning, type PreferencePair, type RowPlace, type ScoreRecord, type ValidationSummary } from '../data/records.ts';
import { loadTokenizerFromFiles, type ChatTokenizer } from '../data/tokenizer.ts';
import { tokenizePair, tokenizePreferences, tokenizeScoreRecord, type TokenizedDataset } from '../data/tokenize.ts';
import { parseModelConfigText } from '../model/config.ts';
import { UserError } from '../util/user_error.ts';

export class CliInputError extends UserError {
  override name = 'CliInputError';
}

/** Closes the file handles of a model folder's weights (after loading). */
export async function closeModelFiles(files: ModelFiles): Promise<void> {
  for (const w of files.weights) await (w as { close?: () => Promise<void> }).close?.();
}

/** config.json, safetensors (single or sharded) of a model folder. Close with closeModelFiles after loading. */
export async function modelFolderFiles(dir: string): Promise<ModelFiles> {
  const cfg = path.join(dir, 'config.json');
  if (!existsSync(cfg)) throw new CliInputError(`${cfg} not found: --model must be a Hugging Face model folder (config.json, model.safetensors, tokenizer files)`);
  const configText = await readFile(cfg, 'utf8');
  const indexPath = path.join(dir, SAFETENSORS_INDEX_FILE);
  if (existsSync(indexPath)) {
    const indexText = await readFile(indexPath, 'utf8');
    const shards = shardFiles(parseSafetensorsIndex(indexText, indexPath));
    return { configText, configSource: cfg, indexText, weights: await Promise.all(shards.map((s) => openFileSource(path.join(dir, s)))) };
  }
  const single = path.join(dir, 'model.safetensors');
  if (!existsSync(single)) throw new CliInputError(`${dir} has neither model.safetensors nor ${SAFETENSORS_INDEX_FILE}`);
  return { configText, configSource: cfg, weights: [await openFileSource(single)] };
}

/** The tokenizer of a model folder (tokenizer.json + tokenizer_config.json, and chat_template.jinja when present). */
export async function folderTokenizer(dir: string): Promise<ChatTokenizer> {
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(path.join(dir, f))) throw new CliInputError(`${path.join(dir, f)} not found: the model folder needs its tokenizer files`);
  }
  const [tokenizerJson, tokenizerConfig] = await Promise.all(['tokenizer.json', 'tokenizer_config.json'].map((f) => readFile(path.join(dir, f), 'utf8')));
  // transformers ≥ 5 writes the template to chat_template.jinja instead of tokenizer_config.json
  const jinja = path.join(dir, 'chat_template.jinja');
  const chatTemplate = existsSync(jinja) ? await readFile(jinja, 'utf8') : undefined;
  return loadTokenizerFromFiles({ tokenizerJson, tokenizerConfig, chatTemplate });
}

/** What the CLI needs of a model folder's config.json before reading data: the vocabulary and the longest sequence. */
export interface ModelLimits {
  vocabSize: number;
  maxPositions: number;
  /** The config.json path, for messages. */
  configPath: string;
}

/** Reads and checks <dir>/config.json (bounded sizes, JSON errors with file:line:column). */
export async function readModelLimits(dir: string): Promise<ModelLimits> {
  const cfg = path.join(dir, 'config.json');
  if (!existsSync(cfg)) throw new CliInputError(`${cfg} not found: --model must be a Hugging Face model folder (config.json, model.safetensors, tokenizer files)`);
  const c = parseModelConfigText(await readFile(cfg, 'utf8'), cfg);
  return { vocabSize: c.vocab_size, maxPositions: c.max_position_embeddings, configPath: cfg };
}

/** A data row's place for messages: `line 4` / `row 3 (0-based)`. */
function placeText(p: RowPlace): string {
  return p.kind === 'line' ? `line ${p.line}` : `row ${p.row} (0-based)`;
}

/** The warnings of a read (rows TRL trains on that are probably mistakes), one stderr line per kind. */
export function printWarnings(file: string, s: ValidationSummary): void {
  for (const w of s.warnings) console.error(`warning: ${file}: ${formatWarning(w)}`);
}

/** Reads every valid preference pair of a .jsonl or .parquet file; any invalid row is an error naming it. Rows TRL
 *  trains on but that look like mistakes are kept, with a warning on stderr naming their lines. */
export async function readPreferenceFile(file: string, vocabSize?: number): Promise<{ pairs: PreferencePair[]; places: RowPlace[] }> {
  if (!existsSync(file)) throw new CliInputError(`${file} not found`);
  const ext = path.extname(file).toLowerCase();
  const opts = vocabSize !== undefined ? { vocabSize } : {};
  let imp;
  if (ext === '.jsonl' || ext === '.json') imp = await readPreferenceJsonl(createReadStream(file), opts);
  else if (ext === '.parquet') {
    const src = await openFileSource(file);
    try {
      imp = await readPreferenceParquet(toAsyncBuffer(src), { ...opts, name: file });
    } finally {
      await src.close();
    }
  }
  else throw new CliInputError(`${file}: unsupported data file type "${ext}"; use .jsonl or .parquet in TRL's preference format`);
  const s = imp.summary;
  if (s.invalid > 0) {
    const first = s.errors.slice(0, 5).map((e) => `  ${file}: ${formatIssue(e)}`).join('\n');
    throw new CliInputError(`${file}: ${s.invalid} invalid row(s) of ${s.valid + s.invalid}:\n${first}\nFix these rows (or remove them) and run again.`);
  }
  if (s.valid === 0) throw new CliInputError(`${file}: no preference pairs (the file has no data rows); give a file with "chosen" and "rejected" per row`);
  printWarnings(file, s);
  return { pairs: imp.importRecords('all-or-nothing'), places: imp.recordPlaces };
}

/** Tokenizes a preference file as TRL does (dropping pairs longer than maxLength). Token ids are checked against the
 *  model's vocabulary, and pairs kept must fit max_position_embeddings: both refused naming the row. */
export async function tokenizePreferenceFile(file: string, tok: ChatTokenizer, maxLength: number, limits?: ModelLimits): Promise<TokenizedDataset> {
  const { pairs, places } = await readPreferenceFile(file, limits?.vocabSize);
  const ds = await tokenizePreferences(tok, pairs, { maxLength });
  if (limits) {
    const filtered = new Set(ds.filteredIndices);
    let k = 0;
    for (let i = 0; i < pairs.length; i++) {
      if (filtered.has(i)) continue;
      const t = ds.pairs[k++];
      for (const [field, ids] of [['chosen', t.chosen_ids], ['rejected', t.rejected_ids]] as const) {
        checkSequence(`${file}: ${placeText(places[i])}, field ${field}`, ids, limits, 'set max_length (in --config) to drop longer pairs as TRL does');
      }
    }
  }
  return ds;
}

/** Token ids the tokenizer produced (or the file gave) against the model: in its vocabulary, within its positions. */
function checkSequence(where: string, ids: Int32Array, limits: ModelLimits, fix: string): void {
  if (ids.length > limits.maxPositions) {
    throw new CliInputError(`${where}: ${ids.length} tokens, more than the model's max_position_embeddings ${limits.maxPositions} (${limits.configPath}); shorten it, or ${fix}`);
  }
  for (let j = 0; j < ids.length; j++) {
    if (ids[j] < 0 || ids[j] >= limits.vocabSize) {
      throw new CliInputError(`${where}: token ${j} is id ${ids[j]}, outside the model's vocabulary (vocab_size ${limits.vocabSize} in ${limits.configPath}); the tokenizer does not belong to this model`);
    }
  }
}

export type ScoreInput = { kind: 'pair'; place: string; chosen: Int32Array; rejected: Int32Array } | { kind: 'single'; place: string; ids: Int32Array };

/** The raw rows of a .jsonl (shared JSONL reader) or .parquet file with their places (`line 3`; `row 2 (0-based)`). */
export async function readRawRows(file: string): Promise<{ place: string; value: Record<string, unknown> }[]> {
  if (!existsSync(file)) throw new CliInputError(`${file} not found`);
  const ext = path.extname(file).toLowerCase();
  const rows: { place: string; value: Record<string, unknown> }[] = [];
  if (ext === '.parquet') {
    const src = await openFileSource(file);
    try {
      for await (const { rowStart, rows: rs } of readParquetRowGroups(toAsyncBuffer(src), { name: file })) rs.forEach((r, i) => rows.push({ place: `row ${rowStart + i} (0-based)`, value: r }));
    } finally {
      await src.close();
    }
  } else if (ext === '.jsonl' || ext === '.json') {
    // pairs and single records may both appear; decide per row
    for await (const ev of readJsonlLines(createReadStream(file))) {
      if (ev.kind === 'issue') throw new CliInputError(`${file}: ${formatIssue(ev.issue)}`);
      if (ev.kind === 'value') rows.push({ place: `line ${ev.line}`, value: ev.value as Record<string, unknown> });
    }
  } else throw new CliInputError(`${file}: unsupported data file type "${ext}"; use .jsonl or .parquet`);
  return rows;
}

/** Records of a scoring file in order: a preference pair (chosen/rejected) or a single conversation/text/ids. JSONL is
 *  read by the shared reader (UTF-8, nesting depth and line rules of every command). Token ids are checked against
 *  the model's vocabulary and every sequence against maxTokens (max_position_embeddings or --max-length). */
export async function readScoreInputs(file: string, tok: ChatTokenizer, limits: ModelLimits, maxTokens = limits.maxPositions): Promise<ScoreInput[]> {
  const rows = await readRawRows(file);
  if (rows.length === 0) throw new CliInputError(`${file}: no records to score (the file has no data rows)`);
  const opts = { vocabSize: limits.vocabSize };
  const lim = { ...limits, maxPositions: Math.min(maxTokens, limits.maxPositions) };
  const fix = maxTokens < limits.maxPositions ? 'raise --max-length' : 'split the record';
  const out: ScoreInput[] = [];
  for (const { place, value } of rows) {
    const where = `${file}: ${place}`;
    if (value && typeof value === 'object' && ('chosen' in value || 'chosen_ids' in value)) {
      const r = validatePreferenceRow(value, opts);
      if (!r.ok) throw new CliInputError(`${where}${r.issue.field ? `, field ${r.issue.field}` : ''}: ${r.issue.message}`);
      const t = tokenizePair(tok, r.value);
      checkSequence(`${where}, field chosen`, t.chosen_ids, lim, fix);
      checkSequence(`${where}, field rejected`, t.rejected_ids, lim, fix);
      out.push({ kind: 'pair', place, chosen: t.chosen_ids, rejected: t.rejected_ids });
    } else {
      const r = validateScoreRow(value, opts);
      if (!r.ok) throw new CliInputError(`${where}${r.issue.field ? `, field ${r.issue.field}` : ''}: ${r.issue.message}`);
      const ids = tokenizeScoreRecord(tok, r.value as ScoreRecord);
      checkSequence(where, ids, lim, fix);
      out.push({ kind: 'single', place, ids });
    }
  }
  return out;
}
