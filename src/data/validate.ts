// The one validator every reader (JSONL, parquet, the studio's drop zone) runs on each row. It turns a parsed row into
// a normalized PreferencePair (records.ts) or the first problem found, named by field (a JSON path like
// `chosen[2].role`) and what was expected. Rules follow TRL's formats (trl/data_utils.py, RewardTrainer):
//   - a row with chosen_ids and rejected_ids is pre-tokenized (TRL skips tokenization; other columns become extra);
//   - otherwise chosen/rejected are both message lists (conversational) or both strings (standard);
//   - an explicit prompt has the same format as chosen; TRL tokenizes prompt + chosen as given;
//   - null prompt/margin count as absent (that is how `datasets` fills a column missing from some rows);
//   - token ids are integers in [0, 2^31) (the kernels' i32), and below the model's vocab_size when the caller knows it.
// Rows TRL 1.13 trains on although they are probably mistakes are accepted with a warning (RowWarning), never
// refused: chosen identical to rejected (loss log 2, no signal), a conversation whose last turn is not the assistant's,
// empty message content or text, an explicit prompt repeated at the start of both completions (TRL tokenizes prompt +
// completion, so the prompt appears twice), a completion after an explicit prompt that does not start with the
// assistant, and chosen/rejected whose first difference is not an assistant reply. (trl/trainer/reward_trainer.py
// `_prepare_dataset` tokenizes prompt + chosen / prompt + rejected with no other check; only the max_length filter
// drops rows.) Refused: what TRL cannot tokenize or the engine cannot score — wrong types, unknown roles, empty
// message lists or id lists, non-finite margins.
// Dataset-wide consistency (one format, prompt and margin on every row or none) lives in collect.ts.

import { type Message, type PreferencePair, type Role, type ScoreRecord, ROLES } from './records.ts';
import { describeNumber } from '../formats/fields.ts';

/** A per-row problem before its place (line/row) is attached. */
export interface RowIssue {
  field?: string;
  message: string;
}

/** Rows TRL trains on that are probably mistakes: accepted, counted, and shown with their first places. */
export type RowWarningKind = 'identical' | 'last-not-assistant' | 'empty-content' | 'prompt-repeated' | 'completion-not-assistant' | 'prompt-not-shared';

export interface RowWarning {
  kind: RowWarningKind;
  field?: string;
  message: string;
}

/** One line per warning kind, for summaries ("3 rows: chosen is identical to rejected ..."). */
export const ROW_WARNING_TEXT: Record<RowWarningKind, string> = {
  identical: 'chosen is identical to rejected (TRL trains on it with loss log 2 and no signal)',
  'last-not-assistant': 'the last message is not from the assistant (the reward is read after a non-assistant turn)',
  'empty-content': 'a message or text is empty',
  'prompt-repeated': 'chosen and rejected repeat the explicit prompt (TRL tokenizes prompt + completion, so the prompt appears twice)',
  'completion-not-assistant': 'with an explicit prompt, a completion does not start with an assistant message',
  'prompt-not-shared': 'chosen and rejected first differ in a non-assistant message (they do not share the prompt)',
};

export interface RowOptions {
  /** The model's vocab_size: token ids at or above it are refused (naming the field). */
  vocabSize?: number;
}

export type RowResult<T> = { ok: true; value: T; warnings: RowWarning[] } | { ok: false; issue: RowIssue };

/** Token ids must fit the kernels' signed 32-bit integers (Int32Array). */
export const MAX_TOKEN_ID = 2 ** 31 - 1;

const ROLE_LIST = ROLES.map((r) => `"${r}"`).join(', ');
const MESSAGES = 'a list of messages [{"role": ..., "content": ...}]';
const KNOWN_PAIR_KEYS = new Set(['prompt', 'chosen', 'rejected', 'margin', 'chosen_ids', 'rejected_ids']);

/** "a string", "an array", "null", ... for messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const t = typeof v;
  if (t === 'object') return 'an object';
  return `a ${t === 'bigint' ? 'integer' : t}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class Invalid {
  constructor(readonly issue: RowIssue) {}
}
function fail(field: string | undefined, message: string): never {
  throw new Invalid({ field, message });
}

/** The row being validated: its options and the warnings found so far. */
interface Ctx {
  opts: RowOptions;
  warnings: RowWarning[];
}
function warn(ctx: Ctx, kind: RowWarningKind, field: string | undefined, message: string): void {
  if (!ctx.warnings.some((w) => w.kind === kind)) ctx.warnings.push({ kind, ...(field !== undefined ? { field } : {}), message });
}

