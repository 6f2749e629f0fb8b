// Best-of-N evaluation data (RewardBench 2's format): each record has one prompt, the correct response(s) and several
// incorrect ones, and is right only when every chosen response outscores every rejected one:
//   {"prompt": "...", "chosen": ["..."], "rejected": ["...", "...", "..."], "subset": "Math"}
// `chosen` may also be one string; responses may be strings or message lists (a completion: assistant turns), and the
// prompt a string or a message list. As RewardBench's scripts do for models with a chat template, a string prompt is
// the user turn and a string response the assistant turn: sequence = apply_chat_template(prompt + [response]).
// Accuracy per record = [min(chosen rewards) > max(rejected rewards)]; reported overall, per `subset`, and as the
// unweighted mean over subsets (RewardBench 2's headline number averages subsets; its "Ties" subset has a weighted
// score of its own that is not reproduced here — Ties records are scored by the same all-beat-all rule).

import { formatIssue, type Message } from './records.ts';
import { readJsonlLines, type ByteSource } from './jsonl.ts';
import { describe, validateScoreRow } from './validate.ts';
import type { ChatTokenizer } from './tokenizer.ts';

/** One validated best-of-N record: whole conversations to score (prompt + response each). */
export interface BestOfNRecord {
  /** Where it came from, as shown to users: `file.jsonl:3` (1-based line) or `file.parquet row 2 (0-based)`. */
  place: string;
  subset: string;
  chosen: Message[][];
  rejected: Message[][];
}

/** Subset name used when a record has none. */
export const NO_SUBSET = 'all';

/** True when a row looks like best-of-N data: `rejected` is a list of responses (strings or message lists), not one
 *  conversation (a list of message objects). Used to pick the evaluation mode from a file's first row. */
export function isBestOfNRow(row: unknown): boolean {
  if (typeof row !== 'object' || row === null || Array.isArray(row)) return false;
  const rej = (row as Record<string, unknown>).rejected;
  return Array.isArray(rej) && rej.length > 0 && rej.every((r) => typeof r === 'string' || Array.isArray(r));
}

class BadRow extends Error {}
const bad = (field: string, message: string): never => {
  throw new BadRow(`field ${field}: ${message}`);
};

function promptMessages(v: unknown): Message[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') {
    if (v.trim() === '') bad('prompt', 'empty; expected the prompt text (or omit prompt when the responses are whole conversations)');
    return [{ role: 'user', content: v }];
  }
  if (!Array.isArray(v)) return bad('prompt', `expected a string or a list of messages, got ${describe(v)}`);
  const r = validateScoreRow({ messages: [...v, { role: 'assistant', content: 'x' }] });
  if (!r.ok) bad(`prompt${(r.issue.field ?? '').replace(/^messages/, '')}`, r.issue.message);
  return v as Message[];
}

function response(v: unknown, field: string, prompt: Message[]): Message[] {
  if (typeof v === 'string') {
    if (v.trim() === '') bad(field, 'empty; expected the response text');
    return [...prompt, { role: 'assistant', content: v }];
  }
  if (!Array.isArray(v)) return bad(field, `expected a string or a list of messages, got ${describe(v)}`);
  const r = validateScoreRow({ messages: [...prompt, ...v] });
  if (!r.ok) {
    const f = r.issue.field?.match(/^messages\[(\d+)\](.*)$/);
    const at = f ? (Number(f[1]) >= prompt.length ? `${field}[${Number(f[1]) - prompt.length}]${f[2]}` : `prompt[${f[1]}]${f[2]}`) : field;
    bad(at, r.issue.message);
  }
  return [...prompt, ...(v as Message[])];
}

/** Validates one row; throws an Error naming `place` and the field. */
export function validateBestOfNRow(row: unknown, place: string): BestOfNRecord {
  try {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) bad('(row)', `expected a JSON object with "prompt", "chosen" and "rejected", got ${describe(row)}`);
    const r = row as Record<string, unknown>;
    const prompt = promptMessages(r.prompt);
    if (r.chosen === undefined || r.chosen === null) bad('chosen', 'missing; expected the correct response (a string, or a list of them)');
    const chosenRaw = typeof r.chosen === 'string' ? [r.chosen] : r.chosen;
    if (!Array.isArray(chosenRaw) || chosenRaw.length === 0) bad('chosen', `expected a string or a non-empty list of responses, got ${Array.isArray(chosenRaw) ? 'an empty list' : describe(chosenRaw)}`);
    if (!Array.isArray(r.rejected) || r.rejected.length === 0) {
      bad('rejected', `expected a non-empty list of incorrect responses (best-of-N format), got ${Array.isArray(r.rejected) ? 'an empty list' : describe(r.rejected)}`);
    }
    const rejectedRaw = r.rejected as unknown[];
    if (rejectedRaw.every((x) => typeof x === 'object' && x !== null && !Array.isArray(x))) bad('rejected', 'expected a list of responses (strings or message lists); a list of message objects is one conversation (a preference pair, not best-of-N)');
    if (r.subset !== undefined && r.subset !== null && typeof r.subset !== 'string') bad('subset', `expected a string, got ${describe(r.subset)}`);
    return {
      place,
      subset: typeof r.subset === 'string' && r.subset !== '' ? r.subset : NO_SUBSET,
      chosen: (chosenRaw as unknown[]).map((c, i) => response(c, `chosen[${i}]`, prompt)),
      rejected: rejectedRaw.map((c, i) => response(c, `rejected[${i}]`, prompt)),
    };
  } catch (e) {
    if (e instanceof BadRow) throw new BestOfNError(`${place}, ${e.message}`);
    throw e;
  }
}

