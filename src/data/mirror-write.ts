// The local Hub mirror's write side: the endpoints @huggingface/hub's createRepo and commit call, so pushing an
// adapter runs the real client offline (tests/data/hub_push.test.ts). Files land in the repo folder as the read side
// serves them; the mirror keeps no history (a commit overwrites files in place).
//   POST /api/repos/create                         {name, organization, type} → 200 {url} | 409 exists
//   POST /api/{models|datasets}/{repo}/preupload/{rev}   {files: [{path, size, sample}]} → uploadMode lfs | regular
//   POST /{repo}.git/info/lfs/objects/batch        (datasets/{repo}.git/… for datasets) basic transfer: an upload
//                                                  href per object not yet stored (sha256 oid + size)
//   PUT  /lfs-upload/{oid}                         the object's bytes; refused unless sha256 and size match
//   POST /api/{models|datasets}/{repo}/commit/{rev}      NDJSON: header, file (base64), lfsFile (oid), deletedFile
// Writes need an `Authorization: Bearer <token>` header (any token: the mirror has no accounts), like the Hub.
import { createHash } from 'node:crypto';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { isLfsFile } from './mirror-tree.ts';

/** Where uploaded LFS objects wait for their commit (outside models/ and datasets/, so never listed). */
const STAGING = '.lfs-staging';

export class MirrorWriteError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function body(req: IncomingMessage, limit = 2 ** 31): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new MirrorWriteError(413, 'TooLarge', 'request body too large');
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

function json(res: ServerResponse, status: number, value: unknown): true {
  const data = Buffer.from(JSON.stringify(value));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', data.length);
  res.end(data);
  return true;
}

function parseJson(buf: Buffer, what: string): Record<string, unknown> {
  try {
    return JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new MirrorWriteError(400, 'BadRequest', `${what}: the body is not JSON`);
  }
}

/**
 * Handles a write request, or returns false for anything else. `repoDir(type, segs, create)` gives a repo's folder
 * (404 when absent unless create); `safeJoin` joins repo paths safely; `hashesChanged` drops cached hashes.
 */
