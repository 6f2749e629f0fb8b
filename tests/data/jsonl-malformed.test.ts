// Malformed preference JSONL: each case asserts the exact message a user sees (line, column or field, expectation).
// Expected strings are written by hand from the rules in src/data/validate.ts and src/data/jsonl.ts, and the columns
// are counted by hand on the literal lines below (1-based, in characters).
import { describe, expect, it } from 'vitest';
import { readPreferenceJsonl, textSource } from '../../src/data/jsonl.ts';
import { formatIssue, formatWarning } from '../../src/data/records.ts';

const ROLES = 'expected one of "system", "user", "assistant", "tool"';
const u = (content: string) => ({ role: 'user', content });
const a = (content: string) => ({ role: 'assistant', content });
/** A valid conversational row to put around a broken one. */
const GOOD = JSON.stringify({ chosen: [u('Hi'), a('Hello!')], rejected: [u('Hi'), a('Go away.')] });
const row = (o: unknown) => JSON.stringify(o);

async function issues(text: string, opts: { maxLineBytes?: number } = {}): Promise<string[]> {
  const r = await readPreferenceJsonl(textSource(text, 7), opts);
  return r.summary.errors.map(formatIssue);
}

/** [name, line 2 of a three-line file (GOOD, bad, GOOD), the expected message]. */
const CASES: [string, string, string][] = [
  // --- JSON syntax (column counted on the literal) ---
  ['unclosed object', '{"chosen": "a", "rejected": "b"', `line 2, column 32: invalid JSON: expected ',' or '}' after a property value, got the end of the line`],
  ['trailing comma', '{"chosen": "a", "rejected": "b",}', `line 2, column 33: invalid JSON: expected '"' to start a property name, got '}' (trailing comma before '}'?)`],
  ['single-quoted names', "{'chosen': 'a'}", `line 2, column 2: invalid JSON: property names must use double quotes ("), got '''`],
  ['raw tab in a string', '{"chosen": "a\tb", "rejected": "c"}', 'line 2, column 14: invalid JSON: control character U+0009 must be escaped inside a string (e.g. \\n, \\t)'],
  ['bad escape', '{"chosen": "a\\qb", "rejected": "c"}', `line 2, column 14: invalid JSON: invalid escape '\\q' in a string; valid escapes are \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX`],
  ['NaN literal', '{"chosen": "a", "rejected": "b", "margin": NaN}', 'line 2, column 44: invalid JSON: NaN and Infinity are not valid JSON; use a number or null'],
  ['two objects on one line', '{"chosen": "a", "rejected": "b"}{"chosen": "c"}', `line 2, column 33: invalid JSON: unexpected '{' after the JSON value (one JSON object per line)`],
  ['missing colon', '{"chosen" "a"}', `line 2, column 11: invalid JSON: expected ':' after a property name, got '"'`],
  ['leading zero', '{"chosen": "a", "rejected": "b", "margin": 01}', 'line 2, column 45: invalid JSON: numbers must not have leading zeros'],
  ['unterminated string', '{"chosen": "abc', `line 2, column 16: invalid JSON: unterminated string (opened at column 12); expected a closing '"'`],
  // --- row shape ---
  ['not an object (array)', '[1, 2]', 'line 2: expected a JSON object with "chosen" and "rejected", got an array'],
  ['not an object (string)', '"hello"', 'line 2: expected a JSON object with "chosen" and "rejected", got a string'],
  ['missing chosen', row({ rejected: [u('Hi'), a('x')] }), 'line 2, field chosen: missing; expected a list of messages [{"role": ..., "content": ...}] or a string'],
  ['missing rejected', row({ chosen: [u('Hi'), a('x')] }), 'line 2, field rejected: missing; expected a list of messages [{"role": ..., "content": ...}] or a string'],
  ['chosen is a number', row({ chosen: 3, rejected: 'x' }), 'line 2, field chosen: expected a list of messages [{"role": ..., "content": ...}] or a string, got a number'],
  // --- messages ---
  ['message not an object', row({ chosen: ['Hi', a('x')], rejected: [u('Hi'), a('y')] }), 'line 2, field chosen[0]: expected a message object {"role": ..., "content": ...}, got a string'],
  ['missing role', row({ chosen: [u('Hi'), { content: 'x' }], rejected: [u('Hi'), a('y')] }), `line 2, field chosen[1].role: missing; ${ROLES}`],
  ['unknown role', row({ chosen: [u('Hi'), a('x')], rejected: [u('Hi'), a('y'), { role: 'bot', content: 'z' }] }), `line 2, field rejected[2].role: unknown role "bot"; ${ROLES}`],
  ['role not a string', row({ chosen: [{ role: 1, content: 'Hi' }, a('x')], rejected: [u('Hi'), a('y')] }), `line 2, field chosen[0].role: ${ROLES}, got a number`],
  ['missing content', row({ chosen: [u('Hi'), { role: 'assistant' }], rejected: [u('Hi'), a('y')] }), 'line 2, field chosen[1].content: missing; expected a string'],
  ['null content', row({ chosen: [u('Hi'), a('x')], rejected: [u('Hi'), { role: 'assistant', content: null }] }), 'line 2, field rejected[1].content: expected a string, got null'],
  ['content parts list', row({ chosen: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }, a('x')], rejected: [u('Hi'), a('y')] }), 'line 2, field chosen[0].content: expected a string, got an array (lists of content parts are not supported; use plain text)'],
  ['empty message list', row({ chosen: [], rejected: [u('Hi'), a('y')] }), 'line 2, field chosen: empty list; expected at least one message'],
  // --- formats ---
  ['mixed formats in a row', row({ chosen: [u('Hi'), a('x')], rejected: 'y' }), 'line 2, field rejected: expected a list of messages [{"role": ..., "content": ...}] like chosen (conversational format), got a string; chosen and rejected must use the same format'],
  ['string vs list', row({ chosen: 'x', rejected: [a('y')] }), 'line 2, field rejected: expected a string like chosen (standard format), got an array; chosen and rejected must use the same format'],
  ['prompt format differs from chosen', row({ prompt: 'Hi', chosen: [a('x')], rejected: [a('y')] }), 'line 2, field prompt: expected a list of messages [{"role": ..., "content": ...}] like chosen (conversational format), got a string'],
  // --- margin and ids ---
  ['margin as a string', row({ chosen: [u('Hi'), a('x')], rejected: [u('Hi'), a('y')], margin: '0.5' }), 'line 2, field margin: expected a finite number, got a string ("0.5")'],
  ['negative token id', row({ chosen_ids: [1, -2], rejected_ids: [3] }), 'line 2, field chosen_ids[1]: expected a token id, an integer in [0, 2147483648), got -2'],
  ['fractional token id', row({ chosen_ids: [1], rejected_ids: [3, 4.5] }), 'line 2, field rejected_ids[1]: expected a token id, an integer in [0, 2147483648), got 4.5'],
  ['token id 2^31 (wraps in an Int32Array)', row({ chosen_ids: [1, 2147483648], rejected_ids: [3] }), 'line 2, field chosen_ids[1]: expected a token id, an integer in [0, 2147483648), got 2147483648'],
  ['token id 2^64-1', '{"chosen_ids": [18446744073709551615], "rejected_ids": [3]}', 'line 2, field chosen_ids[0]: expected a token id, an integer in [0, 2147483648), got a number beyond 2^53 (≈1.845e+19, not exact)'],
  ['margin 1e400', '{"chosen": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "x"}], "rejected": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "y"}], "margin": 1e400}', 'line 2, field margin: expected a finite number, got a number too large for a 64-bit float (read as Infinity)'],
  // the 100th '[' (depth 101 with the outer '{') is at column 38 + 100: the first '[' is at column 39
  ['10,000-deep nesting in an ignored column', `{"chosen": "a", "rejected": "b", "x": ${'['.repeat(10000)}${']'.repeat(10000)}}`, `line 2, column ${38 + 100}: arrays/objects nested deeper than 100 levels; a preference record needs a few levels at most`],
  ['ids not a list', row({ chosen_ids: '1 2 3', rejected_ids: [3] }), 'line 2, field chosen_ids: expected a list of token ids (non-negative integers), got a string'],
  ['rejected_ids missing', row({ chosen_ids: [1, 2] }), 'line 2, field rejected_ids: missing; chosen_ids is present, so rejected_ids (a list of token ids) is required too'],
];

