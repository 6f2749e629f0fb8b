// A local Hugging Face Hub mirror: serves a folder in the Hub's URL layout so the studio, the CLI and the tests
// run the real download code (@huggingface/hub's listFiles / fileDownloadInfo / downloadFile, transformers.js)
// offline. Node-only; mount `createMirrorHandler(root)` on http.createServer or as Vite/connect middleware.
//
// Folder layout (any revision in a URL serves the folder as it is; the mirror has no history):
//   <root>/models/<org>/<name>/...      model repo  <org>/<name>   (or <root>/models/<name>/ for a one-part id)
//   <root>/datasets/<org>/<name>/...    dataset repo
//
// Endpoints:
//   GET|HEAD /{repo}/resolve/{rev}/{path}            file content; Range → 206 + Content-Range; ETag; for LFS-like
//   GET|HEAD /datasets/{repo}/resolve/{rev}/{path}   files X-Linked-ETag and X-Linked-Size (sha256, size)
//   GET      /{repo}/raw/{rev}/{path}                 like the Hub: the LFS pointer text for LFS files
//   GET      /api/{models|datasets}/{repo}/tree/{rev}[/{path}]?recursive=  listing (see mirror-tree.ts)
//   GET      /api/{models|datasets}/{repo}[/revision/{rev}]                repo info (id, sha, siblings)
//   OPTIONS  *                                        CORS preflight (the studio fetches cross-origin)
//   POST/PUT create repo, preupload, LFS batch + upload, commit: the write side (mirror-write.ts), for Push to Hub
// Errors are JSON {"error": ...} with X-Error-Code RepoNotFound / EntryNotFound / RevisionNotFound, as the Hub.
//
// Fault injection for tests: `cut: {afterBytes, path?, times?}` sends a file's bytes up to file offset
// `afterBytes` and then destroys the connection (the first `times` responses that cross that offset).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, isAbsolute, resolve as resolvePath, sep } from 'node:path';
import { HashCache, fileEntry, isHiddenName, isLfsFile, lfsPointer, listTree } from './mirror-tree.ts';
import { mirrorWrite, MirrorWriteError } from './mirror-write.ts';

export interface MirrorCut {
  /** File offset at which the connection is dropped. */
  afterBytes: number;
  /** Only for files whose repo path (e.g. "models/org/name/model.safetensors") contains this / matches it. */
  path?: string | RegExp;
  /** How many responses to cut (default 1; Infinity for all). */
  times?: number;
}

export interface MirrorOptions {
  cut?: MirrorCut | null;
  /** Called with one line per request (method, path, status, bytes); never with request headers. */
  log?: (line: string) => void;
}

/** One served request, for tests that count what went over the wire. */
export interface ServeRecord {
  method: string;
  url: string;
  status: number;
  /** "models/<repo>/<path>" or "datasets/<repo>/<path>" for file requests. */
  file?: string;
  /** Byte range sent [start, end) of the file, and body bytes actually written. */
  start?: number;
  end?: number;
  bytesSent: number;
  cut: boolean;
}

export type NextFn = (err?: unknown) => void;

export interface MirrorHandler {
  (req: IncomingMessage, res: ServerResponse, next?: NextFn): void;
  readonly root: string;
  /** Every request served so far (tests clear it with `records.length = 0`). */
  readonly records: ServeRecord[];
  /** Replaces the cut switch (null to turn it off). */
  setCut(cut: MirrorCut | null): void;
}

const EXPOSED = [
  'Content-Range', 'Content-Length', 'Content-Type', 'Accept-Ranges', 'ETag', 'X-Linked-ETag', 'X-Linked-Size',
  'X-Repo-Commit', 'X-Error-Code', 'X-Error-Message', 'Link',
].join(', ');

