// Where the data worker reads a dataset or a tokenizer from, whatever the user picked: a downloaded Hub repo (files
// in the FileStore), an imported JSONL stored in the FileStore with its split (imports.ts), or the bundled demo (the
// seeded synthetic ultrafeedback-shaped set, src/data/synthetic.ts). Each split is either parquet shards or one
// JSONL stream.
import { DataSourceError } from './data_source_error.ts';
import { readPreferenceJsonl, textSource, type ByteSource as StreamSource } from '../data/jsonl.ts';
import { readPreferenceParquet, type AsyncBuffer } from '../data/parquet.ts';
import type { PreferencePair } from '../data/records.ts';
import { decodeKeySegment, hubFileKey, hubRepoPrefix, openStoredFile, type FileStore } from '../data/storage.ts';
import { generateSyntheticPreferences, toJsonl } from '../data/synthetic.ts';
import { loadTokenizerFromFiles, type ChatTokenizer, type TokenizerFiles } from '../data/tokenizer.ts';
import { compareSplits, splitNameOf } from '../data/inspect.ts';
import { readPieces, readText, toAsyncBuffer } from '../formats/bytes.ts';
import { importSplitSources, readImportMeta } from './imports.ts';
import type { DatasetRef, TokenizerRef } from './protocol.ts';
import { tinyQwen3Config } from '../model/tiny.ts';
import { parseModelConfigText } from '../model/config.ts';

/** The demo set's seed and size (about 48 tokens per sequence: a few hundred steps on a tiny model). */
export const DEMO_DATASET = { seed: 42, trainRows: 256, testRows: 64 };

export type SplitSource =
  | { split: string; kind: 'parquet'; shards: { name: string; file: AsyncBuffer }[] }
  | { split: string; kind: 'jsonl'; name: string; open: () => StreamSource; /** Split line → line of the user's file (imports). */ lineOf?: (line: number) => number };

/** A user-facing problem with the chosen data (message says what, fix says what to do). */
export { DataSourceError };

function streamOf(src: { size: number; read(o: number, n: number): Promise<Uint8Array> } & { name: string }): StreamSource {
  return readPieces(src, 1 << 20);
}

/** The splits of a dataset, in Hub order (train, validation, test, …). */
/** The demo set's rows as JSONL text per split (generated from DEMO_DATASET's seed). */
export function demoJsonl(): { train: string; test: string } {
  const { train, test } = generateSyntheticPreferences(DEMO_DATASET);
  return { train: toJsonl(train), test: toJsonl(test) };
}

export async function datasetSplits(ref: DatasetRef, store: FileStore): Promise<SplitSource[]> {
  if (ref.kind === 'demo') {
    const { train, test } = demoJsonl();
    return [
      { split: 'train', kind: 'jsonl', name: 'demo/train.jsonl', open: () => textSource(train) },
      { split: 'test', kind: 'jsonl', name: 'demo/test.jsonl', open: () => textSource(test) },
    ];
  }
  if (ref.kind === 'import') {
    const meta = await readImportMeta(store, ref.id);
    if (!meta) throw new DataSourceError('That imported file is no longer stored in this browser (it was deleted, or its import did not finish).', 'Drop the JSONL file again in Model & data.');
    return (await importSplitSources(store, meta)).map((s) => ({ ...s, kind: 'jsonl' as const }));
  }
  const prefix = hubRepoPrefix('dataset', ref.repo, ref.revision);
  const files = (await store.list()).filter((f) => f.key.startsWith(prefix));
  if (files.length === 0) {
    throw new DataSourceError(`Dataset ${ref.repo}@${ref.revision} is not stored in this browser.`, 'Download it in Model & data first.');
  }
  const partial = files.find((f) => !f.complete);
  if (partial) {
    throw new DataSourceError(`${ref.repo}: ${decodeKeySegment(partial.key.slice(prefix.length))} is only partly downloaded.`, 'Press "Download dataset" again in Model & data: it resumes.');
  }
  const bySplit = new Map<string, { path: string; key: string }[]>();
  for (const f of files) {
    const path = f.key.slice(prefix.length).split('/').map(decodeKeySegment).join('/');
    if (!/\.(parquet|jsonl)$/i.test(path)) continue;
    const split = splitNameOf(path);
    bySplit.set(split, [...(bySplit.get(split) ?? []), { path, key: f.key }]);
  }
  const out: SplitSource[] = [];
  for (const split of [...bySplit.keys()].sort(compareSplits)) {
    const shards = bySplit.get(split)!.sort((a, b) => a.path.localeCompare(b.path));
    if (shards.every((s) => s.path.endsWith('.parquet'))) {
      out.push({ split, kind: 'parquet', shards: await Promise.all(shards.map(async (s) => ({ name: s.path, file: toAsyncBuffer(await openStoredFile(store, s.key)) as AsyncBuffer }))) });
    } else {
      const first = shards[0];
      const src = await openStoredFile(store, first.key);
      out.push({ split, kind: 'jsonl', name: first.path, open: () => streamOf(src) });
    }
  }
  return out;
}