describe('malformed JSONL: one precise message per broken line', () => {
  it('has at least 25 cases', () => expect(CASES.length).toBeGreaterThanOrEqual(25));
  for (const [name, bad, expected] of CASES) {
    it(name, async () => {
      const r = await readPreferenceJsonl(textSource(`${GOOD}\n${bad}\n${GOOD}\n`, 5));
      expect(r.summary.errors.map(formatIssue)).toEqual([expected]);
      expect(r.summary).toMatchObject({ rows: 3, valid: 2, invalid: 1 });
    });
  }
});

/** Rows TRL 1.13 trains on (reward_trainer.py `_prepare_dataset` tokenizes prompt + completion with no other check):
 *  accepted, with a warning of this kind naming line 2 and the field. */
const WARN_CASES: [string, string, string, string][] = [
  ['empty assistant content', row({ chosen: [u('Hi'), a('  ')], rejected: [u('Hi'), a('y')] }), 'empty-content', 'chosen[1].content'],
  ['last message not from the assistant', row({ chosen: [u('Hi'), a('x'), u('More?')], rejected: [u('Hi'), a('y')] }), 'last-not-assistant', 'chosen[2].role'],
  ['identical conversational pair', row({ chosen: [u('Hi'), a('x')], rejected: [u('Hi'), a('x')] }), 'identical', 'rejected'],
  ['identical standard pair', row({ chosen: 'same', rejected: 'same' }), 'identical', 'rejected'],
  ['identical token ids', row({ chosen_ids: [1, 2], rejected_ids: [1, 2] }), 'identical', 'rejected_ids'],
  ['blank standard text', row({ chosen: ' \t', rejected: 'y' }), 'empty-content', 'chosen'],
  ['different implicit prompts', row({ chosen: [u('Hi'), a('x')], rejected: [u('Hey'), a('y')] }), 'prompt-not-shared', 'rejected[0]'],
  ['prompt repeated in both completions', row({ prompt: [u('Hi')], chosen: [u('Hi'), a('x')], rejected: [u('Hi'), a('y')] }), 'prompt-repeated', 'chosen'],
  ['explicit prompt, completion starts with user', row({ prompt: [u('Hi')], chosen: [a('x')], rejected: [u('Other'), a('y')] }), 'completion-not-assistant', 'rejected[0].role'],
  ['standard prompt repeated', row({ prompt: 'Q: sky?', chosen: 'Q: sky? blue', rejected: 'Q: sky? red' }), 'prompt-repeated', 'chosen'],
];