function checkMessage(ctx: Ctx, v: unknown, field: string): Message {
  if (!isPlainObject(v)) fail(field, `expected a message object {"role": ..., "content": ...}, got ${describe(v)}`);
  if (!('role' in v) || v.role === undefined) fail(`${field}.role`, `missing; expected one of ${ROLE_LIST}`);
  if (typeof v.role !== 'string') fail(`${field}.role`, `expected one of ${ROLE_LIST}, got ${describe(v.role)}`);
  if (!(ROLES as readonly string[]).includes(v.role)) {
    fail(`${field}.role`, `unknown role ${JSON.stringify(v.role)}; expected one of ${ROLE_LIST}`);
  }
  if (!('content' in v) || v.content === undefined) fail(`${field}.content`, 'missing; expected a string');
  if (typeof v.content !== 'string') {
    const hint = Array.isArray(v.content) ? ' (lists of content parts are not supported; use plain text)' : '';
    fail(`${field}.content`, `expected a string, got ${describe(v.content)}${hint}`);
  }
  if (v.role !== 'system' && v.content.trim() === '') warn(ctx, 'empty-content', `${field}.content`, 'empty');
  return { ...v, role: v.role as Role, content: v.content };
}

function checkMessages(ctx: Ctx, v: unknown[], field: string): Message[] {
  if (v.length === 0) fail(field, 'empty list; expected at least one message');
  return v.map((m, i) => checkMessage(ctx, m, `${field}[${i}]`));
}

function checkEndsWithAssistant(ctx: Ctx, msgs: Message[], field: string): void {
  const last = msgs[msgs.length - 1];
  if (last.role !== 'assistant') warn(ctx, 'last-not-assistant', `${field}[${msgs.length - 1}].role`, `"${last.role}", not "assistant"`);
}

function sameMessage(a: Message, b: Message): boolean {
  return a.role === b.role && a.content === b.content;
}

function checkText(ctx: Ctx, v: string, field: string): string {
  if (v.trim() === '') warn(ctx, 'empty-content', field, 'empty');
  return v;
}

function checkIds(ctx: Ctx, v: unknown, field: string): number[] {
  if (!Array.isArray(v)) fail(field, `expected a list of token ids (non-negative integers), got ${describe(v)}`);
  if (v.length === 0) fail(field, 'empty list; expected at least one token id');
  const V = ctx.opts.vocabSize;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > MAX_TOKEN_ID) {
      const got = typeof x === 'number' ? describeNumber(x) : describe(x);
      fail(`${field}[${i}]`, `expected a token id, an integer in [0, ${V ?? 2 ** 31}), got ${got}`);
    }
    if (V !== undefined && x >= V) {
      fail(`${field}[${i}]`, `token id ${x} is outside the model's vocabulary (vocab_size ${V}); were these ids made with another tokenizer? Tokenize the text with this model's tokenizer`);
    }
  }
  return v as number[];
}

function checkMargin(row: Record<string, unknown>): number | undefined {
  const m = row.margin;
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'number' || !Number.isFinite(m)) {
    const shown = typeof m === 'string' ? ` (${JSON.stringify(m.length > 40 ? `${m.slice(0, 40)}…` : m)})` : '';
    fail('margin', `expected a finite number, got ${typeof m === 'number' ? describeNumber(m) : describe(m)}${shown}`);
  }
  return m;
}

function extraColumns(row: Record<string, unknown>, used: Set<string>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const k of Object.keys(row)) if (!used.has(k)) extra[k] = row[k];
  return extra;
}

function tokenizedPair(ctx: Ctx, row: Record<string, unknown>): PreferencePair {
  for (const [name, other] of [['chosen_ids', 'rejected_ids'], ['rejected_ids', 'chosen_ids']]) {
    if (row[name] === undefined || row[name] === null) {
      fail(name, `missing; ${other} is present, so ${name} (a list of token ids) is required too`);
    }
  }
  const chosen_ids = checkIds(ctx, row.chosen_ids, 'chosen_ids');
  const rejected_ids = checkIds(ctx, row.rejected_ids, 'rejected_ids');
  if (chosen_ids.length === rejected_ids.length && chosen_ids.every((x, i) => x === rejected_ids[i])) {
    warn(ctx, 'identical', 'rejected_ids', 'identical to chosen_ids');
  }
  const margin = checkMargin(row);
  const extra = extraColumns(row, new Set(['chosen_ids', 'rejected_ids', 'margin']));
  return { format: 'tokenized', chosen_ids, rejected_ids, ...(margin !== undefined ? { margin } : {}), extra };
}