type RepoType = 'model' | 'dataset';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function createMirrorHandler(root: string, opts: MirrorOptions = {}): MirrorHandler {
  const absRoot = resolvePath(root);
  const hashes = new HashCache();
  const records: ServeRecord[] = [];
  let cut: (MirrorCut & { left: number }) | null = null;
  const setCut = (c: MirrorCut | null | undefined) => {
    cut = c ? { ...c, left: c.times ?? 1 } : null;
  };
  setCut(opts.cut);

  const handler = ((req: IncomingMessage, res: ServerResponse, next?: NextFn) => {
    const rec: ServeRecord = { method: req.method ?? 'GET', url: req.url ?? '/', status: 0, bytesSent: 0, cut: false };
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', EXPOSED);
    let passed = false;
    records.push(rec);
    route(req, res, rec)
      .then((handled) => {
        if (!handled) {
          if (next) {
            passed = true;
            return next();
          }
          throw new HttpError(404, 'NotFound', `No such endpoint: ${req.method} ${pathOnly(req.url)}`);
        }
      })
      .catch((e) => sendError(res, e))
      .finally(() => {
        if (passed) {
          records.splice(records.indexOf(rec), 1);
          return;
        }
        rec.status = res.statusCode;
        opts.log?.(`${rec.method} ${pathOnly(rec.url)} ${rec.status} ${rec.bytesSent}B${rec.cut ? ' (cut)' : ''}`);
      });
  }) as MirrorHandler;
  Object.defineProperty(handler, 'root', { value: absRoot });
  Object.defineProperty(handler, 'records', { value: records });
  handler.setCut = setCut;
  return handler;

  async function route(req: IncomingMessage, res: ServerResponse, rec: ServeRecord): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://mirror.local');
    const segs = url.pathname.split('/').filter((s) => s !== '').map(decodeSegment);
    if (req.method === 'OPTIONS') {
      res.statusCode = 204;
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS, POST, PUT');
      res.setHeader('Access-Control-Allow-Headers', req.headers['access-control-request-headers'] ?? 'Range, Authorization, Accept, If-None-Match');
      res.setHeader('Access-Control-Max-Age', '86400');
      res.end();
      return true;
    }
    if (req.method === 'POST' || req.method === 'PUT') {
      // the mount prefix (e.g. /hub-mirror under Vite) is what connect stripped from originalUrl
      const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/';
      const prefix = original.slice(0, Math.max(0, original.length - (req.url ?? '/').length));
      const baseUrl = `http://${req.headers.host ?? 'localhost'}${prefix}`;
      try {
        return await mirrorWrite(req, res, segs, { root: absRoot, repoDir, safeJoin, baseUrl });
      } catch (e) {
        if (e instanceof MirrorWriteError) throw new HttpError(e.status, e.code, e.message);
        throw e;
      }
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;

    if (segs[0] === 'api' && (segs[1] === 'models' || segs[1] === 'datasets')) {
      const type: RepoType = segs[1] === 'models' ? 'model' : 'dataset';
      const rest = segs.slice(2);
      const split = splitRepo(rest, ['tree', 'revision']);
      if (!split) {
        if (rest.length === 1 || rest.length === 2) return sendInfo(res, type, rest, 'main');
        return false;
      }
      const [repoSegs, kw, after] = split;
      if (kw === 'revision' && after.length === 1) return sendInfo(res, type, repoSegs, after[0]);
      if (kw === 'tree' && after.length >= 1) {
        return sendTree(res, type, repoSegs, after.slice(1), url.searchParams.get('recursive') === 'true');
      }
      return false;
    }

    const type: RepoType = segs[0] === 'datasets' ? 'dataset' : 'model';
    const split = splitRepo(type === 'dataset' ? segs.slice(1) : segs, ['resolve', 'raw']);
    if (!split) return false;
    const [repoSegs, kw, after] = split;
    if (after.length < 2) return false;
    return sendFile(req, res, rec, type, repoSegs, after.slice(1), kw === 'raw');
  }

  /** Absolute folder of a repo; 404 RepoNotFound if absent. */
  async function repoDir(type: RepoType, repoSegs: string[]): Promise<string> {
    const dir = safeJoin(join(absRoot, `${type}s`), repoSegs);
    const st = await stat(dir).catch(() => null);
    if (!st?.isDirectory()) {
      throw new HttpError(404, 'RepoNotFound', `Repository not found: ${type} ${repoSegs.join('/')} (the mirror looks in ${dir})`);
    }
    return dir;
  }

  async function sendInfo(res: ServerResponse, type: RepoType, repoSegs: string[], revision: string): Promise<boolean> {
    const dir = await repoDir(type, repoSegs);
    const entries = await listTree(dir, '', true, hashes);
    const files = entries.filter((e) => e.type === 'file');
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha1').update(files.map((e) => `${e.path} ${e.oid}`).join('\n')).digest('hex');
    const id = repoSegs.join('/');
    const newest = Math.max(0, ...(await Promise.all(files.map(async (f) => (await stat(join(dir, ...f.path.split('/')))).mtimeMs))));
    sendJson(res, 200, {
      _id: sha.slice(0, 24), id, ...(type === 'model' ? { modelId: id } : {}), sha, revision, private: false, gated: false, disabled: false,
      downloads: 0, likes: 0, tags: [], lastModified: new Date(newest).toISOString(),
      siblings: files.map((f) => ({ rfilename: f.path })),
    });
    return true;
  }

  async function sendTree(res: ServerResponse, type: RepoType, repoSegs: string[], pathSegs: string[], recursive: boolean): Promise<boolean> {
    const dir = await repoDir(type, repoSegs);
    const sub = safeJoin(dir, pathSegs);
    const st = await stat(sub).catch(() => null);
    if (!st) throw new HttpError(404, 'EntryNotFound', `${pathSegs.join('/')} does not exist in ${repoSegs.join('/')}`);
    if (!st.isDirectory()) {
      sendJson(res, 200, [await fileEntry(sub, pathSegs.join('/'), hashes)]);
      return true;
    }
    sendJson(res, 200, await listTree(dir, pathSegs.join('/'), recursive, hashes));
    return true;
  }

  async function sendFile(req: IncomingMessage, res: ServerResponse, rec: ServeRecord, type: RepoType, repoSegs: string[], pathSegs: string[], raw: boolean): Promise<boolean> {
    const dir = await repoDir(type, repoSegs);
    const abs = safeJoin(dir, pathSegs);
    const path = pathSegs.join('/');
    const st = await stat(abs).catch(() => null);
    if (!st?.isFile() || pathSegs.some(isHiddenName)) throw new HttpError(404, 'EntryNotFound', `${path} does not exist in ${repoSegs.join('/')}`);
    const h = await hashes.get(abs);
    const lfs = isLfsFile(path, h.size);
    rec.file = `${type}s/${repoSegs.join('/')}/${path}`;

    if (raw && lfs) {
      const pointer = Buffer.from(lfsPointer(h.sha256, h.size));
      res.statusCode = 200;
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('Content-Length', pointer.length);
      res.end(req.method === 'HEAD' ? undefined : pointer);
      return true;
    }
    const etag = `"${lfs ? h.sha256 : h.gitOid}"`;
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('ETag', etag);
    res.setHeader('Content-Type', contentType(path));
    if (lfs) {
      res.setHeader('X-Linked-ETag', etag);
      res.setHeader('X-Linked-Size', String(h.size));
    }
    if (req.headers['if-none-match'] === etag) {
      res.statusCode = 304;
      res.end();
      return true;
    }
    let start = 0;
    let end = h.size; // exclusive
    const range = req.headers.range;
    const ifRange = req.headers['if-range'];
    if (range && (!ifRange || ifRange === etag)) {
      const r = parseRange(range, h.size);
      if (r === 'unsatisfiable') {
        res.statusCode = 416;
        res.setHeader('Content-Range', `bytes */${h.size}`);
        res.end();
        return true;
      }
      if (r) {
        [start, end] = r;
        res.statusCode = 206;
        res.setHeader('Content-Range', `bytes ${start}-${end - 1}/${h.size}`);
      }
    }
    if (res.statusCode !== 206) res.statusCode = 200;
    res.setHeader('Content-Length', String(end - start));
    rec.start = start;
    rec.end = end;
    rec.status = res.statusCode;
    if (req.method === 'HEAD' || end === start) {
      res.end();
      return true;
    }
    let stopAt = end;
    const c = cut;
    if (c && c.left > 0 && start <= c.afterBytes && c.afterBytes < end && matchesPath(c.path, rec.file)) {
      c.left--;
      stopAt = c.afterBytes;
      rec.cut = true;
    }
    await streamBody(res, abs, start, stopAt, rec);
    if (rec.cut) res.destroy();
    else res.end();
    return true;
  }
}

