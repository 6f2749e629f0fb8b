// Dropping a JSONL with bad lines anywhere on the page: the errors are listed by line, and the valid lines can be
// imported (then the run uses them). The import is stored in the browser with its seeded train/test split (shown
// with test_size and seed) and survives a reload, and so does a run trained on it: stopped, reloaded, it resumes
// (its token ids from the browser's cache). Then the import is split again and deleted (the run can no longer go on).
// Training here is a few steps of the demo model (LoRA) on 6 short pairs.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { assertNoConsoleErrors, assertNoErrorNotes, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';

const CONFIG = {
  max_steps: 30,
  per_device_train_batch_size: 2,
  logging_steps: 1,
  save_steps: 1,
  max_length: 64,
  learning_rate: 0.001,
  peft: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null },
};

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
    const s = await openStudio(browser, `${inject('baseUrl')}/#config=${encodeURIComponent(JSON.stringify(CONFIG))}`);
    const { page } = s;
    // the split new imports get: 2 test pairs, seed 7
    await setNumber(page, 'Test split (test_size)', '2');
    await setNumber(page, 'Split seed', '7');
    const lines = [pair(1), '{"chosen": [}', pair(2), '{"chosen": [{"role": "bot", "content": "x"}], "rejected": []}', ...[3, 4, 5, 6, 7, 8].map(pair)];
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
    await expect(page.getByTestId('import-item').textContent()).resolves.toContain('8 valid of 10 lines');
    await screenshot(page, 'import-jsonl-errors');
    // nothing is stored before the choice
    await expect(page.getByTestId('stored-import').count()).resolves.toBe(0);
    await expect(page.getByTestId('import-accept').textContent()).resolves.toContain('test_size 2, seed 7');
    await page.getByTestId('import-accept').click();
    const stored = page.getByTestId('stored-import');
    await stored.waitFor();
    await expect(stored.getByTestId('import-accepted').textContent()).resolves.toContain('8 pairs stored');
    await expect(stored.getByTestId('import-split').textContent()).resolves.toBe('train 6 · test 2 (test_size 2, seed 7)');
    await expect(stored.getByTestId('import-files').textContent()).resolves.toMatch(/pairs\.jsonl \d+(\.\d)? (B|KiB) · import\.json \d+/);
    await expect(page.getByLabel('Preference data').inputValue()).resolves.toMatch(/^import:/);
    // the stored list shows the import's files with sizes
    await page.getByTestId('stored-files').getByText('imported my-prefs.jsonl').waitFor();
    await screenshot(page, 'import-jsonl-stored');

    // train on it a little, then stop
    await openPanel(page, 'Train');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-progress').getByText('step 1').waitFor({ timeout: 120_000 });
    await page.getByTestId('train-stop').click();
    await page.locator('[data-testid="train-state"][data-state="stopped"]').waitFor({ timeout: 60_000 });
    await openPanel(page, 'Model & data');

    // a reload: the import is still there with its split, and still the data a run can use
    await page.reload();
    await page.getByTestId('stored-import').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('import-split').textContent()).resolves.toBe('train 6 · test 2 (test_size 2, seed 7)');
    const option = page.getByLabel('Preference data').locator('option', { hasText: 'my-prefs.jsonl (imported)' });
    await page.getByLabel('Preference data').selectOption((await option.getAttribute('value'))!);
    // the split settings were kept too
    await expect(page.getByLabel('Test split (test_size)', { exact: true }).inputValue()).resolves.toBe('2');
    // the run on the import resumes from its checkpoint; its token ids come from the cache
    await openPanel(page, 'Train');
    const run = page.getByTestId('stored-runs').locator('tr', { hasText: 'my-prefs.jsonl (imported)' });
    await run.getByTestId('run-resume').click();
    await page.locator('[data-testid="train-state"][data-state="running"]').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('tokenized-status').textContent()).resolves.toBe('train: 6 pairs tokenized (cached) · test: 2 pairs tokenized (cached)');
    await page.getByTestId('train-stop').click();
    await page.locator('[data-testid="train-state"][data-state="stopped"]').waitFor({ timeout: 60_000 });
    await assertNoErrorNotes(page);
    await openPanel(page, 'Model & data');

    // split again: 25% test → ceil(0.25 · 8) = 2 … use 0.5 → 4 test pairs
    await page.getByTestId('import-split-edit').click();
    const form = page.getByTestId('import-split-form');
    await form.getByLabel('test_size', { exact: true }).fill('0.5');
    await form.getByLabel('test_size', { exact: true }).press('Enter');
    await page.getByTestId('import-split-apply').click();
    await page.getByTestId('import-split').getByText('train 4 · test 4 (test_size 0.5, seed 7)').waitFor();
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
    assertNoConsoleErrors(s);
  });
});
