// Dropping a JSONL with bad lines anywhere on the page: the errors are listed by line, and the valid lines can be
// imported (then the run uses them). The import is stored in the browser with its seeded train/test split (shown
// with test_size and seed) and survives a reload, as the dataset choice, and so does a run trained on it with the
// default config (save_steps 500 never comes): hiding the page writes a recovery checkpoint, leaving it asks first,
// and after the reload the run is "interrupted" and resumes from that checkpoint (its token ids from the cache).
// After another reload Evaluate scores the run's own test pairs (not the selected data), and Export's TRL script
// loads the run's split as two files named after the import. Then the import is split again and deleted (the run
// can no longer go on). Training is the demo model with the defaults (full fine-tuning) on 32 short pairs.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { assertNoConsoleErrors, assertNoErrorNotes, launchBrowser, openPanel, openStudio, openStudioIn, screenshot } from './browser.ts';

const pair = (i: number) =>
  JSON.stringify({ chosen: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: 'Sure! The answer.' }], rejected: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: 'Ugh. Whatever.' }] });

async function setNumber(page: Page, label: string, value: string): Promise<void> {
  const input = page.getByLabel(label, { exact: true });
  await input.fill(value);
  await input.press('Enter');
}

describe('JSONL drop', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the bad lines, stores the valid ones with their split; the import and a run on it survive a reload', async () => {
    const s = await openStudio(browser, `${inject('baseUrl')}/`);
    let { page } = s;
    const t0 = Date.now();
    const mark = (what: string) => console.log(`[import_jsonl +${((Date.now() - t0) / 1000).toFixed(0)}s] ${what}`);
    // the split new imports get: 2 test pairs, seed 7
    await setNumber(page, 'Test split (test_size)', '2');
    await setNumber(page, 'Split seed', '7');
    const lines = [pair(1), '{"chosen": [}', pair(2), '{"chosen": [{"role": "bot", "content": "x"}], "rejected": []}', ...Array.from({ length: 32 }, (_, i) => pair(i + 3))];
    // drop it on the Configure panel: the page-wide drop zone takes it and opens Model & data
    await page.getByRole('tab', { name: 'Configure' }).click();
    await page.evaluate((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], 'my-prefs.jsonl', { type: 'application/jsonl' }));
      for (const type of ['dragenter', 'dragover', 'drop']) document.querySelector('main')!.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, lines.join('\n') + '\n');
    const errors = page.getByTestId('import-errors');
    await errors.waitFor({ timeout: 30_000 });
    const items = await errors.locator('li').allTextContents();
    expect(items).toHaveLength(2);
    expect(items[0]).toMatch(/^line 2/);
    expect(items[1]).toMatch(/^line 4/);
    await expect(page.getByTestId('import-item').textContent()).resolves.toContain('34 valid of 36 lines');
    await screenshot(page, 'import-jsonl-errors');
    // nothing is stored before the choice
    await expect(page.getByTestId('stored-import').count()).resolves.toBe(0);
    await expect(page.getByTestId('import-accept').textContent()).resolves.toContain('test_size 2, seed 7');
    await page.getByTestId('import-accept').click();
    const stored = page.getByTestId('stored-import');
    await stored.waitFor();
    await expect(stored.getByTestId('import-accepted').textContent()).resolves.toContain('34 pairs stored');
    await expect(stored.getByTestId('import-split').textContent()).resolves.toBe('train 32 · test 2 (test_size 2, seed 7)');
    await expect(stored.getByTestId('import-files').textContent()).resolves.toMatch(/pairs\.jsonl \d+(\.\d)? (B|KiB) · lines\.json \d+ B · import\.json \d+/);
    await expect(page.getByLabel('Preference data').inputValue()).resolves.toMatch(/^import:/);
    // the stored list shows the import's files with sizes
    await page.getByTestId('stored-files').getByText('imported my-prefs.jsonl').waitFor();
    await screenshot(page, 'import-jsonl-stored');

    mark('imported');
    // train on it with the defaults; hiding the page asks for a recovery checkpoint after the step in progress
    await openPanel(page, 'Train');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid="train-state"][data-state="running"]').waitFor({ timeout: 120_000 });
    // hidden while the first step runs: the recovery checkpoint comes right after it
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.getByTestId('train-checkpoint').getByText('(recovery)').waitFor({ timeout: 240_000 });
    // paused, so that no GPU work is in flight when the tab goes (SwiftShader's GPU process also draws the next tab)
    await page.getByTestId('train-pause').click();
    const recoveryStep = Number(/step (\d+)/.exec((await page.getByTestId('train-checkpoint').textContent())!)![1]);
    expect(recoveryStep).toBeGreaterThanOrEqual(1);
    expect(recoveryStep).toBeLessThan(12); // 3 epochs × 4 batches of 8: the run is not over
    mark('recovery checkpoint written');
    // leaving a page with a run in progress asks first; the tab is closed and the studio opened again in a new tab
    const dialog = new Promise<string>((resolve) => page.once('dialog', (d) => (resolve(d.type()), void d.accept())));
    const closed = page.waitForEvent('close');
    await page.close({ runBeforeUnload: true });
    expect(await dialog).toBe('beforeunload');
    await closed;
    assertNoConsoleErrors(s);
    const s2 = await openStudioIn(page.context(), `${inject('baseUrl')}/`);
    page = s2.page;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    await openPanel(page, 'Model & data');

    mark('reopened');
    // after the reload: the import is still there with its split and is still the chosen data
    await page.getByTestId('stored-import').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('import-split').textContent()).resolves.toBe('train 32 · test 2 (test_size 2, seed 7)');
    await expect(page.getByLabel('Preference data').inputValue()).resolves.toMatch(/^import:/);
    // the split settings were kept too
    await expect(page.getByLabel('Test split (test_size)', { exact: true }).inputValue()).resolves.toBe('2');
    // the run is interrupted, not "running", and resumes from its recovery checkpoint with cached token ids
    await openPanel(page, 'Train');
    await page.locator('[data-testid="train-state"][data-state="interrupted"]').waitFor({ timeout: 30_000 });
    const row = page.getByTestId('stored-runs').locator('tr', { hasText: 'my-prefs.jsonl (imported)' });
    await expect(row.getByTestId('run-state').textContent()).resolves.toBe(`interrupted · checkpoint step ${recoveryStep} (recovery) of 12`);
    await expect(row.getByTestId('run-diff').textContent()).resolves.toContain('data my-prefs.jsonl');
    await expect(page.getByTestId('train-resume').textContent()).resolves.toBe(`Resume from step ${recoveryStep}`);
    await page.getByTestId('train-resume').click();
    await page.locator('[data-testid="train-state"][data-state="running"]').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('tokenized-status').textContent()).resolves.toBe('train: 32 pairs tokenized (cached) · test: 2 pairs tokenized (cached)');
    mark('resumed');
    // the charts start from the checkpoint's history, then the steps after it
    await page.getByTestId('train-progress').waitFor({ timeout: 60_000 });
    await page.getByTestId('train-stop').click();
    await page.locator('[data-testid="train-state"][data-state="stopped"]').waitFor({ timeout: 60_000 });
    await assertNoErrorNotes(page);

    mark('stopped');
    // another reload, another dataset chosen: Evaluate scores the run's own 2 test pairs and says so
    await page.reload();
    await openPanel(page, 'Model & data');
    await page.getByTestId('stored-import').waitFor({ timeout: 30_000 });
    await page.getByLabel('Preference data').selectOption('demo');
    await openPanel(page, 'Evaluate & compare');
    await page.getByTestId('eval-run').click();
    await page.getByTestId('eval-result').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('eval-of').textContent()).resolves.toMatch(/^the demo model trained by run run-\w+ \(step \d+\) · my-prefs\.jsonl, test split \(2 pairs\)$/);
    await expect(page.getByTestId('eval-result').textContent()).resolves.toContain('eval_num_pairs2');
    mark('evaluated');
    // Export's TRL script loads the run's split: the two files named after the import, written beside it
    await openPanel(page, 'Export');
    const script = (await page.getByTestId('export-trl-script').textContent())!;
    expect(script).toContain('load_dataset("json", data_files={"train": "my-prefs.train.jsonl", "test": "my-prefs.test.jsonl"})');
    expect(script).toContain('my-prefs.jsonl as the studio split it (test_size 2, seed 7)');
    expect(script).toContain('eval_dataset=dataset["test"]');
    await expect(page.getByTestId('export-data-file').allTextContents()).resolves.toEqual(['my-prefs.train.jsonl', 'my-prefs.test.jsonl']);
    await assertNoErrorNotes(page);
    await openPanel(page, 'Model & data');

    // split again: 25% test → ceil(0.25 · 8) = 2 … use 0.5 → 4 test pairs
    await page.getByTestId('import-split-edit').click();
    const form = page.getByTestId('import-split-form');
    await form.getByLabel('test_size', { exact: true }).fill('0.5');
    await form.getByLabel('test_size', { exact: true }).press('Enter');
    await page.getByTestId('import-split-apply').click();
    await page.getByTestId('import-split').getByText('train 17 · test 17 (test_size 0.5, seed 7)').waitFor();
    await assertNoErrorNotes(page);

    // delete: gone from the list and from storage, and the run falls back to the demo set
    page.once('dialog', (d) => d.accept());
    await page.getByTestId('import-delete').click();
    await page.getByTestId('stored-import').waitFor({ state: 'detached' });
    await expect(page.getByLabel('Preference data').inputValue()).resolves.toBe('demo');
    await expect(page.getByTestId('stored-files').getByText('imported my-prefs.jsonl').count()).resolves.toBe(0);
    // … and the run trained on it says why it cannot go on
    await openPanel(page, 'Train');
    await page.getByTestId('stored-runs').getByText('cannot continue: its imported data was deleted').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('run-resume').count()).resolves.toBe(0);
    mark('import deleted');
    // a .json array file: one message and a one-click conversion, then it imports like a JSONL
    await openPanel(page, 'Model & data');
    await page.getByTestId('jsonl-input').setInputFiles({ name: 'more.json', mimeType: 'application/json', buffer: Buffer.from(`[${[40, 41, 42, 43].map(pair).join(',\n')}]`) });
    await expect(page.getByTestId('json-array-note').textContent()).resolves.toContain('more.json is a JSON array: save one record per line as .jsonl, or let the studio convert it.');
    await page.getByTestId('json-array-convert').click();
    await page.getByTestId('stored-import').getByText('more.jsonl').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('json-array-note').count()).resolves.toBe(0);
    assertNoConsoleErrors(s2);
  }, 600_000);
});
