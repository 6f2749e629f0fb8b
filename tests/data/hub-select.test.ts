// Which files a download selects (models, sharded models, datasets per split), and the progress arithmetic
// (rate over a sliding window, ETA, throttled events) on a fake clock.
import { describe, expect, it } from 'vitest';
import { selectDatasetFiles, selectModelFiles, splitOf, type RemoteFile } from '../../src/data/hub-select.ts';
import { eta, ProgressTracker, RateMeter, type DownloadProgress } from '../../src/data/hub-progress.ts';

const files = (...paths: string[]): RemoteFile[] => paths.map((path, i) => ({ path, size: 10 + i }));

describe('selectModelFiles', () => {
  it('picks config, tokenizer files, optional extras and the weights, in that order', () => {
    const listing = files('README.md', '.gitattributes', 'model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'merges.txt', 'vocab.json', 'generation_config.json', 'LICENSE');
    const sel = selectModelFiles('Qwen/Qwen3-0.6B', listing);
    expect(sel.needsIndex).toBe(false);
    expect(sel.files.map((f) => f.path)).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json', 'merges.txt', 'generation_config.json', 'model.safetensors']);
  });

  it('asks for the index first, then selects the shards it names', () => {
    const listing = files('config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'consolidated.safetensors');
    const first = selectModelFiles('org/big', listing);
    expect([first.needsIndex, first.files.map((f) => f.path)]).toEqual([true, ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors.index.json']]);
    const index = { metadata: {}, weightMap: { a: 'model-00002-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00001-of-00002.safetensors' } };
    expect(selectModelFiles('org/big', listing, index).files.map((f) => f.path).slice(4)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const missing = { metadata: {}, weightMap: { a: 'model-00003-of-00003.safetensors' } };
    expect(() => selectModelFiles('org/big', listing, missing)).toThrow('org/big has no model-00003-of-00003.safetensors: model.safetensors.index.json names this shard but the repo does not contain it');
  });

  it('says what is missing', () => {
    expect(() => selectModelFiles('org/x', files('model.safetensors', 'tokenizer.json', 'tokenizer_config.json'))).toThrow('org/x has no config.json: this is not a transformers model repo (or the revision is wrong)');
    expect(() => selectModelFiles('org/x', files('config.json', 'model.safetensors', 'tokenizer_config.json'))).toThrow('org/x has no tokenizer.json: Reward Studio needs the model\'s fast tokenizer and its chat template');
    expect(() => selectModelFiles('org/x', files('config.json', 'tokenizer.json', 'tokenizer_config.json', 'pytorch_model.bin')))
      .toThrow('org/x has no model.safetensors or model.safetensors.index.json (it has pytorch_model.bin): Reward Studio loads safetensors weights only');
  });
});

describe('dataset files', () => {
  it('reads the split from the Hub layouts', () => {
    const cases: [string, string | null][] = [
      ['data/train-00000-of-00001.parquet', 'train'],
      ['data/test-00000-of-00001.parquet', 'test'],
      ['data/train_prefs-00003-of-00004-5f3ba2c1.parquet', 'train_prefs'],
      ['default/train/0000.parquet', 'train'],
      ['plain_text/validation/0001.parquet', 'validation'],
      ['data/test/part-a.parquet', 'test'],
      ['train.jsonl', 'train'],
      ['README.md', null],
    ];
    for (const [p, s] of cases) expect(splitOf(p), p).toBe(s);
  });

  it('prefers parquet under data/, falls back to other parquet and then JSONL', () => {
    const a = selectDatasetFiles('o/d', files('data/train-00001-of-00002.parquet', 'data/train-00000-of-00002.parquet', 'data/test-00000-of-00001.parquet', 'old/train.parquet', 'x.jsonl'));
    expect([...a].map(([s, fs]) => [s, fs.map((f) => f.path)])).toEqual([
      ['test', ['data/test-00000-of-00001.parquet']],
      ['train', ['data/train-00000-of-00002.parquet', 'data/train-00001-of-00002.parquet']],
    ]);
    expect([...selectDatasetFiles('o/d', files('default/train/0000.parquet', 'train.jsonl')).keys()]).toEqual(['train']);
    expect([...selectDatasetFiles('o/d', files('train.jsonl', 'test.jsonl', 'README.md')).keys()]).toEqual(['test', 'train']);
    expect(() => selectDatasetFiles('o/d', files('README.md', 'data.csv'))).toThrow('o/d has no parquet or JSONL files');
  });
});

describe('progress', () => {
  it('measures the rate over a sliding window and drops to 0 when idle', () => {
    let t = 0;
    const m = new RateMeter(5000, () => t);
    for (let i = 0; i <= 10; i++) {
      t = i * 1000;
      m.add(2000);
    }
    expect(m.rate()).toBe(2000); // window holds the samples of the last 5 s: 10000 bytes over 5 s
    t = 16_000;
    expect(m.rate()).toBe(0);
    expect(eta(10_000, 2000)).toBe(5);
    expect(eta(10, 0)).toBeNull();
    expect(eta(0, 0)).toBe(0);
  });

  it('throttles byte events, never status events, and totals the files', () => {
    let t = 0;
    const events: DownloadProgress[] = [];
    const p = new ProgressTracker((e) => events.push(e), 100, () => t);
    p.addFile('a', 'k/a', 1000);
    p.addFile('b', 'k/b', 3000);
    p.setStored('k/a', 1000, 'skipped');
    expect(events.length).toBe(1);
    p.status('k/b', 'downloading');
    for (let i = 1; i <= 10; i++) {
      t = i * 30;
      p.transferred('k/b', 100);
    }
    // setStored and status at t=0 (forced); byte events every 30 ms pass the 100 ms throttle at t=120 and t=240
    expect(events.length).toBe(4);
    const last = p.snapshot();
    expect([last.totalBytes, last.doneBytes]).toEqual([4000, 2000]);
    expect(last.files.map((f) => [f.path, f.status, f.bytes])).toEqual([['a', 'skipped', 1000], ['b', 'downloading', 1000]]);
    // The file's meter saw 100 bytes at t=30..300: 900 bytes between its first and last sample, 270 ms apart.
    expect(last.files[1].rate).toBeCloseTo(900 / 0.27, 6);
    expect(last.files[1].etaSeconds).toBeCloseTo(2000 / (900 / 0.27), 6);
  });
});
