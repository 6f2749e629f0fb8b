// The entry points the fuzzer drives: what the CLI and the workers call on a file's bytes, before any GPU work.
// (A copy of this file written against an older API lets the same corpus measure a revision before a fix.)
import { parseModelConfigText, withPadTokenId, modelDims, type Qwen3Config } from '../../src/model/config.ts';
import { buildParamTable } from '../../src/model/params.ts';
import { parseJsonText } from '../../src/formats/json_text.ts';
import { parseAdapterConfig } from '../../src/formats/peft.ts';
import { readSafetensorsHeader, type SafetensorsHeader } from '../../src/formats/safetensors.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import { readPreferenceParquet } from '../../src/data/parquet.ts';
import { readPreferenceJsonl, readScoreJsonl } from '../../src/data/jsonl.ts';
import { loadTokenizerFromFiles, type ChatTokenizer } from '../../src/data/tokenizer.ts';
import type { PreferenceImport } from '../../src/data/records.ts';
import { isUserError } from '../../src/util/user_error.ts';
import { inspectJsonl } from '../../src/data/inspect.ts';

export const isUser = isUserError;

export function parseConfig(text: string, file: string): Qwen3Config {
  return parseModelConfigText(text, file);
}

/** What `score`/`train` size from the config before loading weights (the 1e12-layer loop was here). */
export function planTable(cfg: Qwen3Config): number {
  const t = buildParamTable(modelDims(withPadTokenId(cfg)), { lora: null, frozenDtype: 'bf16', maxBlockBytes: 2 ** 31 });
  return t.trainable.length + t.frozen.length;
}

export function parseAdapter(text: string, file: string): unknown {
  return parseAdapterConfig(parseJsonText(text, file), file);
}

export function readSafetensors(bytes: Uint8Array, name: string): Promise<SafetensorsHeader> {
  return readSafetensorsHeader(bytesSource(name, bytes));
}

export function readParquet(bytes: Uint8Array, name: string): Promise<PreferenceImport> {
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return readPreferenceParquet({ byteLength: buf.byteLength, slice: (s: number, e?: number) => buf.slice(s, e) }, { name });
}

export function readJsonl(bytes: Uint8Array, vocabSize: number): Promise<PreferenceImport> {
  return readPreferenceJsonl([bytes], { vocabSize, maxLineBytes: 1 << 16 });
}

export function readScores(bytes: Uint8Array, vocabSize: number): Promise<{ records: unknown[]; invalid: number }> {
  return readScoreJsonl([bytes], { vocabSize, maxLineBytes: 1 << 16 });
}

/** `inspect` on a JSONL file (no tokenizer): the report's counts and first errors. */
export async function inspect(bytes: Uint8Array, vocabSize: number): Promise<{ invalid: number; errors: { place: { line?: number }; message: string }[] }> {
  void vocabSize;
  const rep = await inspectJsonl('train', 'fuzz.jsonl', [bytes], { maxLineBytes: 1 << 16 });
  return { invalid: rep.invalid, errors: rep.errors.map((e) => ({ place: { line: Number(/^line (\d+)/.exec(e)?.[1] ?? NaN) }, message: e })) };
}

export function loadTokenizer(tokenizerJson: object, tokenizerConfig: string): Promise<ChatTokenizer> {
  return loadTokenizerFromFiles({ tokenizerJson, tokenizerConfig });
}