describe('rows TRL trains on are accepted with a warning naming the line and field', () => {
  for (const [name, line, kind, field] of WARN_CASES) {
    it(name, async () => {
      const good = line.includes('_ids') ? row({ chosen_ids: [1], rejected_ids: [2] }) : line.includes('prompt') ? null : line.includes('"role"') ? GOOD : row({ chosen: 'a', rejected: 'b' });
      const text = good ? `${good}\n${line}\n${good}\n` : `\n${line}\n`;
      const r = await readPreferenceJsonl(textSource(text, 5));
      expect(r.summary.errors).toEqual([]);
      expect(r.summary.invalid).toBe(0);
      expect(r.summary.warnings.map((w) => [w.kind, w.count, w.first.map((i) => [i.place, i.field])])).toEqual([[kind, 1, [[{ kind: 'line', line: 2 }, field]]]]);
      expect(r.importRecords('all-or-nothing').length).toBe(good ? 3 : 1);
    });
  }

  it('counts every row and keeps the first five places; identical pairs are counted', async () => {
    const same = row({ chosen: 'same', rejected: 'same' });
    const text = [row({ chosen: 'a', rejected: 'b' }), ...Array.from({ length: 7 }, () => same)].join('\n');
    const r = await readPreferenceJsonl(textSource(text));
    const w = r.summary.warnings[0];
    expect([w.count, w.first.map((i) => (i.place as { line: number }).line), r.summary.identicalPairs]).toEqual([7, [2, 3, 4, 5, 6], 7]);
    expect(formatWarning(w)).toBe('7 rows: chosen is identical to rejected (TRL trains on it with loss log 2 and no signal) — lines 2, 3, 4, 5, 6, …');
  });
});

