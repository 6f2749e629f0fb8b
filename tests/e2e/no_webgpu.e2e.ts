// Without WebGPU (chromium with --disable-webgpu) the studio still works for everything but the GPU: Model & data,
// Configure with its memory plan (a typical GPU's buffer limit) and the TRL script; Train and Evaluate say in one
// short message what is needed, with the developer details behind a "details" toggle.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoConsoleErrors, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';

describe('no WebGPU', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('keeps the non-GPU panels working; Train and Evaluate say what is needed', async () => {
    const s = await openStudio(browser, inject('baseUrl'));
    const { page } = s;
    await page.getByTestId('gpu-status').getByText('No WebGPU').waitFor({ timeout: 60_000 });
    await expect(page.getByRole('tab').count()).resolves.toBe(6);
    await page.getByLabel('Preference data').waitFor();
    // Train: the short message; the flags only behind "details"
    await openPanel(page, 'Train');
    const box = page.getByTestId('no-webgpu');
    await box.waitFor();
    const text = (await box.textContent()) ?? '';
    expect(text).toContain('Training needs WebGPU');
    expect(text).toContain('http://localhost');
    await expect(page.getByTestId('no-webgpu-details').getAttribute('open')).resolves.toBe(null);
    await page.getByTestId('no-webgpu-details').locator('summary').click();
    await expect(page.getByTestId('no-webgpu-details').textContent()).resolves.toContain('--enable-unsafe-webgpu');
    await openPanel(page, 'Evaluate & compare');
    await expect(page.getByTestId('no-webgpu').textContent()).resolves.toContain('Evaluation needs WebGPU');
    // Configure: the memory plan works without a GPU
    await openPanel(page, 'Configure');
    await page.getByTestId('plan-run').click();
    await page.getByTestId('plan').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('plan').textContent()).resolves.toMatch(/^Fits: [\s\S]*no WebGPU here/);
    await screenshot(page, 'no-webgpu');
    assertNoConsoleErrors(s);
  });
});
