// A model folder on the user's disk (chosen with showDirectoryPicker or <input webkitdirectory>, or dropped on the
// page) copied ONCE into the FileStore, in the layout of a Hub download: `models/_local/<folder>/<id>/<file>`.
// "_local" cannot be a Hub org (Hub names start with a letter or digit), so a local folder never collides with a
// download, and everything that reads a downloaded model (weights, tokenizer, vocab checks, runs, Evaluate) reads it
// through the same ModelRef { kind: 'hub', repo: '_local/<folder>', revision: <id> }. `id` names the chosen files
// (paths, sizes, modification times): choosing the same folder again reuses the stored copy.
//
// Checked before a byte is stored, as a download's files are checked before use: config.json parsed with the model
// limits, the tokenizer files present and parsed, every safetensors header read and checked against its file size,
// the index against the shards, every tensor against config.json's shapes (src/model/folder_check.ts). While copying
// each file is hashed (sha256); the stored copy is hashed again and must match, and the hashes go into a manifest
// written last. Any failure deletes what this import stored: a folder is stored whole or not at all.
import { blobSource, readPieces, readText, type ByteSource } from '../formats/bytes.ts';
import { parseJsonText } from '../formats/json_text.ts';
import { locateTensors, parseSafetensorsIndex, SAFETENSORS_INDEX_FILE, shardFiles, type SafetensorsIndex } from '../formats/safetensors.ts';
import { parseModelConfigText } from '../model/config.ts';
import { checkModelFolderTensors } from '../model/folder_check.ts';
import { UserError } from '../util/user_error.ts';
import { Sha256 } from './hub-hash.ts';
import { OPTIONAL_MODEL_FILES, TOKENIZER_FILES } from './hub-select.ts';
import { hubFileKey, hubRepoPrefix, type FileStore } from './storage.ts';

/** The reserved org of local folders in storage keys and ModelRefs. */
export const LOCAL_ORG = '_local';
/** The manifest written after every file of a folder is stored and verified. */
export const LOCAL_MANIFEST = 'reward-studio-folder.json';

/** A file of the chosen folder: its path inside the folder ('config.json', 'sub/x' for nested files). */
export interface LocalFile {
  path: string;
  blob: Blob;
}

export interface LocalModelManifest {
  name: string;
  importedAt: number;
  files: { path: string; size: number; sha256: string }[];
  warnings: string[];
}

export interface LocalModelImport {
  /** The ModelRef fields: repo '_local/<folder>', revision the folder's id. */
  repo: string;
  revision: string;
  manifest: LocalModelManifest;
  /** True when the folder was already stored (nothing copied). */
  reused: boolean;
}

