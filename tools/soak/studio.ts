// The studio soak (`npm run soak -- --only studio`): the real studio (Vite dev server) in headless Chromium (WebGPU on
// SwiftShader), a local Hub mirror throttled so a download takes seconds, and the tab reloaded or closed and opened
// again at random moments:
//   run       a LoRA run (the downloaded tiny model, the stored import, 12 steps, a checkpoint every 3, recovery
//             checkpoints by time) is interrupted 1–2 times at random moments after its first checkpoint (a random
//             step, then 0–1.5 s); after each reopening the run must be listed as interrupted with "Resume from step
//             K", K the last (recovery) checkpoint stored, and one click must finish it: steps 1–12 each logged once;
//   download  a model download from the mirror is interrupted at a random moment; after reopening, Download again
//             must resume every partial file with a Range request (not from zero) and end verified (sha256);
//   storage   before every interruption and after every reopening the IndexedDB records are read: every stored
//             import, file and run present before is present after, complete files unchanged, partial files and
//             checkpoints never behind what was stored before.
// Each interruption is one fault; a fault passes when every check after it held.
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { createServer as createViteServer, type ViteDevServer } from 'vite';
import { Rng } from '../../src/util/random.ts';
import { createMirrorHandler } from '../../src/data/mirror.ts';
import { generateSyntheticPreferences, toJsonl } from '../../src/data/synthetic.ts';
import { writeTinyQwen3 } from '../fixtures-model.ts';
import { launchBrowser, openStudioIn, type StudioPage } from '../../tests/e2e/browser.ts';
import { ROOT, type ScenarioResult, type SoakOptions } from './common.ts';