/** Writes file bytes [start, stopAt) to res with backpressure; stops quietly if the client goes away. */
async function streamBody(res: ServerResponse, abs: string, start: number, stopAt: number, rec: ServeRecord): Promise<void> {
  if (stopAt <= start) {
    res.flushHeaders();
    await new Promise((r) => setTimeout(r, 10));
    return;
  }
  const stream = createReadStream(abs, { start, end: stopAt - 1, highWaterMark: 64 * 1024 });
  try {
    for await (const chunk of stream) {
      if (res.destroyed) break;
      rec.bytesSent += (chunk as Buffer).length;
      if (!res.write(chunk)) await drained(res);
    }
    if (rec.cut && !res.destroyed) await new Promise<void>((r) => res.write('', () => r()));
  } finally {
    stream.destroy();
  }
}

/** Resolves on 'drain' or 'close', removing both listeners. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Parses a single-range `bytes=` header: [start, endExclusive], 'unsatisfiable', or null to ignore it. */
export function parseRange(header: string, size: number): [number, number] | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null; // malformed or multi-range: serve the whole file
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return [Math.max(0, size - n), size];
  }
  const s = Number(m[1]);
  const e = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (s >= size) return 'unsatisfiable';
  if (e < s) return null;
  return [s, e + 1];
}

