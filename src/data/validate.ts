// The one validator every reader (JSONL, parquet, the studio's drop zone) runs on each row. It turns a parsed row into
// a normalized PreferencePair (records.ts) or the first problem found, named by field (a JSON path like
// `chosen[2].role`) and what was expected. Rules follow TRL's formats (trl/data_utils.py, RewardTrainer):
//   - a row with chosen_ids and rejected_ids is pre-tokenized (TRL skips tokenization; other columns become extra);
//   - otherwise chosen/rejected are both message lists (conversational) or both strings (standard);
//   - an explicit prompt has the same format as chosen; TRL tokenizes prompt + chosen, so with an explicit prompt the
//     completion must not repeat it and must start with the assistant;
//   - without a prompt, chosen and rejected must share their leading prompt messages: the first message where they
//     differ must be an assistant reply on both sides (the implicit prompt);
//   - a conversational sequence must end with an assistant message (the reward is read at the end of the reply);
//   - null prompt/margin count as absent (that is how `datasets` fills a column missing from some rows).
// Dataset-wide consistency (one format, prompt and margin on every row or none) lives in collect.ts.

import { type Message, type PreferencePair, type Role, type ScoreRecord, ROLES } from './records.ts';

/** A per-row problem before its place (line/row) is attached. */
export interface RowIssue {
  field?: string;
  message: string;
  /** The row was well-formed but chosen equals rejected. */
  identical?: boolean;
}

export type RowResult<T> = { ok: true; value: T } | { ok: false; issue: RowIssue };

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
function fail(field: string | undefined, message: string, identical = false): never {
  throw new Invalid({ field, message, ...(identical ? { identical } : {}) });
}

function checkMessage(v: unknown, field: string): Message {
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
  if (v.role !== 'system' && v.content.trim() === '') {
    fail(`${field}.content`, 'empty; expected non-empty text (only a system message may be empty)');
  }
  return { ...v, role: v.role as Role, content: v.content };
}

function checkMessages(v: unknown[], field: string): Message[] {
  if (v.length === 0) fail(field, 'empty list; expected at least one message');
  return v.map((m, i) => checkMessage(m, `${field}[${i}]`));
}

function checkEndsWithAssistant(msgs: Message[], field: string): void {
  const last = msgs[msgs.length - 1];
  if (last.role !== 'assistant') {
    fail(`${field}[${msgs.length - 1}].role`, `the last message of ${field} must come from the assistant, got "${last.role}"`);
  }
}

function sameMessage(a: Message, b: Message): boolean {
  return a.role === b.role && a.content === b.content;
}

function checkText(v: string, field: string, what = 'expected non-empty text'): string {
  if (v.trim() === '') fail(field, `empty; ${what}`);
  return v;
}

function checkIds(v: unknown, field: string): number[] {
  if (!Array.isArray(v)) fail(field, `expected a list of token ids (non-negative integers), got ${describe(v)}`);
  if (v.length === 0) fail(field, 'empty list; expected at least one token id');
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) {
      fail(`${field}[${i}]`, `expected a non-negative integer token id, got ${typeof x === 'number' ? x : describe(x)}`);
    }
  }
  return v as number[];
}

function checkMargin(row: Record<string, unknown>): number | undefined {
  const m = row.margin;
  if (m === undefined || m === null) return undefined;
  if (typeof m !== 'number' || !Number.isFinite(m)) {
    const shown = typeof m === 'string' ? ` (${JSON.stringify(m)})` : '';
    fail('margin', `expected a finite number, got ${describe(m)}${shown}`);
  }
  return m;
}

function extraColumns(row: Record<string, unknown>, used: Set<string>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const k of Object.keys(row)) if (!used.has(k)) extra[k] = row[k];
  return extra;
}

function tokenizedPair(row: Record<string, unknown>): PreferencePair {
  for (const [name, other] of [['chosen_ids', 'rejected_ids'], ['rejected_ids', 'chosen_ids']]) {
    if (row[name] === undefined || row[name] === null) {
      fail(name, `missing; ${other} is present, so ${name} (a list of token ids) is required too`);
    }
  }
  const chosen_ids = checkIds(row.chosen_ids, 'chosen_ids');
  const rejected_ids = checkIds(row.rejected_ids, 'rejected_ids');
  if (chosen_ids.length === rejected_ids.length && chosen_ids.every((x, i) => x === rejected_ids[i])) {
    fail('rejected_ids', 'identical to chosen_ids; a preference pair needs two different responses', true);
  }
  const margin = checkMargin(row);
  const extra = extraColumns(row, new Set(['chosen_ids', 'rejected_ids', 'margin']));
  return { format: 'tokenized', chosen_ids, rejected_ids, ...(margin !== undefined ? { margin } : {}), extra };
}

