// A downloaded model's files, read from the browser's FileStore for src/model/load.ts: config.json, and
// model.safetensors or the shards an index names. The demo model is made in memory (demo_model.ts).
import { readText } from '../formats/bytes.ts';
import { parseSafetensorsIndex, SAFETENSORS_INDEX_FILE, shardFiles } from '../formats/safetensors.ts';
import type { ModelFiles } from '../model/load.ts';
import { hubFileKey, openStoredFile, type FileStore } from '../data/storage.ts';
import { DataSourceError } from './data_source_error.ts';
import { demoModelFiles } from './demo_model.ts';
import type { ModelRef } from './protocol.ts';

export async function modelFiles(ref: ModelRef, store: FileStore | null): Promise<ModelFiles> {
  if (ref.kind === 'demo') return demoModelFiles();
  if (!store) throw new DataSourceError('The browser storage is not available in this tab.', 'Allow site storage for localhost, then reload.');
  const key = (p: string) => hubFileKey('model', ref.repo, ref.revision, p);
  const open = async (p: string) => {
    try {
      return await openStoredFile(store, key(p));
    } catch (e) {
      throw new DataSourceError(`${ref.repo}@${ref.revision}: ${(e as Error).message}`, 'Download the model in Model & data (it resumes a partial download), then start again.');
    }
  };
  const configText = await readText(await open('config.json'));
  if (await store.stat(key(SAFETENSORS_INDEX_FILE))) {
    const indexText = await readText(await open(SAFETENSORS_INDEX_FILE));
    const shards = shardFiles(parseSafetensorsIndex(indexText));
    return { configText, indexText, weights: await Promise.all(shards.map(open)) };
  }
  return { configText, weights: [await open('model.safetensors')] };
}