describe('token ids against the model\'s vocabulary', () => {
  it('an id at or above vocab_size is refused naming the line and field', async () => {
    const text = `${row({ chosen_ids: [1, 2], rejected_ids: [3] })}\n${row({ chosen_ids: [1, 2, 99999999], rejected_ids: [3] })}\n`;
    const r = await readPreferenceJsonl(textSource(text), { vocabSize: 151936 });
    expect(r.summary.errors.map(formatIssue)).toEqual([
      "line 2, field chosen_ids[2]: token id 99999999 is outside the model's vocabulary (vocab_size 151936); were these ids made with another tokenizer? Tokenize the text with this model's tokenizer",
    ]);
    expect((await readPreferenceJsonl(textSource(text), { vocabSize: 100000000 })).summary.invalid).toBe(0);
  });
});

describe('malformed JSONL: file-level problems', () => {
  it('a line over the size limit is reported and skipped; its neighbours still parse', async () => {
    const long = row({ chosen: 'x'.repeat(200), rejected: 'y' });
    const text = `${row({ chosen: 'a', rejected: 'b' })}\n${long}\n${row({ chosen: 'c', rejected: 'd' })}`;
    expect(await issues(text, { maxLineBytes: 100 })).toEqual([
      'line 2: line is longer than the limit of 100 bytes; split the record or raise maxLineBytes',
    ]);
    const r = await readPreferenceJsonl(textSource(text, 3), { maxLineBytes: 100 });
    expect(r.summary).toMatchObject({ rows: 3, valid: 2, invalid: 1 });
  });

  it('invalid UTF-8 names the line and the byte', async () => {
    const enc = new TextEncoder();
    // line 2 is {"chosen": "a<0xFF>", ...}: the bad byte is the 14th byte of the line.
    const bytes = [...enc.encode(`${GOOD}\n{"chosen": "a`), 0xff, ...enc.encode(`", "rejected": "b"}\n`)];
    const r = await readPreferenceJsonl([new Uint8Array(bytes)]);
    expect(r.summary.errors.map(formatIssue)).toEqual(['line 2: invalid UTF-8 at byte 14 of the line; save the file as UTF-8']);
  });

  it('a row in another format than the first valid row', async () => {
    const text = `${GOOD}\n${row({ chosen: 'x', rejected: 'y' })}\n`;
    expect(await issues(text)).toEqual([
      'line 2, field chosen: this row is in the standard format but the first valid row (line 1) is conversational; all rows must use one format',
    ]);
  });

  it('margin on some rows only', async () => {
    const m = row({ chosen: 'a', rejected: 'b', margin: 1 });
    const noM = row({ chosen: 'c', rejected: 'd' });
    expect(await issues(`${m}\n${noM}\n`)).toEqual([
      'line 2, field margin: missing while the first valid row (line 1) has a margin; give every row a margin or none',
    ]);
    expect(await issues(`${noM}\n${m}\n`)).toEqual([
      'line 2, field margin: present while the first valid row (line 1) has none; give every row a margin or none',
    ]);
  });

  it('explicit prompt on some rows only', async () => {
    const p = row({ prompt: 'Q: ', chosen: 'a', rejected: 'b' });
    const noP = row({ chosen: 'Q: c', rejected: 'Q: d' });
    expect(await issues(`${p}\n\n${noP}`)).toEqual([
      'line 3, field prompt: missing while the first valid row (line 1) has a prompt; give every row a prompt or none',
    ]);
  });

  it('keeps only the first maxErrors issues but counts all', async () => {
    const text = Array.from({ length: 30 }, () => '{').join('\n');
    const r = await readPreferenceJsonl(textSource(text), { maxErrors: 3 });
    expect(r.summary.invalid).toBe(30);
    expect(r.summary.errors.map((e) => e.place)).toEqual([1, 2, 3].map((line) => ({ kind: 'line', line })));
  });
});
