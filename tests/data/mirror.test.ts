// The local Hub mirror: tree API shape (as @huggingface/hub's listFiles parses it, with hashes computed here by
// node:crypto and git), resolve with Range/ETag/X-Linked-* headers, 404 codes the library understands, CORS,
// path traversal, the cut switch, and use as connect-style middleware.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileDownloadInfo, listFiles } from '@huggingface/hub';
import { createMirrorHandler, parseRange, type MirrorHandler } from '../../src/data/mirror.ts';
import { Rng } from '../../src/util/random.ts';

let root: string;
let server: Server;
let base: string;
let handler: MirrorHandler;
const weights = new Uint8Array(300_000).map((_, i) => (i * 31 + 7) & 255);
const config = '{"model_type": "qwen3"}\n';
const big = new Uint8Array(10 * 1024 * 1024 + 5); // ≥ 10 MB: LFS whatever its extension

/** Byte equality without vitest's slow element-wise deep diff on large arrays. */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const gitHashObject = (b: Uint8Array | string) => execFileSync('git', ['hash-object', '--stdin'], { input: b }).toString().trim();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rs-mirror-'));
  const model = join(root, 'models', 'org', 'tiny');
  await mkdir(join(model, 'sub'), { recursive: true });
  await writeFile(join(model, 'config.json'), config);
  await writeFile(join(model, 'model.safetensors'), weights);
  await writeFile(join(model, 'sub', 'notes.txt'), 'hello');
  await writeFile(join(model, 'big.json'), big);
  await mkdir(join(model, '.git'), { recursive: true });
  await writeFile(join(model, '.git', 'HEAD'), 'ref');
  await mkdir(join(root, 'models', 'gpt2'), { recursive: true });
  await writeFile(join(root, 'models', 'gpt2', 'config.json'), '{}');
  await mkdir(join(root, 'datasets', 'org', 'prefs', 'data'), { recursive: true });
  const rng = new Rng(1);
  await writeFile(join(root, 'datasets', 'org', 'prefs', 'data', 'train-00000-of-00001.parquet'), new Uint8Array(1000).map(() => rng.int(256)));
  await writeFile(join(root, 'secret.txt'), 'do not serve');
  handler = createMirrorHandler(root);
  server = createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await rm(root, { recursive: true, force: true });
});

