// Node-side file access for the CLI: a model folder in Hugging Face layout, preference/score data files
// (.jsonl or .parquet) read through the shared validators and tokenized as TRL does.
import { existsSync, createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { openFileSource } from '../formats/bytes-node.ts';
import { toAsyncBuffer } from '../formats/bytes.ts';
import { parseSafetensorsIndex, shardFiles, SAFETENSORS_INDEX_FILE } from '../formats/safetensors.ts';
import type { ModelFiles } from '../model/load.ts';
import { readPreferenceJsonl } from '../data/jsonl.ts';
import { readParquetRowGroups, readPreferenceParquet } from '../data/parquet.ts';
import { validateScoreRow } from '../data/validate.ts';
import { formatIssue, type PreferencePair, type ScoreRecord } from '../data/records.ts';
import { loadTokenizerFromFolder, type ChatTokenizer } from '../data/tokenizer.ts';
import { tokenizePreferences, tokenizeScoreRecord, type TokenizedDataset } from '../data/tokenize.ts';

export class CliInputError extends Error {
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
    return { configText, indexText, weights: await Promise.all(shards.map((s) => openFileSource(path.join(dir, s)))) };
  }
  const single = path.join(dir, 'model.safetensors');
  if (!existsSync(single)) throw new CliInputError(`${dir} has neither model.safetensors nor ${SAFETENSORS_INDEX_FILE}`);
  return { configText, weights: [await openFileSource(single)] };
}

/** The tokenizer of a model folder (tokenizer.json + tokenizer_config.json). */
export async function folderTokenizer(dir: string): Promise<ChatTokenizer> {
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!existsSync(path.join(dir, f))) throw new CliInputError(`${path.join(dir, f)} not found: the model folder needs its tokenizer files`);
  }
  return loadTokenizerFromFolder(path.resolve(dir));
}

/** Reads every valid preference pair of a .jsonl or .parquet file; any invalid row is an error naming it. */
export async function readPreferenceFile(file: string): Promise<PreferencePair[]> {
  if (!existsSync(file)) throw new CliInputError(`${file} not found`);
  const ext = path.extname(file).toLowerCase();
  let imp;
  if (ext === '.jsonl' || ext === '.json') imp = await readPreferenceJsonl(createReadStream(file));
  else if (ext === '.parquet') {
    const src = await openFileSource(file);
    try {
      imp = await readPreferenceParquet(toAsyncBuffer(src));
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
  return imp.importRecords('all-or-nothing');
}

export async function tokenizePreferenceFile(file: string, tok: ChatTokenizer, maxLength: number): Promise<TokenizedDataset> {
  return tokenizePreferences(tok, await readPreferenceFile(file), { maxLength });
}

export type ScoreInput = { kind: 'pair'; chosen: Int32Array; rejected: Int32Array } | { kind: 'single'; ids: Int32Array };

/** The raw rows of a .jsonl or .parquet file with their places (`line 3`, 1-based; `row 2`, 0-based). */
export async function readRawRows(file: string): Promise<{ place: string; value: Record<string, unknown> }[]> {
  if (!existsSync(file)) throw new CliInputError(`${file} not found`);
  const ext = path.extname(file).toLowerCase();
  const rows: { place: string; value: Record<string, unknown> }[] = [];
  if (ext === '.parquet') {
    const src = await openFileSource(file);
    try {
      for await (const { rowStart, rows: rs } of readParquetRowGroups(toAsyncBuffer(src))) rs.forEach((r, i) => rows.push({ place: `row ${rowStart + i}`, value: r }));
    } finally {
      await src.close();
    }
  } else if (ext === '.jsonl' || ext === '.json') {
    // pairs and single records may both appear; read lines raw and decide per row
    const text = await readFile(file, 'utf8');
    text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '') return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch (e) {
        throw new CliInputError(`${file}: line ${i + 1}: not valid JSON (${(e as Error).message})`);
      }
      rows.push({ place: `line ${i + 1}`, value: v as Record<string, unknown> });
    });
  } else throw new CliInputError(`${file}: unsupported data file type "${ext}"; use .jsonl or .parquet`);
  return rows;
}

/** Records of a scoring file in order: a preference pair (chosen/rejected) or a single conversation/text/ids. */
export async function readScoreInputs(file: string, tok: ChatTokenizer): Promise<ScoreInput[]> {
  const rows = await readRawRows(file);
  const out: ScoreInput[] = [];
  const pairs: PreferencePair[] = [];
  for (const { place, value } of rows) {
    if (value && typeof value === 'object' && ('chosen' in value || 'chosen_ids' in value)) {
      const imp = await readPreferenceJsonl([JSON.stringify(value)]);
      if (imp.summary.invalid > 0) throw new CliInputError(`${file}: ${place}: ${imp.summary.errors[0].message}${imp.summary.errors[0].field ? ` (field ${imp.summary.errors[0].field})` : ''}`);
      const pair = imp.importRecords('all-or-nothing')[0];
      pairs.push(pair);
      const t = (await tokenizePreferences(tok, [pair], { maxLength: null })).pairs[0];
      out.push({ kind: 'pair', chosen: t.chosen_ids, rejected: t.rejected_ids });
    } else {
      const r = validateScoreRow(value);
      if (!r.ok) throw new CliInputError(`${file}: ${place}${r.issue.field ? `, field ${r.issue.field}` : ''}: ${r.issue.message}`);
      out.push({ kind: 'single', ids: tokenizeScoreRecord(tok, r.value as ScoreRecord) });
    }
  }
  return out;
}