export class BestOfNError extends Error {
  override name = 'BestOfNError';
  readonly fix = 'Each record needs "prompt", "chosen" (a response or a list) and "rejected" (a list of responses), optionally "subset" — RewardBench 2\'s format.';
}

/** Token ids of a record's responses (chosen first, then rejected), as the scorer takes them. */
export interface TokenizedBestOfN {
  place: string;
  subset: string;
  chosen: Int32Array[];
  rejected: Int32Array[];
}

export function tokenizeBestOfN(tok: ChatTokenizer, recs: BestOfNRecord[]): TokenizedBestOfN[] {
  return recs.map((r) => ({
    place: r.place,
    subset: r.subset,
    chosen: r.chosen.map((m) => Int32Array.from(tok.encodeChat(m))),
    rejected: r.rejected.map((m) => Int32Array.from(tok.encodeChat(m))),
  }));
}

/** Flattens records into one list of sequences (chosen then rejected per record), and the inverse for rewards. */
export function flattenBestOfN(recs: { chosen: Int32Array[]; rejected: Int32Array[] }[]): Int32Array[] {
  return recs.flatMap((r) => [...r.chosen, ...r.rejected]);
}

export interface BestOfNSubset {
  subset: string;
  records: number;
  correct: number;
  accuracy: number;
}

export interface BestOfNReport {
  /** Share of records whose every chosen reward beats every rejected reward. */
  accuracy: number;
  /** Unweighted mean of the subsets' accuracies. */
  subset_mean_accuracy: number;
  records: number;
  /** Records left out because a response is longer than max_length (not scored). */
  filtered: number;
  subsets: BestOfNSubset[];
  /** Per scored record: correct or not, the best rejected margin (min chosen − max rejected). */
  perRecord: { place: string; subset: string; correct: boolean; margin: number }[];
}

/** Best-of-N accuracy from rewards laid out as flattenBestOfN does. */
export function bestOfNMetrics(recs: { place: string; subset: string; chosen: unknown[]; rejected: unknown[] }[], rewards: ArrayLike<number>, filtered = 0): BestOfNReport {
  const perRecord: BestOfNReport['perRecord'] = [];
  const bySubset = new Map<string, { records: number; correct: number }>();
  let o = 0;
  for (const r of recs) {
    let minC = Infinity;
    let maxR = -Infinity;
    for (let i = 0; i < r.chosen.length; i++) minC = Math.min(minC, rewards[o++]);
    for (let i = 0; i < r.rejected.length; i++) maxR = Math.max(maxR, rewards[o++]);
    const correct = minC > maxR;
    perRecord.push({ place: r.place, subset: r.subset, correct, margin: minC - maxR });
    const s = bySubset.get(r.subset) ?? { records: 0, correct: 0 };
    s.records++;
    if (correct) s.correct++;
    bySubset.set(r.subset, s);
  }
  if (o !== rewards.length) throw new Error(`bestOfNMetrics: ${rewards.length} rewards for ${o} responses`);
  const subsets = [...bySubset.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([subset, s]) => ({ subset, ...s, accuracy: s.correct / s.records }));
  const correct = perRecord.filter((r) => r.correct).length;
  return {
    accuracy: recs.length ? correct / recs.length : NaN,
    subset_mean_accuracy: subsets.length ? subsets.reduce((a, s) => a + s.accuracy, 0) / subsets.length : NaN,
    records: recs.length,
    filtered,
    subsets,
    perRecord,
  };
}

/** Drops records with any response longer than maxLength (null = keep all); returns the kept ones and the count. */
export function filterBestOfN<T extends { chosen: Int32Array[]; rejected: Int32Array[] }>(recs: T[], maxLength: number | null): { kept: T[]; filtered: number } {
  if (maxLength === null) return { kept: recs, filtered: 0 };
  const kept = recs.filter((r) => [...r.chosen, ...r.rejected].every((s) => s.length <= maxLength));
  return { kept, filtered: recs.length - kept.length };
}

/** Reads a best-of-N JSONL file: every record validated; the first problem throws, naming `name:line` and the field. */
export async function readBestOfNJsonl(source: ByteSource, name: string): Promise<BestOfNRecord[]> {
  const out: BestOfNRecord[] = [];
  for await (const ev of readJsonlLines(source)) {
    if (ev.kind === 'blank') continue;
    if (ev.kind === 'issue') throw new BestOfNError(`${name}: ${formatIssue(ev.issue)}`);
    out.push(validateBestOfNRow(ev.value, `${name}:${ev.line}`));
  }
  if (out.length === 0) throw new BestOfNError(`${name}: no record; expected one best-of-N record per line`);
  return out;
}
