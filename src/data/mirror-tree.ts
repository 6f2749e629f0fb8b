// What the local Hub mirror knows about a repo folder: the tree listing in the shape of the Hub's
// `/api/{models|datasets}/{repo}/tree/{rev}` (ApiIndexTreeEntry, which @huggingface/hub's listFiles yields), and
// the content hashes behind ETags. Files the Hub would keep in Git LFS (weights, parquet, archives, anything from
// 10 MB) get `lfs: {oid: sha256, size, pointerSize}` and their `oid` is the git id of the LFS pointer file, as on
// the Hub; other files have `oid` = git blob id of their content. Node-only.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface MirrorTreeEntry {
  type: 'file' | 'directory';
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

/** Extensions the Hub's default .gitattributes sends to LFS (the subset that matters for models and datasets). */
export const LFS_EXTENSIONS = [
  '.safetensors', '.bin', '.pt', '.pth', '.ckpt', '.h5', '.msgpack', '.onnx', '.ot', '.pb', '.tflite', '.model',
  '.npy', '.npz', '.pkl', '.pickle', '.joblib', '.gguf', '.parquet', '.arrow', '.zip', '.gz', '.tar', '.tgz', '.zst',
  '.xz', '.7z', '.bz2', '.rar', '.wasm', '.mlmodel',
];
/** Files from this size go to LFS whatever their extension (the Hub refuses larger regular files). */
export const LFS_MIN_SIZE = 10 * 1024 * 1024;

export function isLfsFile(path: string, size: number): boolean {
  const lower = path.toLowerCase();
  return size >= LFS_MIN_SIZE || LFS_EXTENSIONS.some((e) => lower.endsWith(e));
}

/** The text of a Git LFS pointer file for content with this sha256 and size. */
export function lfsPointer(sha256: string, size: number): string {
  return `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`;
}

export function gitBlobId(content: string | Uint8Array): string {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

export interface FileHashes {
  size: number;
  sha256: string;
  /** git blob id of the content. */
  gitOid: string;
}

/** Hashes files once per (size, mtime), sharing work between concurrent requests. */
export class HashCache {
  private readonly cache = new Map<string, { size: number; mtimeMs: number; hashes: Promise<FileHashes> }>();

  async get(abs: string): Promise<FileHashes> {
    const st = await stat(abs);
    const hit = this.cache.get(abs);
    if (hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.hashes;
    const hashes = hashFile(abs, st.size);
    this.cache.set(abs, { size: st.size, mtimeMs: st.mtimeMs, hashes });
    hashes.catch(() => this.cache.delete(abs));
    return hashes;
  }
}

async function hashFile(abs: string, size: number): Promise<FileHashes> {
  const s256 = createHash('sha256');
  const s1 = createHash('sha1').update(`blob ${size}\0`);
  let n = 0;
  for await (const chunk of createReadStream(abs, { highWaterMark: 1 << 20 })) {
    s256.update(chunk as Buffer);
    s1.update(chunk as Buffer);
    n += (chunk as Buffer).length;
  }
  if (n !== size) throw new Error(`${abs} changed while hashing (${n} bytes read, ${size} expected)`);
  return { size, sha256: s256.digest('hex'), gitOid: s1.digest('hex') };
}

/** Names the mirror never lists or serves. */
export function isHiddenName(name: string): boolean {
  return name === '.git' || name === '.cache' || name === '.DS_Store' || name === '.meta' || name === '.partial';
}

/** The tree entry of one file (hashing it if needed). */
export async function fileEntry(abs: string, path: string, hashes: HashCache): Promise<MirrorTreeEntry> {
  const h = await hashes.get(abs);
  if (isLfsFile(path, h.size)) {
    const pointer = lfsPointer(h.sha256, h.size);
    return { type: 'file', path, size: h.size, oid: gitBlobId(pointer), lfs: { oid: h.sha256, size: h.size, pointerSize: Buffer.byteLength(pointer) } };
  }
  return { type: 'file', path, size: h.size, oid: h.gitOid };
}

/**
 * Lists `dirRel` (repo-relative, '' for the root) of the repo folder `repoDir`, recursively or not, sorted by
 * path. Directory oids are a hash of their listing (stable, not git's tree id).
 */
export async function listTree(repoDir: string, dirRel: string, recursive: boolean, hashes: HashCache): Promise<MirrorTreeEntry[]> {
  const out: MirrorTreeEntry[] = [];
  const walk = async (rel: string): Promise<string> => {
    const entries = (await readdir(join(repoDir, ...rel.split('/').filter(Boolean)), { withFileTypes: true }))
      .filter((e) => !isHiddenName(e.name))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const lines: string[] = [];
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      const abs = join(repoDir, ...path.split('/'));
      if (e.isDirectory() || (e.isSymbolicLink() && (await stat(abs)).isDirectory())) {
        const idx = out.length;
        out.push({ type: 'directory', path, size: 0, oid: '' });
        const sub = await (recursive ? walk(path) : listingOid(repoDir, path, hashes));
        out[idx].oid = sub;
        lines.push(`tree ${e.name} ${sub}`);
      } else if (e.isFile() || e.isSymbolicLink()) {
        const fe = await fileEntry(abs, path, hashes);
        out.push(fe);
        lines.push(`blob ${e.name} ${fe.oid}`);
      }
    }
    return createHash('sha1').update(lines.join('\n')).digest('hex');
  };
  await walk(dirRel);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

async function listingOid(repoDir: string, rel: string, hashes: HashCache): Promise<string> {
  const entries = await listTree(repoDir, rel, false, hashes);
  return createHash('sha1').update(entries.map((e) => `${e.type} ${e.path} ${e.oid}`).join('\n')).digest('hex');
}