export async function mirrorWrite(
  req: IncomingMessage,
  res: ServerResponse,
  segs: string[],
  o: { root: string; repoDir: (type: 'model' | 'dataset', segs: string[]) => Promise<string>; safeJoin: (base: string, segs: string[]) => string; baseUrl: string },
): Promise<boolean> {
  if (req.method !== 'POST' && req.method !== 'PUT') return false;
  const needAuth = () => {
    if (!/^Bearer \S+/.test(req.headers.authorization ?? '')) throw new MirrorWriteError(401, 'Unauthorized', 'Invalid credentials in Authorization header: writes need "Authorization: Bearer <token>"');
  };
  // POST /api/repos/create
  if (req.method === 'POST' && segs.join('/') === 'api/repos/create') {
    needAuth();
    const b = parseJson(await body(req, 1 << 20), 'create');
    const type = b.type === 'dataset' ? 'dataset' : 'model';
    const repoSegs = [b.organization, b.name].filter((s): s is string => typeof s === 'string' && s !== '');
    if (repoSegs.length === 0) throw new MirrorWriteError(400, 'BadRequest', 'create: "name" is required');
    const dir = o.safeJoin(join(o.root, `${type}s`), repoSegs);
    if (await stat(dir).catch(() => null)) return json(res, 409, { error: 'You already created this repo', url: `${o.baseUrl}/${repoSegs.join('/')}` });
    await mkdir(dir, { recursive: true });
    return json(res, 200, { url: `${o.baseUrl}/${type === 'dataset' ? 'datasets/' : ''}${repoSegs.join('/')}`, name: repoSegs.join('/') });
  }
  // PUT /lfs-upload/{oid}?size=N
  if (req.method === 'PUT' && segs[0] === 'lfs-upload' && segs.length === 2) {
    const oid = segs[1];
    if (!/^[0-9a-f]{64}$/.test(oid)) throw new MirrorWriteError(400, 'BadRequest', `lfs-upload: ${oid} is not a sha256`);
    const data = await body(req);
    const sha = createHash('sha256').update(data).digest('hex');
    if (sha !== oid) throw new MirrorWriteError(400, 'BadRequest', `lfs-upload: the body's sha256 is ${sha}, not ${oid}`);
    const dir = join(o.root, STAGING);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, oid), data);
    res.statusCode = 200;
    res.end();
    return true;
  }
  if (req.method !== 'POST') return false;
  // POST /{repo}.git/info/lfs/objects/batch, /datasets/{repo}.git/info/lfs/objects/batch
  const gitAt = segs.findIndex((s) => s.endsWith('.git'));
  if (gitAt >= 0 && segs.slice(gitAt + 1).join('/') === 'info/lfs/objects/batch') {
    needAuth();
    const type = segs[0] === 'datasets' ? 'dataset' : 'model';
    const repoSegs = segs.slice(type === 'dataset' ? 1 : 0, gitAt + 1);
    repoSegs[repoSegs.length - 1] = repoSegs[repoSegs.length - 1].slice(0, -4);
    await o.repoDir(type, repoSegs);
    const b = parseJson(await body(req, 1 << 24), 'lfs batch');
    if (b.operation !== 'upload') throw new MirrorWriteError(400, 'BadRequest', 'lfs batch: only "upload" is supported');
    const objects = [];
    for (const obj of (b.objects ?? []) as { oid: string; size: number }[]) {
      const staged = await stat(join(o.root, STAGING, obj.oid)).catch(() => null);
      objects.push({
        oid: obj.oid,
        size: obj.size,
        authenticated: true,
        ...(staged && staged.size === obj.size ? {} : { actions: { upload: { href: `${o.baseUrl}/lfs-upload/${obj.oid}?size=${obj.size}` } } }),
      });
    }
    res.setHeader('Content-Type', 'application/vnd.git-lfs+json');
    return json(res, 200, { transfer: 'basic', objects });
  }
  // POST /api/{models|datasets}/{repo}/{preupload|commit}/{rev}
  if (segs[0] === 'api' && (segs[1] === 'models' || segs[1] === 'datasets')) {
    const type = segs[1] === 'models' ? 'model' : 'dataset';
    const rest = segs.slice(2);
    const kwAt = rest.findIndex((s, i) => i > 0 && i <= 2 && (s === 'preupload' || s === 'commit'));
    if (kwAt < 0 || rest.length !== kwAt + 2) return false;
    needAuth();
    const repoSegs = rest.slice(0, kwAt);
    const dir = await o.repoDir(type, repoSegs);
    if (rest[kwAt] === 'preupload') {
      const b = parseJson(await body(req, 1 << 24), 'preupload');
      const files = ((b.files ?? []) as { path: string; size: number }[]).map((f) => ({ path: f.path, uploadMode: isLfsFile(f.path, f.size) ? 'lfs' : 'regular', shouldIgnore: false }));
      return json(res, 200, { files });
    }
    const lines = (await body(req)).toString('utf8').split('\n').filter((l) => l.trim() !== '');
    const ops = lines.map((l, i) => {
      try {
        return JSON.parse(l) as { key: string; value: Record<string, unknown> };
      } catch {
        throw new MirrorWriteError(400, 'BadRequest', `commit: line ${i + 1} is not JSON`);
      }
    });
    if (ops[0]?.key !== 'header') throw new MirrorWriteError(400, 'BadRequest', 'commit: the first line must be the header');
    for (const op of ops.slice(1)) {
      const p = String(op.value.path ?? '');
      const target = o.safeJoin(dir, p.split('/'));
      if (op.key === 'file') {
        if (op.value.encoding !== 'base64') throw new MirrorWriteError(400, 'BadRequest', `commit: ${p}: only base64 file content is supported`);
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, Buffer.from(String(op.value.content ?? ''), 'base64'));
      } else if (op.key === 'lfsFile') {
        const staged = join(o.root, STAGING, String(op.value.oid));
        const st = await stat(staged).catch(() => null);
        if (!st || st.size !== op.value.size) throw new MirrorWriteError(400, 'BadRequest', `commit: ${p}: LFS object ${String(op.value.oid)} was not uploaded`);
        await mkdir(dirname(target), { recursive: true });
        await copyFile(staged, target);
      } else if (op.key === 'deletedFile') {
        await rm(target, { force: true });
      } else throw new MirrorWriteError(400, 'BadRequest', `commit: unknown operation "${op.key}"`);
    }
    const oid = createHash('sha1').update(lines.join('\n')).digest('hex');
    const id = repoSegs.join('/');
    return json(res, 200, { commitOid: oid, commitUrl: `${o.baseUrl}/${type === 'dataset' ? 'datasets/' : ''}${id}/commit/${oid}`, success: true });
  }
  return false;
}