const CONFIG = {
  max_steps: 12,
  per_device_train_batch_size: 2,
  logging_steps: 1,
  save_steps: 3,
  max_length: 64,
  learning_rate: 0.001,
  peft: { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj'], use_rslora: false, modules_to_save: null },
};

/** What IndexedDB holds: stored files (downloads, imports) and runs. */
interface Snapshot {
  files: Record<string, { size: number; storedBytes: number; complete: boolean; sha256?: string }>;
  runs: Record<string, { lastCheckpoint: number | null; state: string; logSteps: number }>;
}

/** Reads the studio's two databases without creating them (opening a missing one would pre-empt its upgrade). A
 *  string, not a function: tsx's name helpers (`__name`) do not exist in the page. */
const SNAPSHOT_JS = `(async () => {
  const names = new Set((await indexedDB.databases()).map((d) => d.name));
  const all = (name, store) => new Promise((resolve, reject) => {
    if (!names.has(name)) return resolve([]);
    const r = indexedDB.open(name);
    r.onerror = () => reject(r.error);
    r.onsuccess = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains(store)) { db.close(); return resolve([]); }
      const q = db.transaction(store, 'readonly').objectStore(store).getAll();
      q.onsuccess = () => { db.close(); resolve(q.result); };
      q.onerror = () => reject(q.error);
    };
  });
  const files = Object.fromEntries((await all('reward-studio-files', 'files')).map((f) => [f.key, { size: f.size, storedBytes: f.storedBytes, complete: f.complete, sha256: f.sha256 }]));
  const runs = Object.fromEntries((await all('reward-studio-runs', 'runs')).map((r) => [r.id, { lastCheckpoint: r.lastCheckpoint, state: r.state, logSteps: (r.logHistory || []).filter((h) => 'loss' in h).length }]));
  return { files, runs };
})()`;

async function snapshot(page: Page): Promise<Snapshot> {
  return (await page.evaluate(SNAPSHOT_JS)) as Snapshot;
}

/** What changed for the worse between a snapshot taken before an interruption and one taken after reopening. */
export function snapshotProblems(before: Snapshot, after: Snapshot): string[] {
  const p: string[] = [];
  for (const [key, f] of Object.entries(before.files)) {
    const g = after.files[key];
    if (!g) p.push(`stored file ${key} is gone`);
    else if (f.complete && (!g.complete || g.size !== f.size || g.sha256 !== f.sha256)) p.push(`stored file ${key} was complete and changed`);
    else if (g.storedBytes < f.storedBytes) p.push(`partial file ${key} went back from ${f.storedBytes} to ${g.storedBytes} bytes`);
    else if (g.complete && g.storedBytes !== g.size) p.push(`file ${key} is marked complete with ${g.storedBytes} of ${g.size} bytes`);
  }
  for (const [id, r] of Object.entries(before.runs)) {
    const s = after.runs[id];
    if (!s) p.push(`run ${id} is gone`);
    else if ((s.lastCheckpoint ?? -1) < (r.lastCheckpoint ?? -1)) p.push(`run ${id}: checkpoint went back from ${r.lastCheckpoint} to ${s.lastCheckpoint}`);
  }
  return p;
}

/** A local Hub mirror on its own port, its file bodies throttled to `bytesPerSecond`; `log` lists what it served. */
export async function throttledMirror(root: string, bytesPerSecond: number): Promise<{ url: string; log: string[]; server: Server }> {
  const log: string[] = [];
  const handler = createMirrorHandler(root, { log: (l) => log.push(l) });
  const server = createHttpServer((req, res) => {
    // body bytes go out in 64 KiB pieces at the rate, whether the handler streams them (write) or sends them at once (end)
    const write = res.write.bind(res) as (...a: unknown[]) => boolean;
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    let queue = Promise.resolve();
    const paced = (chunk: Uint8Array) => {
      for (let o = 0; o < chunk.length; o += 65536) {
        const piece = chunk.subarray(o, o + 65536);
        queue = queue.then(() => new Promise<void>((r) => setTimeout(() => {
          if (!res.destroyed) write(piece);
          r();
        }, (piece.length / bytesPerSecond) * 1000)));
      }
    };
    res.write = ((chunk: unknown) => {
      if (typeof chunk === 'string' || !chunk || !(chunk as Uint8Array).length) return true;
      paced(chunk as Uint8Array);
      void queue.then(() => res.emit('drain'));
      return false;
    }) as typeof res.write;
    res.end = ((chunk?: unknown) => {
      if (chunk && typeof chunk !== 'function' && typeof chunk !== 'string' && (chunk as Uint8Array).length) paced(chunk as Uint8Array);
      else if (typeof chunk === 'string' && chunk.length) paced(Buffer.from(chunk));
      void queue.then(() => end());
      return res;
    }) as typeof res.end;
    handler(req, res, () => {
      res.statusCode = 404;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, 'localhost', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://localhost:${port}`, log, server };
}

type Interrupt = 'reload' | 'close';

/** Reloads the tab, or closes it (accepting "leave the page?") and opens the studio again in a new tab. */
async function interrupt(s: StudioPage, how: Interrupt, url: string): Promise<StudioPage> {
  if (how === 'reload') {
    // the address to come back to, then a real reload (unload, load) of it
    await s.page.evaluate((u) => history.replaceState(null, '', u), url);
    await s.page.reload({ waitUntil: 'load' });
    await s.page.getByTestId('gpu-name').waitFor({ timeout: 120_000 });
    return s;
  }
  const context = s.page.context();
  const closed = s.page.waitForEvent('close');
  await s.page.close({ runBeforeUnload: true });
  await closed;
  return open(context, url);
}

async function open(context: BrowserContext, url: string): Promise<StudioPage> {
  const s = await openStudioIn(context, url);
  s.page.on('dialog', (d) => void d.accept());
  await s.page.getByTestId('gpu-name').waitFor({ timeout: 120_000 });
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the Train panel shows step ≥ `step` of the run (or the run ended); returns the step shown. */
async function waitForStep(page: Page, step: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const text = (await page.locator('section[aria-label="Training progress"]').textContent().catch(() => '')) ?? '';
    const shown = Number(/Step (\d+) of/.exec(text)?.[1] ?? 0);
    const state = await page.getByTestId('train-state').getAttribute('data-state').catch(() => null);
    if (shown >= step || state === 'done' || state === 'error') return shown;
    if (Date.now() - t0 > timeoutMs) throw new Error(`step ${step} not reached within ${timeoutMs / 1000} s (shown: "${text}")`);
    await sleep(150);
  }
}

export async function studioScenario(o: SoakOptions): Promise<ScenarioResult[]> {
  const rng = new Rng(o.seed * 7919 + 13);
  const root = path.join(o.workDir, 'studio-mirror');
  const repos = Array.from({ length: o.n }, (_, i) => `reward-studio/tiny-qwen3-${i}`);
  const first = path.join(root, 'models', ...repos[0].split('/'));
  await writeTinyQwen3(first);
  for (const r of repos.slice(1)) await cp(first, path.join(root, 'models', ...r.split('/')), { recursive: true });
  await mkdir(root, { recursive: true });
  // 11 MB tokenizer.json + 20 MB of weights: about 20 s per model at 1.5 MB/s
  const mirror = await throttledMirror(root, 1.5e6);
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const vite: ViteDevServer = await createViteServer({ configFile: path.join(ROOT, 'vite.config.ts'), root: ROOT, logLevel: 'warn', server: { host: 'localhost', port: 0, hmr: false }, clearScreen: false });
  await vite.listen();
  const base = `http://localhost:${(vite.httpServer!.address() as { port: number }).port}`;
  const browser = await launchBrowser({ webgpu: true });
  const storage: ScenarioResult = { name: 'studio reload/close: stored imports, files and runs intact after each interruption', total: 0, passed: 0, notes: [] };
  const runs: ScenarioResult = { name: 'studio reload/close mid-run: resumed from the last (recovery) checkpoint, each step logged once', total: 0, passed: 0, notes: [] };
  const finished: ScenarioResult = { name: 'studio runs interrupted 1–2 times: finished with steps 1–12 each logged once', total: 0, passed: 0, notes: [] };
  const downloads: ScenarioResult = { name: 'studio reload/close mid-download: partial files resumed with Range requests, verified', total: 0, passed: 0, notes: [] };
  let resumedWithRange = 0;
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const hubUrl = `${base}/#hub=${encodeURIComponent(mirror.url)}`;
    let s = await open(context, hubUrl);

    // a stored import, checked after every interruption
    const { train } = generateSyntheticPreferences({ trainRows: 24, testRows: 0, seed: 5 });
    await s.page.evaluate((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], 'soak.jsonl', { type: 'application/jsonl' }));
      for (const type of ['dragenter', 'dragover', 'drop']) document.querySelector('main')!.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, toJsonl(train));
    // a clean file is stored at once (a file with bad lines waits for "accept")
    await s.page.locator('[data-testid="stored-import"], [data-testid="import-accept"]').first().waitFor({ timeout: 60_000 });
    if (await s.page.getByTestId('import-accept').count()) await s.page.getByTestId('import-accept').click();
    await s.page.locator('[data-testid="stored-import"]', { hasText: 'soak.jsonl' }).waitFor({ timeout: 60_000 });

    const check = async (before: Snapshot, label: string): Promise<string[]> => {
      storage.total++;
      const p = snapshotProblems(before, await snapshot(s.page));
      if (p.length) storage.notes.push(`${label}: ${p.join('; ')}`);
      else storage.passed++;
      return p;
    };

    for (let round = 0; round < o.n; round++) {
      // ---- a download interrupted at a random moment ----
      {
        const how: Interrupt = rng.int(2) ? 'reload' : 'close';
        const afterMs = 300 + rng.int(30_000);
        const label = `round ${round + 1} download ${repos[round]}: ${how} after ${afterMs} ms`;
        downloads.total++;
        const problems: string[] = [];
        try {
          await s.page.getByRole('tab', { name: 'Model & data' }).click();
          await s.page.getByLabel('Model repo').fill(repos[round]);
          await s.page.getByTestId('download-model').click();
          await sleep(afterMs);
          const before = await snapshot(s.page);
          const logFrom = mirror.log.length;
          s = await interrupt(s, how, hubUrl);
          problems.push(...(await check(before, label)));
          const after = await snapshot(s.page);
          const partial = Object.entries(after.files).filter(([k, f]) => k.includes(repos[round]) && !f.complete && f.storedBytes > 0).map(([k]) => k);
          await s.page.getByRole('tab', { name: 'Model & data' }).click();
          await s.page.getByLabel('Model repo').fill(repos[round]);
          await s.page.getByTestId('download-model').click();
          await s.page.locator('[data-testid="download-item"][data-what="model"][data-status="done"], [data-testid="download-item"][data-what="model"][data-status="error"]').waitFor({ timeout: 180_000 });
          const status = await s.page.locator('[data-testid="download-item"][data-what="model"]').getAttribute('data-status');
          if (status !== 'done') problems.push(`download ended "${status}": ${await s.page.locator('[data-testid="download-item"][data-what="model"]').textContent()}`);
          const end = await snapshot(s.page);
          const mine = Object.entries(end.files).filter(([k]) => k.includes(repos[round]));
          if (mine.length === 0 || mine.some(([, f]) => !f.complete || f.storedBytes !== f.size)) problems.push(`not every file complete: ${mine.map(([k, f]) => `${k} ${f.storedBytes}/${f.size}`).join(', ')}`);
          // each file partial after reopening was resumed from its stored bytes (a 206 for a Range request)
          const served = mirror.log.slice(logFrom);
          for (const k of partial) {
            const file = k.slice(k.lastIndexOf('/') + 1);
            if (!served.some((l) => l.includes(`/${file} 206`))) problems.push(`${k} was partial (${after.files[k].storedBytes} B) but not resumed with a Range request`);
          }
          const stored = (f: Snapshot) => Object.entries(f.files).filter(([k]) => k.includes(repos[round])).map(([k, f]) => `${k.slice(k.lastIndexOf('/') + 1)} ${f.storedBytes}/${f.size}${f.complete ? ' ✓' : ''}`).join(', ');
          o.log(`studio: ${label}: before [${stored(before)}], after reopening [${stored(after)}]`);
          if (partial.length) resumedWithRange += problems.length ? 0 : 1;
          o.log(`studio: ${label}: ${partial.length} partial file(s) after reopening${problems.length ? ` — ${problems.join('; ')}` : ', resumed and verified'}`);
        } catch (e) {
          problems.push((e as Error).message.split('\n')[0]);
        }
        if (problems.length) downloads.notes.push(`${label}: ${problems.join('; ')}`);
        else downloads.passed++;
      }

      // ---- a run interrupted 1–2 times at random moments after its first checkpoint ----
      {
        const runUrl = `${base}/#tab=train&config=${encodeURIComponent(JSON.stringify(CONFIG))}`;
        const problems: string[] = [];
        const label = `round ${round + 1} run`;
        try {
          s = await interrupt(s, 'reload', runUrl);
          await s.page.getByRole('tab', { name: 'Train' }).click();
          await s.page.getByTestId('train-start').click();
          const times = 1 + rng.int(2);
          let finishedEarly = false;
          for (let k = 0; k < times; k++) {
            const how: Interrupt = rng.int(2) ? 'reload' : 'close';
            // a random moment after the first checkpoint (before it there is nothing to resume: the run starts again)
            const target = CONFIG.save_steps + rng.int(CONFIG.max_steps - CONFIG.save_steps - 1);
            const afterMs = rng.int(1500);
            const reached = await waitForStep(s.page, target, 300_000);
            await sleep(afterMs);
            const before = await snapshot(s.page);
            runs.total++;
            const where = `${label}, interruption ${k + 1}: ${how} ${afterMs} ms after step ${reached} was shown`;
            s = await interrupt(s, how, runUrl);
            const p = await check(before, where);
            await s.page.getByRole('tab', { name: 'Train' }).click();
            const after = await snapshot(s.page);
            const running = Object.entries(after.runs).find(([, r]) => r.state === 'running');
            if (!running) {
              // it may have finished before the interruption landed
              if (Object.values(after.runs).some((r) => r.state === 'done' && r.lastCheckpoint === CONFIG.max_steps)) {
                runs.passed += p.length ? 0 : 1;
                o.log(`studio: ${where}: the run had already finished`);
                finishedEarly = true;
                break;
              }
              throw new Error(`${where}: no interrupted run is stored`);
            }
            const want = running[1].lastCheckpoint;
            await s.page.locator('[data-testid="train-state"][data-state="interrupted"]').waitFor({ timeout: 60_000 });
            const resume = s.page.getByTestId('train-resume');
            await resume.waitFor({ timeout: 30_000 });
            const text = (await resume.textContent()) ?? '';
            const ok = text === `Resume from step ${want}`;
            if (!ok) p.push(`the button says "${text}", the last checkpoint stored is step ${want}`);
            if (p.length) runs.notes.push(`${where}: ${p.join('; ')}`);
            else runs.passed++;
            o.log(`studio: ${where}: "${text}" (checkpoint ${want} stored, ${before.runs[running[0]]?.logSteps ?? 0} steps logged before)`);
            await resume.click();
          }
          if (finishedEarly) throw new Error('finished before its interruption: not counted as a run');
          await s.page.locator('[data-testid="train-state"][data-state="done"], [data-testid="train-state"][data-state="error"]').waitFor({ timeout: 300_000 });
          const state = await s.page.getByTestId('train-state').getAttribute('data-state');
          if (state !== 'done') problems.push(`the run ended "${state}": ${(await s.page.locator('[data-testid^="error-"]').allTextContents()).join(' ')}`);
          const rows = await s.page.getByTestId('metrics-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)] as const));
          const steps = rows.filter(([kind]) => kind === 'train').map(([, n]) => n).sort((a, b) => a - b);
          if (steps.join(',') !== Array.from({ length: CONFIG.max_steps }, (_, i) => i + 1).join(',')) problems.push(`steps logged: ${steps.join(',')} (want 1–${CONFIG.max_steps}, each once)`);
        } catch (e) {
          problems.push((e as Error).message.split('\n')[0]);
        }
        finished.total++;
        if (problems.length) {
          finished.notes.push(`${label}: ${problems.join('; ')}`);
          o.log(`studio: ${label}: ${problems.join('; ')}`);
        } else {
          finished.passed++;
          o.log(`studio: ${label}: done, steps 1–${CONFIG.max_steps} logged once each`);
        }
      }
    }
    downloads.notes.push(`(${resumedWithRange} of ${downloads.total} interruptions left a partial file with stored chunks, resumed by a Range request; in the others nothing of the file in flight had been stored yet — chunks are 8 MiB — or the download had finished)`);
    if (s.errors.length) storage.notes.push(`console errors: ${s.errors.slice(0, 5).join(' | ')}`);
  } finally {
    await browser.close();
    await vite.close();
    await new Promise((r) => mirror.server.close(r));
  }
  return [runs, finished, downloads, storage];
}
