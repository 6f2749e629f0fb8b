// Dropping a JSONL with bad lines anywhere on the page: the errors are listed by line, and the valid lines can be
// imported (then the run uses them).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoConsoleErrors, launchBrowser, openStudio, screenshot } from './browser.ts';

const pair = (i: number) =>
  JSON.stringify({ chosen: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: 'Sure! The answer.' }], rejected: [{ role: 'user', content: `Question ${i}?` }, { role: 'assistant', content: 'Ugh. Whatever.' }] });

describe('JSONL drop', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('lists the bad lines and imports the valid ones', async () => {
    const s = await openStudio(browser, inject('baseUrl'));
    const { page } = s;
    const text = [pair(1), '{"chosen": [}', pair(2), '{"chosen": [{"role": "bot", "content": "x"}], "rejected": []}', pair(3)].join('\n') + '\n';
    // drop it on the Configure panel: the page-wide drop zone takes it and opens Model & data
    await page.getByRole('tab', { name: 'Configure' }).click();
    await page.evaluate((content) => {
      const dt = new DataTransfer();
      dt.items.add(new File([content], 'my-prefs.jsonl', { type: 'application/jsonl' }));
      for (const type of ['dragenter', 'dragover', 'drop']) document.querySelector('main')!.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, text);
    const errors = page.getByTestId('import-errors');
    await errors.waitFor({ timeout: 30_000 });
    const items = await errors.locator('li').allTextContents();
    expect(items).toHaveLength(2);
    expect(items[0]).toMatch(/^line 2/);
    expect(items[1]).toMatch(/^line 4/);
    await expect(page.getByTestId('import-item').textContent()).resolves.toContain('3 valid of 5 lines');
    await screenshot(page, 'import-jsonl-errors');
    await page.getByTestId('import-accept').click();
    await page.getByTestId('import-accepted').waitFor();
    await expect(page.getByTestId('import-accepted').textContent()).resolves.toContain('3 pairs');
    await expect(page.getByLabel('Preference data').inputValue()).resolves.toMatch(/^import:/);
    assertNoConsoleErrors(s);
  });
});