function conversationalPair(row: Record<string, unknown>, chosenRaw: unknown[]): PreferencePair {
  if (!Array.isArray(row.rejected)) {
    fail('rejected', `expected ${MESSAGES} like chosen (conversational format), got ${describe(row.rejected)}; chosen and rejected must use the same format`);
  }
  let prompt: Message[] | undefined;
  if (row.prompt !== undefined && row.prompt !== null) {
    if (!Array.isArray(row.prompt)) {
      fail('prompt', `expected ${MESSAGES} like chosen (conversational format), got ${describe(row.prompt)}`);
    }
    prompt = checkMessages(row.prompt, 'prompt');
  }
  const chosen = checkMessages(chosenRaw, 'chosen');
  const rejected = checkMessages(row.rejected, 'rejected');
  checkEndsWithAssistant(chosen, 'chosen');
  checkEndsWithAssistant(rejected, 'rejected');
  if (prompt) {
    for (const [side, msgs] of [['chosen', chosen], ['rejected', rejected]] as const) {
      if (msgs.length > prompt.length && prompt.every((m, i) => sameMessage(m, msgs[i]))) {
        fail(side, `starts with the prompt's messages again; with an explicit prompt, ${side} holds only the completion (TRL tokenizes prompt + ${side}), so remove the prompt messages from ${side} or drop the prompt field`);
      }
      if (msgs[0].role !== 'assistant') {
        fail(`${side}[0].role`, `with an explicit prompt, ${side} holds only the completion and must start with an assistant message, got "${msgs[0].role}"`);
      }
    }
  } else {
    // Implicit prompt: the first differing message must be an assistant reply on each side that has one.
    let k = 0;
    while (k < chosen.length && k < rejected.length && sameMessage(chosen[k], rejected[k])) k++;
    for (const [side, msgs] of [['rejected', rejected], ['chosen', chosen]] as const) {
      if (k < msgs.length && msgs[k].role !== 'assistant') {
        const other = side === 'chosen' ? 'rejected' : 'chosen';
        fail(`${side}[${k}]`, `differs from ${other}[${k}] but is a "${msgs[k].role}" message; chosen and rejected must share the prompt (the messages before the first differing assistant reply)`);
      }
    }
  }
  if (chosen.length === rejected.length && chosen.every((m, i) => sameMessage(m, rejected[i]))) {
    fail('rejected', 'identical to chosen; a preference pair needs two different responses', true);
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

function standardPair(row: Record<string, unknown>, chosenRaw: string): PreferencePair {
  if (typeof row.rejected !== 'string') {
    fail('rejected', `expected a string like chosen (standard format), got ${describe(row.rejected)}; chosen and rejected must use the same format`);
  }
  let prompt: string | undefined;
  if (row.prompt !== undefined && row.prompt !== null) {
    if (typeof row.prompt !== 'string') fail('prompt', `expected a string like chosen (standard format), got ${describe(row.prompt)}`);
    prompt = checkText(row.prompt, 'prompt', 'expected non-empty text, or omit prompt');
  }
  const chosen = checkText(chosenRaw, 'chosen');
  const rejected = checkText(row.rejected, 'rejected');
  if (prompt !== undefined && chosen.startsWith(prompt) && rejected.startsWith(prompt)) {
    fail('chosen', 'starts with the prompt text again (so does rejected); with an explicit prompt, chosen holds only the completion (TRL tokenizes prompt + chosen), so remove the prompt from chosen and rejected or drop the prompt field');
  }
  if (chosen === rejected) fail('rejected', 'identical to chosen; a preference pair needs two different responses', true);
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
export function validatePreferenceRow(row: unknown): RowResult<PreferencePair> {
  try {
    if (!isPlainObject(row)) fail(undefined, `expected a JSON object with "chosen" and "rejected", got ${describe(row)}`);
    const hasIds = (k: string) => row[k] !== undefined && row[k] !== null;
    if (hasIds('chosen_ids') || hasIds('rejected_ids')) return { ok: true, value: tokenizedPair(row) };
    for (const side of ['chosen', 'rejected']) {
      if (!(side in row) || row[side] === undefined) fail(side, `missing; expected ${MESSAGES} or a string`);
    }
    if (Array.isArray(row.chosen)) return { ok: true, value: conversationalPair(row, row.chosen) };
    if (typeof row.chosen === 'string') return { ok: true, value: standardPair(row, row.chosen) };
    fail('chosen', `expected ${MESSAGES} or a string, got ${describe(row.chosen)}`);
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, issue: e.issue };
    throw e;
  }
}

/** Validate one record to score: `messages` (conversational), `text` (standard) or `input_ids` (tokenized). */
export function validateScoreRow(row: unknown): RowResult<ScoreRecord> {
  try {
    if (!isPlainObject(row)) fail(undefined, `expected a JSON object with "messages", "text" or "input_ids", got ${describe(row)}`);
    const extra = extraColumns(row, new Set(['messages', 'text', 'input_ids']));
    if (row.input_ids !== undefined && row.input_ids !== null) {
      return { ok: true, value: { format: 'tokenized', input_ids: checkIds(row.input_ids, 'input_ids'), extra } };
    }
    if (row.messages !== undefined && row.messages !== null) {
      if (!Array.isArray(row.messages)) fail('messages', `expected ${MESSAGES}, got ${describe(row.messages)}`);
      const messages = checkMessages(row.messages, 'messages');
      checkEndsWithAssistant(messages, 'messages');
      return { ok: true, value: { format: 'conversational', messages, extra } };
    }
    if (row.text !== undefined && row.text !== null) {
      if (typeof row.text !== 'string') fail('text', `expected a string, got ${describe(row.text)}`);
      return { ok: true, value: { format: 'standard', text: checkText(row.text, 'text'), extra } };
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