describe('mirror tree API', () => {
  it('lists recursively in the shape listFiles yields, with git oids and LFS sha256', async () => {
    const entries = [];
    for await (const e of listFiles({ repo: 'org/tiny', recursive: true, hubUrl: base })) entries.push(e);
    const pointer = (b: Uint8Array) => `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(b)}\nsize ${b.length}\n`;
    expect(entries).toEqual([
      { type: 'file', path: 'big.json', size: big.length, oid: gitHashObject(pointer(big)), lfs: { oid: sha256(big), size: big.length, pointerSize: pointer(big).length } },
      { type: 'file', path: 'config.json', size: config.length, oid: gitHashObject(config) },
      { type: 'file', path: 'model.safetensors', size: weights.length, oid: gitHashObject(pointer(weights)), lfs: { oid: sha256(weights), size: weights.length, pointerSize: pointer(weights).length } },
      { type: 'directory', path: 'sub', size: 0, oid: expect.stringMatching(/^[0-9a-f]{40}$/) },
      { type: 'file', path: 'sub/notes.txt', size: 5, oid: gitHashObject('hello') },
    ]);
  });

  it('lists one level, a subfolder, datasets, one-part repo ids', async () => {
    const top = [];
    for await (const e of listFiles({ repo: 'org/tiny', hubUrl: base })) top.push(e.path);
    expect(top).toEqual(['big.json', 'config.json', 'model.safetensors', 'sub']);
    const sub = [];
    for await (const e of listFiles({ repo: 'org/tiny', path: 'sub', hubUrl: base })) sub.push(e.path);
    expect(sub).toEqual(['sub/notes.txt']);
    const ds = [];
    for await (const e of listFiles({ repo: 'datasets/org/prefs', recursive: true, hubUrl: base })) ds.push([e.type, e.path, !!e.lfs]);
    expect(ds).toEqual([['directory', 'data', false], ['file', 'data/train-00000-of-00001.parquet', true]]);
    const g = [];
    for await (const e of listFiles({ repo: 'gpt2', hubUrl: base })) g.push(e.path);
    expect(g).toEqual(['config.json']);
  });

  it('answers repo info with siblings', async () => {
    const info = await (await fetch(`${base}/api/models/org/tiny/revision/main`)).json();
    expect(info.id).toBe('org/tiny');
    expect(info.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(info.siblings.map((s: { rfilename: string }) => s.rfilename)).toEqual(['big.json', 'config.json', 'model.safetensors', 'sub/notes.txt']);
  });

  it('404s with the Hub error codes', async () => {
    const r1 = await fetch(`${base}/api/models/org/nope/tree/main`);
    expect([r1.status, r1.headers.get('x-error-code')]).toEqual([404, 'RepoNotFound']);
    expect((await r1.json()).error).toContain('Repository not found: model org/nope');
    const r2 = await fetch(`${base}/org/tiny/resolve/main/missing.json`);
    expect([r2.status, r2.headers.get('x-error-code')]).toEqual([404, 'EntryNotFound']);
    // The library maps EntryNotFound to null.
    expect(await fileDownloadInfo({ repo: 'org/tiny', path: 'missing.json', hubUrl: base })).toBeNull();
    const r3 = await fetch(`${base}/org/tiny/resolve/main/.git/HEAD`);
    expect(r3.status).toBe(404);
  });
});

describe('mirror resolve', () => {
  it('serves LFS-like files with X-Linked-ETag/Size and the probe fileDownloadInfo makes', async () => {
    const info = await fileDownloadInfo({ repo: 'org/tiny', path: 'model.safetensors', hubUrl: base });
    expect(info).toMatchObject({ size: weights.length, etag: `"${sha256(weights)}"` });
    const r = await fetch(`${base}/org/tiny/resolve/main/model.safetensors`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-linked-etag')).toBe(`"${sha256(weights)}"`);
    expect(r.headers.get('x-linked-size')).toBe(String(weights.length));
    expect(r.headers.get('accept-ranges')).toBe('bytes');
    expect(same(new Uint8Array(await r.arrayBuffer()), weights)).toBe(true);
    const d = await fetch(`${base}/datasets/org/prefs/resolve/main/data/train-00000-of-00001.parquet`, { headers: { Range: 'bytes=0-3' } });
    expect([d.status, d.headers.get('content-range')]).toEqual([206, 'bytes 0-3/1000']);
  });

  it('serves regular files with the git blob id as ETag and no X-Linked headers', async () => {
    const r = await fetch(`${base}/org/tiny/resolve/main/config.json`);
    expect(r.headers.get('etag')).toBe(`"${gitHashObject(config)}"`);
    expect(r.headers.get('x-linked-etag')).toBeNull();
    expect(await r.text()).toBe(config);
    const raw = await fetch(`${base}/org/tiny/raw/main/model.safetensors`);
    expect(await raw.text()).toBe(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256(weights)}\nsize ${weights.length}\n`);
  });

  it('implements single-range semantics', async () => {
    const get = (range: string, extra: Record<string, string> = {}) => fetch(`${base}/org/tiny/resolve/main/model.safetensors`, { headers: { Range: range, ...extra } });
    let r = await get('bytes=10-19');
    expect([r.status, r.headers.get('content-range'), r.headers.get('content-length')]).toEqual([206, `bytes 10-19/${weights.length}`, '10']);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(weights.subarray(10, 20));
    r = await get('bytes=299990-');
    expect(same(new Uint8Array(await r.arrayBuffer()), weights.subarray(299990))).toBe(true);
    r = await get('bytes=-4');
    expect([r.status, r.headers.get('content-range')]).toEqual([206, `bytes 299996-299999/${weights.length}`]);
    await r.arrayBuffer();
    r = await get('bytes=299995-400000'); // end clamped
    expect(r.headers.get('content-range')).toBe(`bytes 299995-299999/${weights.length}`);
    await r.arrayBuffer();
    r = await get(`bytes=${weights.length}-`);
    expect([r.status, r.headers.get('content-range')]).toEqual([416, `bytes */${weights.length}`]);
    r = await get('bytes=0-1,5-6'); // multi-range: whole file
    expect([r.status, Number(r.headers.get('content-length'))]).toEqual([200, weights.length]);
    await r.arrayBuffer();
    r = await get('bytes=0-9', { 'If-Range': '"stale"' }); // If-Range mismatch: whole file
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    r = await fetch(`${base}/org/tiny/resolve/main/model.safetensors`, { headers: { 'If-None-Match': `"${sha256(weights)}"` } });
    expect(r.status).toBe(304);
    r = await fetch(`${base}/org/tiny/resolve/main/model.safetensors`, { method: 'HEAD' });
    expect([r.status, r.headers.get('content-length')]).toEqual([200, String(weights.length)]);
    expect(parseRange('bytes=5-2', 10)).toBeNull();
    expect(parseRange('items=0-1', 10)).toBeNull();
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
  });

  it('answers CORS preflights and exposes the headers the library reads', async () => {
    const r = await fetch(`${base}/org/tiny/resolve/main/config.json`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:5173', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'authorization,range' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
    expect(r.headers.get('access-control-allow-headers')).toBe('authorization,range');
    const g = await fetch(`${base}/org/tiny/resolve/main/config.json`);
    const exposed = g.headers.get('access-control-expose-headers')!;
    for (const h of ['Content-Range', 'ETag', 'X-Linked-ETag', 'X-Linked-Size', 'X-Error-Code']) expect(exposed).toContain(h);
    await g.text();
  });

  it('refuses paths outside the repo folder', async () => {
    // Raw requests: fetch() would normalise dot segments before sending them.
    const rawGet = (path: string) => new Promise<[number, string]>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: Number(new URL(base).port), path }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve([res.statusCode!, body]));
      });
      req.on('error', reject);
      req.end();
    });
    // '..' and '%2E%2E' segments are resolved by URL parsing (to a path outside any repo: 404); separators
    // hidden in a segment reach the path check (400). Either way nothing outside the repo folder is served.
    const cases: [string, number][] = [
      ['../../../secret.txt', 404], ['%2E%2E/%2E%2E/%2E%2E/secret.txt', 404], ['..%2F..%2F..%2Fsecret.txt', 400],
      ['sub%5C..%5C..%5C..%5Csecret.txt', 400], ['C%3A%5Cwindows', 400],
    ];
    for (const [p, want] of cases) {
      const [status, body] = await rawGet(`/org/tiny/resolve/main/${p}`);
      expect(status, p).toBe(want);
      expect(body).not.toContain('do not serve');
    }
  });

  it('cuts the connection at the configured offset, once', async () => {
    handler.records.length = 0;
    handler.setCut({ afterBytes: 100_000, path: 'model.safetensors' });
    const r = await fetch(`${base}/org/tiny/resolve/main/model.safetensors`, { headers: { Range: 'bytes=1000-' } });
    expect(r.status).toBe(206);
    await expect(r.arrayBuffer()).rejects.toThrow();
    const again = await fetch(`${base}/org/tiny/resolve/main/model.safetensors`, { headers: { Range: 'bytes=1000-' } });
    expect(same(new Uint8Array(await again.arrayBuffer()), weights.subarray(1000))).toBe(true);
    handler.setCut(null);
    const recs = handler.records.filter((x) => x.file?.endsWith('model.safetensors'));
    expect(recs.map((x) => [x.start, x.end, x.bytesSent, x.cut])).toEqual([
      [1000, weights.length, 99_000, true],
      [1000, weights.length, weights.length - 1000, false],
    ]);
  });
});

describe('mirror as middleware', () => {
  it('passes unknown paths to next() and serves its own', async () => {
    const h = createMirrorHandler(root);
    const calls: string[] = [];
    const s = createServer((req, res) => h(req, res, () => {
      calls.push(req.url!);
      res.statusCode = 299;
      res.end('app');
    }));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    try {
      const a = await fetch(`http://127.0.0.1:${port}/src/main.tsx`);
      expect([a.status, await a.text()]).toEqual([299, 'app']);
      const b = await fetch(`http://127.0.0.1:${port}/org/tiny/resolve/main/config.json`);
      expect(await b.text()).toBe(config);
      expect(calls).toEqual(['/src/main.tsx']);
      expect(h.records.map((r) => r.url)).toEqual(['/org/tiny/resolve/main/config.json']);
    } finally {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
  });
});

describe('mirror CLI', () => {
  it('serves a folder: npm run mirror -- <folder> --port 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './tools/node-hooks.mjs', 'src/cli/mirror.ts', root, '--port', '0', '--quiet'], {
      cwd: join(import.meta.dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /at (http:\/\/127\.0\.0\.1:\d+)\n/.exec(out);
          if (m) resolve(m[1]);
        });
        child.stderr.on('data', (d) => (out += d));
        child.on('exit', (code) => reject(new Error(`mirror exited with ${code}: ${out}`)));
      });
      expect(out).toContain('repos:\n  models/gpt2\n  models/org/tiny\n  datasets/org/prefs');
      expect(await (await fetch(`${url}/org/tiny/resolve/main/config.json`)).text()).toBe(config);
    } finally {
      child.kill();
    }
  });
});
