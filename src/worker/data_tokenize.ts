// The data worker's tokenization: tokenizers loaded once per model (or loaded folder), and each split's token ids
// from, in order, this tab's memory, the tokenized-dataset cache in IndexedDB (tokenized_idb.ts), or the tokenizer
// (then written to the cache). Progress goes to the page as tokenize-progress events under the asking request's rid.
import type { FileStore } from '../data/storage.ts';
import { tokenizePreferences, type TokenizedDataset } from '../data/tokenize.ts';
import type { ChatTokenizer, TokenizerFiles } from '../data/tokenizer.ts';
import { datasetSplits, DataSourceError, demoJsonl, loadModelTokenizer, splitPairs } from './data_sources.ts';
import type { DatasetRef, ModelRef, TokenizerRef, WorkerEvent } from './protocol.ts';
import { cacheDatasetId, cacheKeyFor, cacheRevision, readTokenizedCache, writeTokenizedCache } from './tokenized_idb.ts';

export interface TokenizedSplit {
  ds: TokenizedDataset;
  /** True when no tokenization ran: the ids came from IndexedDB's cache or from this tab's memory. */
  cached: boolean;
}

export interface TokenizeService {
  tokenizerOf(ref: TokenizerRef): Promise<ChatTokenizer>;
  /** One split's token ids, filtered by maxLength (null = no filter) as TRL does. */
  tokenizeSplit(dataset: DatasetRef, model: TokenizerRef, maxLength: number | null, split: string, rid: number): Promise<TokenizedSplit>;
  /** Drops what this tab holds in memory for keys matching `match` (all when omitted); IndexedDB keeps its entries. */
  forget(match?: (key: string) => boolean): void;
}

export function refKey(r: DatasetRef | TokenizerRef): string {
  if (r.kind === 'files') return `files:${r.key}`;
  return r.kind === 'hub' ? `hub:${r.repo}@${r.revision}` : r.kind === 'import' ? `import:${r.id}` : 'demo';
}

export function createTokenizeService(o: {
  getStore: () => Promise<FileStore>;
  demoTokenizerFiles: () => Promise<TokenizerFiles>;
  post: (ev: WorkerEvent) => void;
}): TokenizeService {
  const tokenizers = new Map<string, Promise<ChatTokenizer>>();
  const splits = new Map<string, Promise<TokenizedSplit>>();

  const tokenizerOf = (model: TokenizerRef | ModelRef): Promise<ChatTokenizer> => {
    const key = refKey(model);
    let t = tokenizers.get(key);
    if (!t) {
      t = o.getStore().then((store) => loadModelTokenizer(model, store, o.demoTokenizerFiles));
      t.catch(() => tokenizers.delete(key));
      tokenizers.set(key, t);
    }
    return t;
  };

  const compute = async (dataset: DatasetRef, model: TokenizerRef, maxLength: number | null, split: string, rid: number): Promise<TokenizedSplit> => {
    const [store, tok] = await Promise.all([o.getStore(), tokenizerOf(model)]);
    const src = (await datasetSplits(dataset, store)).find((s) => s.split === split);
    if (!src) throw new DataSourceError(`The dataset has no "${split}" split.`, 'Choose a dataset with that split, or import a JSONL for it.');
    const revision = await cacheRevision(dataset, store, () => {
      const d = demoJsonl();
      return d.train + d.test;
    });
    const key = cacheKeyFor(cacheDatasetId(dataset), revision, split, tok, maxLength);
    const hit = await readTokenizedCache(store, key);
    if (hit) return { ds: hit, cached: true };
    const pairs = await splitPairs(src);
    const onProgress = (p: { done: number; filtered: number }) => o.post({ type: 'tokenize-progress', rid, split, done: p.done, total: pairs.length, filtered: p.filtered });
    const ds = await tokenizePreferences(tok, pairs, { maxLength, total: pairs.length, onProgress });
    try {
      await writeTokenizedCache(store, key, ds);
    } catch (e) {
      o.post({ type: 'warning', where: 'train', message: `The token ids of "${split}" could not be cached in the browser (${(e as Error).message}); the next run tokenizes again.` });
    }
    return { ds, cached: false };
  };

  return {
    tokenizerOf,
    async tokenizeSplit(dataset, model, maxLength, split, rid) {
      const key = `${refKey(dataset)}|${refKey(model)}|${maxLength}|${split}`;
      const held = splits.get(key);
      if (held) return { ...(await held), cached: true };
      const t = compute(dataset, model, maxLength, split, rid);
      t.catch(() => splits.delete(key));
      splits.set(key, t);
      return t;
    },
    forget(match) {
      for (const m of [splits, tokenizers] as Map<string, unknown>[]) for (const k of [...m.keys()]) if (!match || match(k)) m.delete(k);
    },
  };
}