function conversationalPair(ctx: Ctx, row: Record<string, unknown>, chosenRaw: unknown[]): PreferencePair {
  if (!Array.isArray(row.rejected)) {
    fail('rejected', `expected ${MESSAGES} like chosen (conversational format), got ${describe(row.rejected)}; chosen and rejected must use the same format`);
  }
  let prompt: Message[] | undefined;
  if (row.prompt !== undefined && row.prompt !== null) {
    if (!Array.isArray(row.prompt)) {
      fail('prompt', `expected ${MESSAGES} like chosen (conversational format), got ${describe(row.prompt)}`);
    }
    prompt = checkMessages(ctx, row.prompt, 'prompt');
  }
  const chosen = checkMessages(ctx, chosenRaw, 'chosen');
  const rejected = checkMessages(ctx, row.rejected, 'rejected');
  checkEndsWithAssistant(ctx, chosen, 'chosen');
  checkEndsWithAssistant(ctx, rejected, 'rejected');
  if (prompt) {
    const repeats = (msgs: Message[]) => msgs.length > prompt.length && prompt.every((m, i) => sameMessage(m, msgs[i]));
    const repeated = repeats(chosen) && repeats(rejected);
    if (repeated) warn(ctx, 'prompt-repeated', 'chosen', 'starts with the prompt\'s messages again');
    for (const [side, msgs] of [['chosen', chosen], ['rejected', rejected]] as const) {
      if (!repeated && msgs[0].role !== 'assistant') warn(ctx, 'completion-not-assistant', `${side}[0].role`, `"${msgs[0].role}", not "assistant"`);
    }
  } else {
    // Implicit prompt: the first differing message should be an assistant reply on each side that has one.
    let k = 0;
    while (k < chosen.length && k < rejected.length && sameMessage(chosen[k], rejected[k])) k++;
    for (const [side, msgs] of [['rejected', rejected], ['chosen', chosen]] as const) {
      if (k < msgs.length && msgs[k].role !== 'assistant') warn(ctx, 'prompt-not-shared', `${side}[${k}]`, `a "${msgs[k].role}" message`);
    }
  }
  if (chosen.length === rejected.length && chosen.every((m, i) => sameMessage(m, rejected[i]))) {
    warn(ctx, 'identical', 'rejected', 'identical to chosen');
  }
  const margin = checkMargin(row);
  return {
    format: 'conversational',
    ...(prompt ? { prompt } : {}),
    chosen,
    rejected,
    ...(margin !== undefined ? { margin } : {}),
    extra: extraColumns(row, KNOWN_PAIR_KEYS),
  };
}

function standardPair(ctx: Ctx, row: Record<string, unknown>, chosenRaw: string): PreferencePair {
  if (typeof row.rejected !== 'string') {
    fail('rejected', `expected a string like chosen (standard format), got ${describe(row.rejected)}; chosen and rejected must use the same format`);
  }
  let prompt: string | undefined;
  if (row.prompt !== undefined && row.prompt !== null) {
    if (typeof row.prompt !== 'string') fail('prompt', `expected a string like chosen (standard format), got ${describe(row.prompt)}`);
    prompt = checkText(ctx, row.prompt, 'prompt');
  }
  const chosen = checkText(ctx, chosenRaw, 'chosen');
  const rejected = checkText(ctx, row.rejected, 'rejected');
  if (prompt !== undefined && prompt.trim() !== '' && chosen.startsWith(prompt) && rejected.startsWith(prompt)) {
    warn(ctx, 'prompt-repeated', 'chosen', 'starts with the prompt text again (so does rejected)');
  }
  if (chosen === rejected) warn(ctx, 'identical', 'rejected', 'identical to chosen');
  const margin = checkMargin(row);
  return {
    format: 'standard',
    ...(prompt !== undefined ? { prompt } : {}),
    chosen,
    rejected,
    ...(margin !== undefined ? { margin } : {}),
    extra: extraColumns(row, KNOWN_PAIR_KEYS),
  };
}

