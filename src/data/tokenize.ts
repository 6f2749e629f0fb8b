// Preference pairs → token ids, exactly as TRL's RewardTrainer._prepare_dataset does it:
//   conversational: ids = apply_chat_template(prompt + chosen) (tokenize, no generation prompt; Qwen3's template puts
//                   an empty think block in the final assistant turn), same for rejected;
//   standard:       text = prompt + chosen, with the EOS token appended when chosen does not end with it, then
//                   tokenizer(text) (Qwen3 adds no BOS);
//   tokenized:      chosen_ids / rejected_ids as given;
//   then pairs whose chosen OR rejected length exceeds max_length (default 1024) are dropped (not truncated) and counted.
// `tools` / `chat_template_kwargs` columns are not passed to the template (TRL does; not needed for reward data).

import type { PreferencePair, ScoreRecord } from './records.ts';
import type { ChatTokenizer } from './tokenizer.ts';
import { fullSequences } from './validate.ts';

/** One tokenized pair (TRL's chosen_ids / rejected_ids / margin). */
export interface TokenizedPair {
  chosen_ids: Int32Array;
  rejected_ids: Int32Array;
  margin?: number;
}

export interface TokenizedDataset {
  pairs: TokenizedPair[];
  /** Pairs seen (kept + filtered). */
  total: number;
  /** 0-based indices (in input order) of the pairs dropped for exceeding maxLength. */
  filteredIndices: number[];
  /** The max_length used; null = no filtering. */
  maxLength: number | null;
}

export interface TokenizeProgress {
  done: number;
  total?: number;
  kept: number;
  filtered: number;
}

export interface TokenizeOptions {
  /** TRL's max_length: default 1024; null disables the filter. */
  maxLength?: number | null;
  /** Number of pairs, when known, for progress. */
  total?: number;
  onProgress?: (p: TokenizeProgress) => void;
  /** Report every this many pairs (default 256) and at the end. */
  progressEvery?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_LENGTH = 1024;

/** The text TRL tokenizes for a standard sequence: EOS appended when missing. */
export function withEos(text: string, eosToken: string): string {
  return text.endsWith(eosToken) ? text : text + eosToken;
}

/** Tokenize one pair without filtering. */
export function tokenizePair(tok: ChatTokenizer, pair: PreferencePair): TokenizedPair {
  const margin = pair.margin !== undefined ? { margin: pair.margin } : {};
  if (pair.format === 'tokenized') {
    return { chosen_ids: Int32Array.from(pair.chosen_ids), rejected_ids: Int32Array.from(pair.rejected_ids), ...margin };
  }
  if (pair.format === 'conversational') {
    const { chosen, rejected } = fullSequences(pair) as { chosen: Parameters<ChatTokenizer['encodeChat']>[0]; rejected: Parameters<ChatTokenizer['encodeChat']>[0] };
    return { chosen_ids: Int32Array.from(tok.encodeChat(chosen)), rejected_ids: Int32Array.from(tok.encodeChat(rejected)), ...margin };
  }
  const prompt = pair.prompt ?? '';
  return {
    chosen_ids: Int32Array.from(tok.encodeText(prompt + withEos(pair.chosen, tok.eosToken))),
    rejected_ids: Int32Array.from(tok.encodeText(prompt + withEos(pair.rejected, tok.eosToken))),
    ...margin,
  };
}

/** Tokenize one record to score, the same way as a chosen sequence. */
export function tokenizeScoreRecord(tok: ChatTokenizer, rec: ScoreRecord): Int32Array {
  if (rec.format === 'tokenized') return Int32Array.from(rec.input_ids);
  if (rec.format === 'conversational') return Int32Array.from(tok.encodeChat(rec.messages));
  return Int32Array.from(tok.encodeText(withEos(rec.text, tok.eosToken)));
}

/** Tokenize a dataset and drop the pairs longer than maxLength (counted, with their indices). */
export async function tokenizePreferences(
  tok: ChatTokenizer,
  pairs: Iterable<PreferencePair> | AsyncIterable<PreferencePair>,
  opts: TokenizeOptions = {},
): Promise<TokenizedDataset> {
  const maxLength = opts.maxLength === undefined ? DEFAULT_MAX_LENGTH : opts.maxLength;
  const every = opts.progressEvery ?? 256;
  const out: TokenizedDataset = { pairs: [], total: 0, filteredIndices: [], maxLength };
  const report = () =>
    opts.onProgress?.({ done: out.total, ...(opts.total !== undefined ? { total: opts.total } : {}), kept: out.pairs.length, filtered: out.filteredIndices.length });
  for await (const pair of pairs as AsyncIterable<PreferencePair>) {
    const t = tokenizePair(tok, pair);
    if (maxLength !== null && (t.chosen_ids.length > maxLength || t.rejected_ids.length > maxLength)) out.filteredIndices.push(out.total);
    else out.pairs.push(t);
    out.total++;
    if (out.total % every === 0) {
      report();
      opts.signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, 0)); // a macrotask: lets a worker receive a cancel message
    }
  }
  report();
  return out;
}
