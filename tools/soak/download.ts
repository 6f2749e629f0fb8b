// Soak scenario "download": the Hub downloader against the local mirror (src/data/mirror.ts) on a loopback port,
// with the mirror's cut switch dropping the connection at random offsets of model.safetensors, a stored byte of the
// partial file flipped now and then (a corrupted chunk), and a full disk (ENOSPC) injected into the store at a
// random chunk (flags.ts `enospc@download:N`, inside FsFileStore). Every round must end with every file complete and equal to the mirror's bytes (sha256); a corrupted
// chunk must be detected by the hash and fetched again; a full disk must stop with the sizes and mark nothing
// complete that is not.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMirrorHandler } from '../../src/data/mirror.ts';
import { downloadHubRepo } from '../../src/data/hub.ts';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { hubFileKey, openStoredFile, StorageFullError, type FileStore } from '../../src/data/storage.ts';
import { readPieces } from '../../src/formats/bytes.ts';
import { Rng } from '../../src/util/random.ts';
import { setFaults } from '../../src/gpu/flags.ts';
import { writeTinyQwen3 } from '../fixtures-model.ts';
import type { ScenarioResult, SoakOptions } from './common.ts';

const REPO = 'soak/tiny-qwen3';
const CHUNK = 64 * 1024;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function storedSha(store: FileStore, key: string): Promise<string> {
  const h = createHash('sha256');
  for await (const p of readPieces(await openStoredFile(store, key), 1 << 20)) h.update(p);
  return h.digest('hex');
}


export async function downloadScenario(o: SoakOptions): Promise<ScenarioResult[]> {
  const rng = new Rng(o.seed);
  const root = await mkdtemp(join(tmpdir(), 'rs-soak-dl-'));
  const repoDir = join(root, 'models', ...REPO.split('/'));
  await writeTinyQwen3(repoDir, { seed: 0 });
  const files = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];
  const want = new Map<string, string>();
  for (const f of files) want.set(f, sha(new Uint8Array(await readFile(join(repoDir, f)))));
  const size = (await readFile(join(repoDir, 'model.safetensors'))).byteLength;
  const mirror = createMirrorHandler(root);
  const server = createServer(mirror);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hubUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const repo = { type: 'model' as const, name: REPO };
  const key = hubFileKey('model', REPO, 'main', 'model.safetensors');
  const cuts = { name: 'download cut at a random offset', total: 0, passed: 0, notes: [] as string[] };
  const corrupt = { name: 'corrupted chunk detected and fetched again', total: 0, passed: 0, notes: [] as string[] };
  const full = { name: 'full disk (ENOSPC) during a download', total: 0, passed: 0, notes: [] as string[] };
  const verify = async (store: FileStore): Promise<string | null> => {
    for (const f of files) {
      const k = hubFileKey('model', REPO, 'main', f);
      const st = await store.stat(k);
      if (!st?.complete) return `${f} not complete`;
      const h = await storedSha(store, k);
      if (h !== want.get(f)) return `${f}: sha256 ${h} != ${want.get(f)}`;
    }
    return null;
  };
  try {
    for (let round = 0; round < o.n; round++) {
      const dir = await mkdtemp(join(tmpdir(), 'rs-soak-dlstore-'));
      const store = new FsFileStore(dir, { chunkSize: CHUNK });
      // 1–3 cuts at increasing random offsets, each followed by a resume (a new call, as after a reload)
      const offsets = Array.from({ length: 1 + (rng.nextU32() % 3) }, () => rng.nextU32() % size).sort((a, b) => a - b);
      let corrupted = false;
      let cut = 0;
      try {
        for (const off of offsets) {
          mirror.setCut({ afterBytes: off, path: 'model.safetensors', times: 1 });
          const err = await downloadHubRepo(store, repo, { hubUrl, retries: 0 }).then(() => null, (e: Error) => e);
          mirror.setCut(null);
          const st = await store.stat(key);
          // a cut fails the call (retries: 0) and leaves the file incomplete; an offset inside the bytes already
          // stored cuts nothing (the resumed request starts after it)
          if (err !== null) {
            cut++;
            if (st?.complete) cuts.notes.push(`round ${round}: cut at ${off} but the file is marked complete`);
          }
          if (st && !st.complete && st.storedBytes > 0 && !corrupted && rng.uniform() < 0.5) {
            // flip one stored byte of the partial file: the hash must catch it
            const part = join(dir, '.partial', ...key.split('/'));
            const bytes = new Uint8Array(await readFile(part));
            bytes[rng.nextU32() % st.storedBytes] ^= 0xff;
            await writeFile(part, bytes);
            corrupted = true;
          }
        }
        const errors: string[] = [];
        await downloadHubRepo(store, repo, { hubUrl, retries: 2, retryDelayMs: 0, onProgress: (p) => p.files.forEach((f) => f.error && errors.push(f.error)) });
        const bad = await verify(store);
        cuts.total += cut;
        if (bad) cuts.notes.push(`round ${round}: ${bad}`);
        else cuts.passed += cut;
        if (corrupted) {
          corrupt.total++;
          if (!bad && errors.some((e) => /sha256 [0-9a-f]{64} does not match/.test(e))) corrupt.passed++;
          else corrupt.notes.push(`round ${round}: corruption ${bad ? `not repaired (${bad})` : 'not reported'}`);
        }

        // a full disk at a random chunk of a fresh store: stops with the sizes, nothing complete that is not
        full.total++;
        const dir2 = await mkdtemp(join(tmpdir(), 'rs-soak-dlstore-'));
        const store2 = new FsFileStore(dir2, { chunkSize: CHUNK });
        // chunks of the small files come first (one each); then model.safetensors' chunks
        const failChunk = 2 + (rng.nextU32() % Math.max(1, Math.floor(size / CHUNK)));
        setFaults(`enospc@download:${failChunk}`);
        const err = await downloadHubRepo(store2, repo, { hubUrl, retries: 2, retryDelayMs: 0 }).then(() => null, (e: Error) => e);
        setFaults('');
        const problems: string[] = [];
        if (!(err instanceof StorageFullError)) problems.push(`expected StorageFullError, got ${err}`);
        else if (!/needs [\d.]+ [KMG]?B more/.test(err.message)) problems.push(`message without sizes: ${err.message}`);
        // nothing marked complete that is not, and the file that hit the full disk is not complete
        const incomplete = (await store2.list()).filter((f) => !f.complete);
        if (incomplete.length === 0) problems.push('every file is marked complete after the full disk');
        for (const f of await store2.list()) if (f.complete && f.storedBytes !== f.size) problems.push(`${f.key} marked complete with ${f.storedBytes} of ${f.size} bytes`);
        await downloadHubRepo(store2, repo, { hubUrl, retries: 0 });
        const bad2 = await verify(store2);
        if (bad2) problems.push(bad2);
        if (problems.length) full.notes.push(`round ${round}: ${problems.join('; ')}`);
        else full.passed++;
        await rm(dir2, { recursive: true, force: true });
      } finally {
        mirror.setCut(null);
        await rm(dir, { recursive: true, force: true });
      }
      o.log(`[download] round ${round + 1}/${o.n}: cuts ${cuts.passed}/${cuts.total}, corrupt ${corrupt.passed}/${corrupt.total}, full disk ${full.passed}/${full.total}`);
    }
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await rm(root, { recursive: true, force: true });
  }
  return [cuts, corrupt, full];
}
