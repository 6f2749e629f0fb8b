// The tokenized-dataset cache in the browser's FileStore (IndexedDB), keyed by src/data/tokenized-cache.ts's
// tokenizedCacheKey: dataset id, revision, split, tokenizer hash, chat-template hash and max_length. The entry holds
// serializeTokenized's bytes, so a second run on the same data starts training without tokenizing again (also
// after a reload). The revision names the content, never just a branch:
//   hub     <revision>-<hash of the stored data files' paths, sizes, ETags and sha256s>  (a re-download of a moved
//           branch with new files gets a new key)
//   import  <sha256 of pairs.jsonl>-<split spec>  (imports.ts; a new split gets a new key)
//   demo    <hash of the generated rows>
// A damaged entry is deleted and the split tokenized again.
import { hash64 } from '../data/hash.ts';
import { encodeKeySegment, hubRepoPrefix, type FileStore } from '../data/storage.ts';
import { deserializeTokenized, serializeTokenized, tokenizedCacheKey } from '../data/tokenized-cache.ts';
import type { TokenizedDataset } from '../data/tokenize.ts';
import type { ChatTokenizer } from '../data/tokenizer.ts';
import { importRevision, readImportMeta } from './imports.ts';
import type { DatasetRef } from './protocol.ts';
import { exactBuffer, putStoredBytes, readStoredBytes } from './stored_bytes.ts';

export const TOKENIZED_PREFIX = 'tokenized/';

/** The dataset id used in cache keys (key segments escaped): hub/<org>/<name>, imports/<id> or demo. */
export function cacheDatasetId(ref: DatasetRef): string {
  const path = ref.kind === 'hub' ? ['hub', ...ref.repo.split('/')] : ref.kind === 'import' ? ['imports', ref.id] : ['demo'];
  return path.map(encodeKeySegment).join('/');
}

/** The dataset's content revision for cache keys (see the file comment). */
export async function cacheRevision(ref: DatasetRef, store: FileStore, demoContent: () => string): Promise<string> {
  if (ref.kind === 'demo') return hash64(demoContent());
  if (ref.kind === 'import') {
    const meta = await readImportMeta(store, ref.id);
    if (!meta) throw new Error(`import ${ref.id} is not stored`);
    return importRevision(meta);
  }
  const prefix = hubRepoPrefix('dataset', ref.repo, ref.revision);
  const files = (await store.list()).filter((f) => f.key.startsWith(prefix) && /\.(parquet|jsonl)$/i.test(f.key)).sort((a, b) => a.key.localeCompare(b.key));
  const identity = files.map((f) => [f.key.slice(prefix.length), f.size, f.etag, f.sha256 ?? f.gitOid ?? '']);
  return `${encodeKeySegment(ref.revision)}-${hash64(JSON.stringify(identity))}`;
}

export function cacheKeyFor(datasetId: string, revision: string, split: string, tok: Pick<ChatTokenizer, 'tokenizerHash' | 'templateHash'>, maxLength: number | null): string {
  return tokenizedCacheKey({ datasetId, revision, split: encodeKeySegment(split), tokenizerHash: tok.tokenizerHash, templateHash: tok.templateHash, maxLength });
}

/** The cached dataset, or null (absent, partial, or damaged: then deleted). */
export async function readTokenizedCache(store: FileStore, key: string): Promise<TokenizedDataset | null> {
  try {
    const bytes = await readStoredBytes(store, key);
    return bytes ? deserializeTokenized(exactBuffer(bytes)) : null;
  } catch {
    // unreadable chunks or a bad header: drop the entry, the caller tokenizes again
    await store.delete(key);
    return null;
  }
}

export async function writeTokenizedCache(store: FileStore, key: string, ds: TokenizedDataset): Promise<void> {
  const bytes = new Uint8Array(serializeTokenized(ds));
  await putStoredBytes(store, key, [bytes], `tokenized:${hash64(key)}:${bytes.byteLength}`);
}

/** Cache keys (of any tokenization version) of one dataset id, e.g. to delete them with an import. */
export function cacheKeysOfDataset(keys: string[], datasetId: string): string[] {
  return keys.filter((k) => k.startsWith(TOKENIZED_PREFIX) && k.slice(k.indexOf('/', TOKENIZED_PREFIX.length) + 1).startsWith(`${datasetId}@`));
}
