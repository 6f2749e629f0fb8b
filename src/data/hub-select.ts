// Which files of a Hub repo the studio needs. Model: config.json, the weights (model.safetensors, or the index
// model.safetensors.index.json and every shard it names), the tokenizer files. Dataset: the parquet shards of each
// split (data/<split>-00000-of-00001.parquet, the Hub's layout), or JSONL files when there is no parquet.
// Pure functions over the tree listing; errors name the repo and what is missing.
import { SAFETENSORS_INDEX_FILE, shardFiles, type SafetensorsIndex } from '../formats/safetensors.ts';

/** A file as the Hub's tree API describes it. */
export interface RemoteFile {
  path: string;
  size: number;
  /** git blob id (sha1) of a regular file's content. For LFS files it is the pointer's id: use sha256. */
  gitOid?: string;
  /** sha256 of the content, for LFS files (`lfs.oid`). */
  sha256?: string;
}

/** Tokenizer files transformers.js / tokenizers read, the first two required. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];
export const OPTIONAL_MODEL_FILES = ['vocab.json', 'merges.txt', 'special_tokens_map.json', 'added_tokens.json', 'chat_template.jinja', 'chat_template.json', 'generation_config.json'];

export class HubSelectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HubSelectionError';
  }
}

/**
 * The model files to download. When the repo is sharded, pass the parsed index (download the index file first):
 * without it the selection is [index file, config, tokenizer] and `needsIndex` is true.
 */
export function selectModelFiles(repo: string, files: RemoteFile[], index?: SafetensorsIndex): { files: RemoteFile[]; needsIndex: boolean } {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const need = (path: string, why: string): RemoteFile => {
    const f = byPath.get(path);
    if (!f) throw new HubSelectionError(`${repo} has no ${path}: ${why}`);
    return f;
  };
  const picked: RemoteFile[] = [need('config.json', 'this is not a transformers model repo (or the revision is wrong)')];
  for (const t of TOKENIZER_FILES) picked.push(need(t, 'Reward Studio needs the model\'s fast tokenizer and its chat template (choose a repo that ships them, e.g. the Instruct or base repo of the model)'));
  for (const o of OPTIONAL_MODEL_FILES) if (byPath.has(o)) picked.push(byPath.get(o)!);

  if (byPath.has(SAFETENSORS_INDEX_FILE)) {
    picked.push(byPath.get(SAFETENSORS_INDEX_FILE)!);
    if (!index) return { files: picked, needsIndex: true };
    for (const shard of shardFiles(index)) {
      picked.push(need(shard, `${SAFETENSORS_INDEX_FILE} names this shard but the repo does not contain it; the repo is incomplete at this revision`));
    }
  } else if (byPath.has('model.safetensors')) {
    picked.push(byPath.get('model.safetensors')!);
  } else {
    const other = files.filter((f) => /\.(bin|pt|pth|gguf|onnx)$/.test(f.path)).map((f) => f.path);
    throw new HubSelectionError(
      `${repo} has no model.safetensors or ${SAFETENSORS_INDEX_FILE}${other.length ? ` (it has ${other.slice(0, 3).join(', ')})` : ''}: ` +
        'Reward Studio loads safetensors weights only; pick a repo with safetensors weights or convert the checkpoint with transformers (save_pretrained(safe_serialization=True)).',
    );
  }
  return { files: picked, needsIndex: false };
}

/** The split a dataset file belongs to, from the Hub's layouts; null if the path names none. */
export function splitOf(path: string): string | null {
  const parts = path.split('/');
  const name = parts[parts.length - 1];
  // data/train-00000-of-00001.parquet, data/train-00000-of-00001-abc123.parquet, test.parquet, train.jsonl
  const m = /^([A-Za-z0-9_.]+?)(?:-\d{5}-of-\d{5}(?:-[^.]*)?)?\.(parquet|jsonl)$/.exec(name);
  if (m && !/^\d+$/.test(m[1])) return m[1];
  // <config>/<split>/0000.parquet (refs/convert/parquet) or data/<split>/xxx.parquet
  if (parts.length >= 2 && /^\d+\.(parquet|jsonl)$/.test(name)) return parts[parts.length - 2];
  if (parts.length >= 3 && /\.(parquet|jsonl)$/.test(name)) return parts[parts.length - 2];
  return null;
}

/**
 * The dataset files per split (sorted by path). Parquet under data/ first, then any parquet, then JSONL.
 * `splits` restricts the result; asking for a split the repo lacks is an error naming the splits it has.
 */
export function selectDatasetFiles(repo: string, files: RemoteFile[], splits?: string[]): Map<string, RemoteFile[]> {
  const tiers = [
    files.filter((f) => f.path.startsWith('data/') && f.path.endsWith('.parquet')),
    files.filter((f) => f.path.endsWith('.parquet')),
    files.filter((f) => f.path.endsWith('.jsonl')),
  ];
  const chosen = tiers.find((t) => t.length > 0);
  if (!chosen) {
    throw new HubSelectionError(`${repo} has no parquet or JSONL files: Reward Studio reads preference data from parquet (data/<split>-*.parquet) or JSONL; import a local file instead`);
  }
  const bySplit = new Map<string, RemoteFile[]>();
  for (const f of [...chosen].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const s = splitOf(f.path) ?? 'train';
    if (!bySplit.has(s)) bySplit.set(s, []);
    bySplit.get(s)!.push(f);
  }
  if (!splits) return bySplit;
  const out = new Map<string, RemoteFile[]>();
  for (const s of splits) {
    const fs = bySplit.get(s);
    if (!fs) throw new HubSelectionError(`${repo} has no split "${s}" (it has ${[...bySplit.keys()].join(', ')})`);
    out.set(s, fs);
  }
  return out;
}