/** Splits "<repo...>/<kw>/<rest>" where the repo id has one or two parts. */
function splitRepo(segs: string[], keywords: string[]): [string[], string, string[]] | null {
  for (const n of [2, 1]) {
    if (segs.length > n && keywords.includes(segs[n])) return [segs.slice(0, n), segs[n], segs.slice(n + 1)];
  }
  return null;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpError(400, 'BadRequest', `malformed URL segment ${s}`);
  }
}

/** Joins URL segments under `base`, refusing anything that could leave it (.., separators, drive letters). */
function safeJoin(base: string, segs: string[]): string {
  for (const s of segs) {
    // eslint-disable-next-line no-control-regex
    if (s === '' || s === '.' || s === '..' || /[\\/:\u0000]/.test(s)) throw new HttpError(400, 'BadRequest', `invalid path segment ${JSON.stringify(s)}`);
  }
  const p = join(base, ...segs);
  const rel = relative(base, p);
  if (rel.startsWith('..') || isAbsolute(rel) || (rel !== '' && !p.startsWith(base + sep))) throw new HttpError(400, 'BadRequest', 'path escapes the mirror folder');
  return p;
}

function matchesPath(p: string | RegExp | undefined, file: string): boolean {
  if (p === undefined) return true;
  return typeof p === 'string' ? file.includes(p) : p.test(file);
}

function contentType(path: string): string {
  const l = path.toLowerCase();
  if (l.endsWith('.json')) return 'application/json';
  if (l.endsWith('.txt') || l.endsWith('.md') || l.endsWith('.jsonl') || l.endsWith('.py')) return 'text/plain; charset=utf-8';
  return 'application/octet-stream';
}

function pathOnly(url: string | undefined): string {
  return (url ?? '/').split('?')[0];
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', data.length);
  res.end(data);
}

function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const he = e instanceof HttpError ? e : new HttpError(500, 'InternalError', `mirror error: ${(e as Error).message}`);
  res.setHeader('X-Error-Code', he.code);
  res.setHeader('X-Error-Message', he.message.replace(/[^\x20-\x7e]/g, '?'));
  for (const h of ['Content-Range', 'ETag', 'X-Linked-ETag', 'X-Linked-Size', 'Accept-Ranges']) res.removeHeader(h);
  sendJson(res, he.status, { error: he.message });
}