export class LocalModelError extends UserError {
  override name = 'LocalModelError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

/** The folder name of a local model's repo ('_local/<name>'), or null for a Hub repo. */
export function localFolderName(repo: string): string | null {
  return repo.startsWith(`${LOCAL_ORG}/`) ? repo.slice(LOCAL_ORG.length + 1) : null;
}

/** The files of a folder's top level, by name (nested files — other checkpoints, runs — are not part of the model). */
function topLevel(files: LocalFile[]): Map<string, Blob> {
  return new Map(files.filter((f) => !f.path.includes('/')).map((f) => [f.path, f.blob]));
}

const modTime = (b: Blob) => (b as File).lastModified ?? 0;

/** An id for the chosen files: hex sha256 of their names, sizes and modification times (12 chars). */
function folderId(picked: [string, Blob][]): string {
  const h = new Sha256();
  h.update(new TextEncoder().encode(JSON.stringify(picked.map(([p, b]) => [p, b.size, modTime(b)]))));
  return h.hex().slice(0, 12);
}

/**
 * Checks the folder and returns the files to store (config.json last, so a folder without it is never usable) and
 * the warnings. Throws a LocalModelError naming the file.
 */
async function checkFolder(name: string, byName: Map<string, Blob>): Promise<{ picked: [string, Blob][]; warnings: string[] }> {
  const at = (p: string) => `${name}/${p}`;
  const need = (p: string, fix: string): Blob => {
    const b = byName.get(p);
    if (!b) throw new LocalModelError(`The folder "${name}" has no ${p}.`, fix);
    return b;
  };
  const configBlob = need('config.json', 'Choose a Hugging Face model folder: config.json, model.safetensors (or its shards and index) and the tokenizer files, as save_pretrained or the studio\'s export writes them.');
  const text = async (p: string, b: Blob) => {
    try {
      return await readText(blobSource(b, at(p)));
    } catch {
      throw new LocalModelError(`${at(p)} is not UTF-8 text.`, `Save ${p} again (save_pretrained), then choose the folder again.`);
    }
  };
  const wrap = <T>(fix: string, f: () => T): T => {
    try {
      return f();
    } catch (e) {
      throw new LocalModelError((e as Error).message, fix);
    }
  };
  const configText = await text('config.json', configBlob);
  const config = wrap('Fix config.json (or export the model again), then choose the folder again.', () => parseModelConfigText(configText, at('config.json')));
  const picked: [string, Blob][] = [];
  for (const t of TOKENIZER_FILES) {
    const b = need(t, 'The studio tokenizes with the model\'s own tokenizer: save it into the folder too (tokenizer.save_pretrained(folder)), then choose the folder again.');
    const body = await text(t, b);
    wrap(`Save ${t} again (tokenizer.save_pretrained), then choose the folder again.`, () => parseJsonText(body, at(t)));
    picked.push([t, b]);
  }
  for (const o of OPTIONAL_MODEL_FILES) if (byName.has(o)) picked.push([o, byName.get(o)!]);

  let weights: [string, Blob][];
  let index: SafetensorsIndex | undefined;
  if (byName.has(SAFETENSORS_INDEX_FILE)) {
    const indexBlob = byName.get(SAFETENSORS_INDEX_FILE)!;
    const indexText = await text(SAFETENSORS_INDEX_FILE, indexBlob);
    index = wrap('Save the model again (save_pretrained), then choose the folder again.', () => parseSafetensorsIndex(indexText, at(SAFETENSORS_INDEX_FILE)));
    picked.push([SAFETENSORS_INDEX_FILE, indexBlob]);
    weights = shardFiles(index!).map((s) => [s, need(s, `${SAFETENSORS_INDEX_FILE} names this shard: choose the whole folder with every shard.`)]);
  } else if (byName.has('model.safetensors')) {
    weights = [['model.safetensors', byName.get('model.safetensors')!]];
  } else {
    const other = [...byName.keys()].filter((p) => /\.(bin|pt|pth|gguf|onnx)$/.test(p));
    throw new LocalModelError(
      `The folder "${name}" has no model.safetensors or ${SAFETENSORS_INDEX_FILE}${other.length ? ` (it has ${other.slice(0, 3).join(', ')})` : ''}.`,
      'The studio loads safetensors weights only: save the model with save_pretrained (safe_serialization=True, the default), then choose the folder again.',
    );
  }
  const sources: ByteSource[] = weights.map(([p, b]) => blobSource(b, at(p)));
  const located = await (async () => {
    try {
      return await locateTensors(sources, index);
    } catch (e) {
      throw new LocalModelError((e as Error).message, 'The weights file is truncated or damaged: copy or export the model folder again, then choose it again.');
    }
  })();
  const listed = new Map([...located].map(([k, l]) => [k, { file: l.source.name, dtype: l.info.dtype, shape: l.info.shape }]));
  const warnings = wrap('Choose a folder whose config.json and weights belong together (a Qwen3 model).', () => checkModelFolderTensors(config, listed, at('config.json')));
  picked.push(...weights, ['config.json', configBlob]);
  return { picked, warnings };
}

/** Copies one file into the store chunk by chunk, hashing it; returns its sha256 (hex). */
async function copyFile(store: FileStore, key: string, path: string, blob: Blob, signal?: AbortSignal): Promise<string> {
  const h = new Sha256();
  await store.beginFile(key, { size: blob.size, etag: `local:${modTime(blob)}` });
  for await (const piece of readPieces(blobSource(blob, path), store.chunkSize)) {
    signal?.throwIfAborted();
    await store.appendChunk(key, piece);
    h.update(piece);
  }
  const want = h.hex();
  // The stored copy must hash to what was read (a download is checked the same way against the Hub's hash).
  const again = new Sha256();
  for (let o = 0; o < blob.size; o += store.chunkSize) again.update(await store.readRange(key, o, Math.min(store.chunkSize, blob.size - o)));
  if (again.hex() !== want) throw new LocalModelError(`${path}: the stored copy's sha256 ${again.hex()} differs from the file's ${want}.`, 'The browser storage returned other bytes than were written: choose the folder again.');
  await store.markComplete(key);
  return want;
}

/** The manifest of a stored local folder, or null when it is not (completely) stored. */
export async function readLocalManifest(store: FileStore, repo: string, revision: string): Promise<LocalModelManifest | null> {
  const key = hubFileKey('model', repo, revision, LOCAL_MANIFEST);
  const f = await store.stat(key);
  if (!f?.complete) return null;
  return JSON.parse(new TextDecoder().decode(await store.readRange(key, 0, f.size))) as LocalModelManifest;
}

/**
 * Checks the folder `name` (its files with paths relative to it) and stores it once; see the file comment.
 * Throws a LocalModelError (or StorageFullError) with nothing of this import left in the store.
 */
export async function importModelFolder(store: FileStore, nameIn: string, files: LocalFile[], opts: { signal?: AbortSignal } = {}): Promise<LocalModelImport> {
  const name = nameIn.replace(/[\\/]/g, '_').trim() || 'model-folder';
  const { picked, warnings } = await checkFolder(name, topLevel(files));
  const repo = `${LOCAL_ORG}/${name}`;
  const revision = folderId(picked);
  const have = await readLocalManifest(store, repo, revision);
  if (have) return { repo, revision, manifest: have, reused: true };
  const prefix = hubRepoPrefix('model', repo, revision);
  const removeAll = async () => {
    for (const f of await store.list()) if (f.key.startsWith(prefix)) await store.delete(f.key);
  };
  await removeAll(); // an earlier import of these files that stopped half-way
  try {
    const manifest: LocalModelManifest = { name, importedAt: Date.now(), files: [], warnings };
    for (const [path, blob] of picked) {
      const key = hubFileKey('model', repo, revision, path);
      if (blob.size === 0) {
        await store.beginFile(key, { size: 0, etag: 'local:empty' });
        await store.markComplete(key);
        manifest.files.push({ path, size: 0, sha256: new Sha256().hex() });
        continue;
      }
      manifest.files.push({ path, size: blob.size, sha256: await copyFile(store, key, `${name}/${path}`, blob, opts.signal) });
    }
    const bytes = new TextEncoder().encode(JSON.stringify(manifest, null, 1));
    const key = hubFileKey('model', repo, revision, LOCAL_MANIFEST);
    await store.beginFile(key, { size: bytes.byteLength, etag: 'local:manifest' });
    for (let o = 0; o < bytes.byteLength; o += store.chunkSize) await store.appendChunk(key, bytes.subarray(o, o + store.chunkSize));
    await store.markComplete(key);
    return { repo, revision, manifest, reused: false };
  } catch (e) {
    await removeAll().catch(() => undefined);
    throw e;
  }
}