/** The valid pairs of one split (invalid rows are left out; inspection reports them). */
export async function splitPairs(src: SplitSource): Promise<PreferencePair[]> {
  if (src.kind === 'jsonl') return (await readPreferenceJsonl(src.open(), { maxErrors: 0 })).importRecords('valid-only');
  const out: PreferencePair[] = [];
  let offset = 0;
  for (const shard of src.shards) {
    const read = await readPreferenceParquet(shard.file, { rowOffset: offset, maxErrors: 0 });
    out.push(...read.importRecords('valid-only'));
    offset += read.summary.rows;
  }
  return out;
}

/** The model's vocab_size when its config.json is at hand (the demo model, a downloaded repo), so imported token ids
 *  are checked against it with their line and field; undefined when the model is not stored (then the train worker's
 *  check before the GPU still refuses an id outside the vocabulary). */
export async function modelVocabSize(ref: TokenizerRef | undefined, store: FileStore): Promise<number | undefined> {
  if (!ref || ref.kind === 'files') return undefined;
  if (ref.kind === 'demo') return tinyQwen3Config().vocab_size as number;
  try {
    return parseModelConfigText(await readText(await openStoredFile(store, hubFileKey('model', ref.repo, ref.revision, 'config.json'))), `${ref.repo}/config.json`).vocab_size;
  } catch {
    return undefined;
  }
}

/** The model's tokenizer: its stored tokenizer files, a loaded folder's files, or the real Qwen3 files bundled for the demo. */
export async function loadModelTokenizer(ref: TokenizerRef, store: FileStore, demoFiles: () => Promise<TokenizerFiles>): Promise<ChatTokenizer> {
  if (ref.kind === 'demo') return loadTokenizerFromFiles(await demoFiles());
  if (ref.kind === 'files') {
    try {
      return await loadTokenizerFromFiles({ tokenizerJson: await ref.tokenizerJson.text(), tokenizerConfig: await ref.tokenizerConfig.text() });
    } catch (e) {
      throw new DataSourceError(`The loaded folder's tokenizer files could not be read: ${(e as Error).message}`, 'Load a folder whose tokenizer.json and tokenizer_config.json come from the model (or remove them to use the base model\'s tokenizer).');
    }
  }
  const read = async (name: string) => {
    try {
      return await readText(await openStoredFile(store, hubFileKey('model', ref.repo, ref.revision, name)));
    } catch (e) {
      throw new DataSourceError(`${ref.repo}@${ref.revision}: ${name} is not stored (${(e as Error).message}).`, 'Download the model in Model & data first.');
    }
  };
  // transformers ≥ 5 keeps the template in chat_template.jinja (downloaded as an optional file when the repo has it)
  const jinja = hubFileKey('model', ref.repo, ref.revision, 'chat_template.jinja');
  const chatTemplate = (await store.stat(jinja))?.complete ? await readText(await openStoredFile(store, jinja)) : undefined;
  return loadTokenizerFromFiles({ tokenizerJson: await read('tokenizer.json'), tokenizerConfig: await read('tokenizer_config.json'), chatTemplate });
}
