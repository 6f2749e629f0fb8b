// A new user's first steps against the local Hub mirror: download the model and the dataset (progress seen, files
// stored with their sizes), inspect the dataset (numbers match the fixture: 256 train and 64 test rows), train two
// steps on them (full fine-tuning, TRL defaults otherwise) and see the metrics table fill. Then the
// same rows as JSONL files through the file picker: train.jsonl is stored with the default seeded split (10% test),
// test.jsonl (named like a test file) as a test split as a whole.
// The Hub token: a recognisable one is set before the downloads; it must travel only in the Authorization header (it
// does reach the mirror there) and never appear in a URL, the page address, local/session storage, IndexedDB (stored
// files, runs, checkpoints), a console line, an error note (a failed download with the token) or the exported
// config and TRL script.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, ConsoleMessage } from 'playwright-core';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { assertNoConsoleErrors, docScreenshot, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';
import { FIXTURE_DATASET_REPO, FIXTURE_MODEL_REPO } from './global-setup.ts';

/** A recognisable Hub token (the mirror ignores it). */
const TOKEN = 'hf_RewardStudioCanaryToken0123456789';

describe('download and inspect (local Hub mirror)', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('downloads model and dataset, then inspects the dataset', async () => {
    const mirror = inject('mirrorUrl');
    expect(mirror, 'the e2e global setup could not build the Hub fixtures (see its log)').not.toBe('');
    const s = await openStudio(browser, `${inject('baseUrl')}/#hub=${encodeURIComponent(mirror)}`);
    const { page } = s;
    const urls: string[] = [];
    let authorized = 0;
    page.context().on('request', (r) => {
      urls.push(r.url());
      if (r.headers()['authorization'] === `Bearer ${TOKEN}`) authorized++;
    });
    const consoleLines: string[] = [];
    const onConsole = (m: ConsoleMessage) => consoleLines.push(m.text());
    page.on('console', onConsole);
    page.on('worker', (w) => w.on('console', onConsole));
    await expect(page.getByLabel('Hub base URL').inputValue()).resolves.toBe(mirror);
    await page.getByLabel('Access token (for gated or private repos)').fill(TOKEN);
    await page.getByLabel('Model repo').fill(FIXTURE_MODEL_REPO);
    await page.getByLabel('Dataset repo').fill(FIXTURE_DATASET_REPO);
    await page.getByTestId('download-model').click();
    await page.getByTestId('download-dataset').click();
    const model = page.locator('[data-testid="download-item"][data-what="model"]');
    const dataset = page.locator('[data-testid="download-item"][data-what="dataset"]');
    await model.waitFor();
    await screenshot(page, 'model-data-downloading');
    await page.locator('[data-testid="download-item"][data-what="model"][data-status="done"]').waitFor({ timeout: 90_000 });
    await page.locator('[data-testid="download-item"][data-what="dataset"][data-status="done"]').waitFor({ timeout: 90_000 });
    const modelFiles = await model.locator('.file-progress li').evaluateAll((els) => els.map((e) => e.querySelector('.mono')?.textContent));
    expect(modelFiles).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']));
    expect(await dataset.locator('.file-progress li').count()).toBe(2);
    // stored, with sizes; the run now uses what was downloaded
    const stored = page.getByTestId('stored-files');
    await stored.getByText('model.safetensors').waitFor();
    await expect(stored.textContent()).resolves.toContain('train-00000-of-00001.parquet');
    await expect(page.getByLabel('Model to train').inputValue()).resolves.toBe(`hub:${FIXTURE_MODEL_REPO}@main`);
    await expect(page.getByLabel('Preference data').inputValue()).resolves.toBe(`hub:${FIXTURE_DATASET_REPO}@main`);
    await screenshot(page, 'model-data-downloaded');
    await docScreenshot(page, '1-model-data');

    await openPanel(page, 'Inspect');
    await page.getByTestId('inspect-run').click();
    await page.getByTestId('inspect-summary').waitFor({ timeout: 90_000 });
    await expect(page.getByTestId('rows-train').textContent()).resolves.toBe('256');
    await expect(page.getByTestId('rows-test').textContent()).resolves.toBe('64');
    await expect(page.getByTestId('columns-train').textContent()).resolves.toContain('score_chosen');
    expect(await page.getByTestId('histogram').count()).toBeGreaterThanOrEqual(2);
    expect(await page.getByTestId('inspect-example').count()).toBeGreaterThan(0);
    await screenshot(page, 'inspect-report');
    await docScreenshot(page, '2-inspect');

    // train on what was downloaded (the mirror's model and parquet dataset): TRL defaults (full fine-tuning) cut to
    // two optimizer steps of two pairs, evaluated on the dataset's test split at step 2 (eval_strategy steps)
    await openPanel(page, 'Configure');
    await page.getByRole('radio', { name: 'Advanced', exact: true }).check();
    await page.getByLabel('max_steps', { exact: true }).fill('2');
    await page.getByLabel('per_device_train_batch_size', { exact: true }).fill('2');
    await page.getByLabel('eval_strategy', { exact: true }).selectOption('steps');
    await page.getByLabel('eval_steps', { exact: true }).fill('2');
    await openPanel(page, 'Train');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid="train-state"][data-state="done"]').waitFor({ timeout: 240_000 });
    const rows = await page.getByTestId('metrics-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)] as const));
    expect(rows).toEqual(expect.arrayContaining([['train', 2], ['eval', 2]]));
    await screenshot(page, 'train-downloaded-model');

    await openPanel(page, 'Model & data');
    const jsonl = path.join(inject('fixturesDir'), 'jsonl');
    await page.getByTestId('jsonl-input').setInputFiles([path.join(jsonl, 'train.jsonl'), path.join(jsonl, 'test.jsonl')]);
    const train = page.locator('[data-testid="stored-import"]', { hasText: 'train.jsonl' });
    const test = page.locator('[data-testid="stored-import"]', { hasText: 'test.jsonl' });
    await train.getByTestId('import-split').waitFor({ timeout: 30_000 });
    await test.getByTestId('import-split').waitFor({ timeout: 30_000 });
    // datasets' sizes: ceil(0.1 · 256) = 26 test rows
    await expect(train.getByTestId('import-split').textContent()).resolves.toBe('train 230 · test 26 (test_size 0.1, seed 42)');
    await expect(test.getByTestId('import-split').textContent()).resolves.toBe('test 64 (the whole file as test)');
    // the split with training pairs is the run's data; the test-only file is not
    const selected = await page.getByLabel('Preference data').inputValue();
    expect(await train.getAttribute('data-import-id')).toBe(selected.replace(/^import:/, ''));

    // the token: a download that fails (a missing repo) shows an error without it
    await page.getByLabel('Model repo').fill('reward-studio/no-such-model');
    await page.getByTestId('download-model').click();
    await page.getByText(/no-such-model@main not found/).first().waitFor({ timeout: 30_000 });
    const shown = await page.locator('main').textContent();
    expect(shown).toContain('no-such-model');
    expect(shown).not.toContain(TOKEN);
    // … the exported config and TRL script do not carry it
    await openPanel(page, 'Configure');
    const exported: string[] = [];
    for (const id of ['config-export-json', 'export-trl-script']) {
      const [file] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }).catch(() => null), page.getByTestId(id).click()]);
      if (file) exported.push(await readFile((await file.path())!, 'utf8'));
    }
    // the script is also shown on the page
    exported.push(...(await page.getByTestId('trl-script').allTextContents()));
    expect(exported.filter((t) => t.includes(TOKEN))).toEqual([]);
    // … it went to the mirror in the Authorization header only
    expect(authorized).toBeGreaterThan(0);
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(page.url()).not.toContain(TOKEN);
    // … and nothing stored or logged holds it
    const holders = await page.evaluate(async (token) => {
      const found: string[] = [];
      const latin1 = (b: ArrayBufferView | ArrayBuffer) => {
        const u8 = b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
        let out = '';
        for (let i = 0; i < u8.length; i += 65536) out += String.fromCharCode(...u8.subarray(i, i + 65536));
        return out;
      };
      const walk = (v: unknown, where: string): void => {
        if (typeof v === 'string') {
          if (v.includes(token)) found.push(where);
        } else if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
          if (latin1(v as ArrayBuffer).includes(token)) found.push(where);
        } else if (v instanceof Blob) {
          found.push(`${where}: a Blob (not checked)`);
        } else if (v && typeof v === 'object') {
          for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
        }
      };
      for (const st of [localStorage, sessionStorage]) for (let i = 0; i < st.length; i++) walk(st.getItem(st.key(i)!), `storage ${st.key(i)}`);
      for (const info of await indexedDB.databases()) {
        const db = await new Promise<IDBDatabase>((res, rej) => {
          const r = indexedDB.open(info.name!);
          r.onsuccess = () => res(r.result);
          r.onerror = () => rej(r.error);
        });
        for (const name of db.objectStoreNames) {
          const rows = await new Promise<unknown[]>((res, rej) => {
            const r = db.transaction(name).objectStore(name).getAll();
            r.onsuccess = () => res(r.result);
            r.onerror = () => rej(r.error);
          });
          walk(rows, `${info.name}/${name}`);
        }
        db.close();
      }
      return found;
    }, TOKEN);
    expect(holders).toEqual([]);
    expect(consoleLines.filter((l) => l.includes(TOKEN))).toEqual([]);
    // the browser logs the missing repo's 404s itself: the only console errors allowed
    s.errors = s.errors.filter((e) => !(e.includes('404') && e.includes('no-such-model')));
    assertNoConsoleErrors(s);
  });
});
