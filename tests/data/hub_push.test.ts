// Push to Hub against the local mirror's write side, through @huggingface/hub's real createRepo + commit: an adapter
// folder's files (JSON inline, safetensors through LFS) land in the mirror byte for byte and download back through the
// read side; a second push updates the repo; the mirror refuses writes without a token, LFS bytes that do not match
// their sha256, and commits naming LFS objects never uploaded.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMirrorHandler } from '../../src/data/mirror.ts';
import { pushToHub } from '../../src/data/hub_push.ts';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { createDataHandler } from '../../src/worker/data_handler.ts';
import { createStudio } from '../../src/ui/store/store.ts';
import type { Request, WorkerEvent } from '../../src/worker/protocol.ts';

let root: string;
let server: Server;
let hubUrl: string;
const served = () => createMirrorHandler(root);

beforeAll(async () => {
  root = mkdtempSync(path.join(tmpdir(), 'rs-push-'));
  const h = served();
  server = createServer((req, res) => h(req, res));
  await new Promise<void>((r) => server.listen(0, 'localhost', r));
  const addr = server.address() as { port: number };
  hubUrl = `http://localhost:${addr.port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

const enc = (s: string) => new TextEncoder().encode(s);

describe('push to Hub (local mirror)', () => {
  it('creates the repo and commits regular and LFS files; a second push updates them', async () => {
    const weights = new Uint8Array(3000).map((_, i) => (i * 37) % 251);
    const files = [
      { path: 'adapter_config.json', data: enc('{"peft_type": "LORA", "r": 4}') },
      { path: 'adapter_model.safetensors', data: weights },
      { path: 'README.md', data: enc('# my adapter\n') },
    ];
    const first = await pushToHub({ hubUrl, token: 'hf_test', repo: 'alice/rm-lora', files });
    expect(first.created).toBe(true);
    expect(first.commitUrl).toMatch(/\/alice\/rm-lora\/commit\/[0-9a-f]{40}$/);
    const dir = path.join(root, 'models', 'alice', 'rm-lora');
    for (const f of files) expect(Buffer.compare(readFileSync(path.join(dir, f.path)), Buffer.from(f.data)), f.path).toBe(0);
    // the read side serves what was pushed (safetensors as an LFS file with its sha256)
    const got = new Uint8Array(await (await fetch(`${hubUrl}/alice/rm-lora/resolve/main/adapter_model.safetensors`)).arrayBuffer());
    expect(Buffer.compare(Buffer.from(got), Buffer.from(weights))).toBe(0);
    const tree = (await (await fetch(`${hubUrl}/api/models/alice/rm-lora/tree/main`)).json()) as { path: string; lfs?: unknown }[];
    expect(tree.find((e) => e.path === 'adapter_model.safetensors')?.lfs).toBeTruthy();

    const second = await pushToHub({ hubUrl, token: 'hf_test', repo: 'alice/rm-lora', files: [{ path: 'README.md', data: enc('# v2\n') }] });
    expect(second.created).toBe(false);
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toBe('# v2\n');
    expect(second.oid).not.toBe(first.oid);
  });

  it('says what is wrong with the repo id or token before any request', async () => {
    await expect(pushToHub({ hubUrl, token: 'hf_test', repo: 'no-namespace', files: [] })).rejects.toMatchObject({ fix: expect.stringMatching(/<user or org>\/<name>/) });
    await expect(pushToHub({ hubUrl, token: '', repo: 'a/b', files: [{ path: 'x', data: enc('x') }] })).rejects.toThrow(/No Hugging Face token/);
  });

  it('the mirror refuses writes without a token, wrong LFS bytes, and commits of LFS objects never uploaded', async () => {
    const post = (url: string, body: string, auth = true) => fetch(`${hubUrl}${url}`, { method: 'POST', body, headers: auth ? { Authorization: 'Bearer t' } : {} });
    expect((await post('/api/repos/create', JSON.stringify({ name: 'x', organization: 'bob', type: 'model' }), false)).status).toBe(401);
    expect((await post('/api/repos/create', JSON.stringify({ name: 'x', organization: 'bob', type: 'model' }))).status).toBe(200);
    expect((await post('/api/repos/create', JSON.stringify({ name: 'x', organization: 'bob', type: 'model' }))).status).toBe(409);
    const bad = await fetch(`${hubUrl}/lfs-upload/${'0'.repeat(64)}`, { method: 'PUT', body: 'abc' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/sha256 is ba7816bf/);
    const commit = [JSON.stringify({ key: 'header', value: { summary: 's' } }), JSON.stringify({ key: 'lfsFile', value: { path: 'w.safetensors', algo: 'sha256', oid: 'f'.repeat(64), size: 3 } })].join('\n');
    const res = await post('/api/models/bob/x/commit/main', commit);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/w\.safetensors: LFS object f+ was not uploaded/);
    expect((await post('/api/models/bob/none/preupload/main', '{"files": []}')).status).toBe(404);
  });

  it('the data worker pushes exported files for the page; the store keeps no token', async () => {
    const events: WorkerEvent[] = [];
    const data = createDataHandler({ post: (e) => events.push(e), openStore: async () => new FsFileStore(mkdtempSync(path.join(tmpdir(), 'rs-push-store-'))), demoTokenizerFiles: async () => ({ tokenizerJson: '{}', tokenizerConfig: '{}' }) });
    const sent: Request[] = [];
    const { store } = createStudio({ post: (r) => sent.push(r) });
    store.getState().request({ type: 'push-to-hub', hubUrl, token: 'hf_secret', repo: 'carol/rm', files: [{ name: 'README.md', data: enc('# hi\n') }] });
    expect(JSON.stringify(store.getState().pending)).not.toContain('hf_secret');
    await data.handle(sent[0]);
    expect(events.at(-1)).toMatchObject({ type: 'push-done', repo: 'carol/rm', created: true, commitUrl: expect.stringContaining('/carol/rm/commit/') });
    expect(readFileSync(path.join(root, 'models', 'carol', 'rm', 'README.md'), 'utf8')).toBe('# hi\n');
    await data.handle({ ...(sent[0] as Extract<Request, { type: 'push-to-hub' }>), repo: 'bad id' });
    expect(events.at(-1)).toMatchObject({ type: 'error', where: 'export', fix: expect.stringMatching(/<user or org>\/<name>/) });
  });
});