/** Validate one parsed row (a JSON object from a JSONL line or a parquet row) as a preference pair. */
export function validatePreferenceRow(row: unknown, opts: RowOptions = {}): RowResult<PreferencePair> {
  const ctx: Ctx = { opts, warnings: [] };
  const ok = (value: PreferencePair): RowResult<PreferencePair> => ({ ok: true, value, warnings: ctx.warnings });
  try {
    if (!isPlainObject(row)) fail(undefined, `expected a JSON object with "chosen" and "rejected", got ${describe(row)}`);
    const hasIds = (k: string) => row[k] !== undefined && row[k] !== null;
    if (hasIds('chosen_ids') || hasIds('rejected_ids')) return ok(tokenizedPair(ctx, row));
    for (const side of ['chosen', 'rejected']) {
      if (!(side in row) || row[side] === undefined) fail(side, `missing; expected ${MESSAGES} or a string`);
    }
    if (Array.isArray(row.chosen)) return ok(conversationalPair(ctx, row, row.chosen));
    if (typeof row.chosen === 'string') return ok(standardPair(ctx, row, row.chosen));
    fail('chosen', `expected ${MESSAGES} or a string, got ${describe(row.chosen)}`);
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, issue: e.issue };
    throw e;
  }
}

/** Validate one record to score: `messages` (conversational), `text` (standard) or `input_ids` (tokenized). */
export function validateScoreRow(row: unknown, opts: RowOptions = {}): RowResult<ScoreRecord> {
  const ctx: Ctx = { opts, warnings: [] };
  try {
    if (!isPlainObject(row)) fail(undefined, `expected a JSON object with "messages", "text" or "input_ids", got ${describe(row)}`);
    const extra = extraColumns(row, new Set(['messages', 'text', 'input_ids']));
    if (row.input_ids !== undefined && row.input_ids !== null) {
      return { ok: true, value: { format: 'tokenized', input_ids: checkIds(ctx, row.input_ids, 'input_ids'), extra }, warnings: ctx.warnings };
    }
    if (row.messages !== undefined && row.messages !== null) {
      if (!Array.isArray(row.messages)) fail('messages', `expected ${MESSAGES}, got ${describe(row.messages)}`);
      const messages = checkMessages(ctx, row.messages, 'messages');
      const last = messages[messages.length - 1];
      // a score is the reward of the last reply: a record must end with one
      if (last.role !== 'assistant') fail(`messages[${messages.length - 1}].role`, `the last message of messages must come from the assistant, got "${last.role}"`);
      return { ok: true, value: { format: 'conversational', messages, extra }, warnings: ctx.warnings };
    }
    if (row.text !== undefined && row.text !== null) {
      if (typeof row.text !== 'string') fail('text', `expected a string, got ${describe(row.text)}`);
      return { ok: true, value: { format: 'standard', text: checkText(ctx, row.text, 'text'), extra }, warnings: ctx.warnings };
    }
    fail(undefined, `missing "messages", "text" or "input_ids"; expected one of them (${MESSAGES}, a string, or a list of token ids)`);
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, issue: e.issue };
    throw e;
  }
}

/** The full sequences TRL tokenizes: prompt + chosen and prompt + rejected (message lists or strings). */
export function fullSequences(pair: PreferencePair): { chosen: Message[] | string | number[]; rejected: Message[] | string | number[] } {
  if (pair.format === 'tokenized') return { chosen: pair.chosen_ids, rejected: pair.rejected_ids };
  if (pair.format === 'conversational') {
    const p = pair.prompt ?? [];
    return { chosen: [...p, ...pair.chosen], rejected: [...p, ...pair.rejected] };
  }
  const p = pair.prompt ?? '';
  return { chosen: p + pair.chosen, rejected: p + pair.rejected };
}

/** Prompt / completions split for display and prompt-length statistics: the explicit prompt, or TRL's implicit one
 *  (`extract_prompt`: the longest shared prefix; for strings, backed off by one when it ends after a space). */
export function splitPrompt(pair: PreferencePair): {
  prompt: Message[] | string | number[];
  chosen: Message[] | string | number[];
  rejected: Message[] | string | number[];
} {
  if (pair.format !== 'tokenized' && pair.prompt !== undefined) {
    return { prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected };
  }
  const { chosen, rejected } = fullSequences(pair);
  const eq = (i: number): boolean => {
    if (typeof chosen === 'string') return chosen[i] === (rejected as string)[i];
    const a = chosen[i];
    const b = (rejected as (Message | number)[])[i];
    return typeof a === 'number' ? a === b : sameMessage(a, b as Message);
  };
  const n = Math.min(chosen.length, rejected.length);
  let idx = 0;
  while (idx < n && eq(idx)) idx++;
  if (typeof chosen === 'string' && idx < n && idx > 0 && chosen[idx - 1] === ' ') idx--;
  return { prompt: chosen.slice(0, idx), chosen: chosen.slice(idx), rejected: rejected.slice(idx) } as ReturnType<typeof splitPrompt>;
}
