// Without WebGPU (chromium with --disable-webgpu), the whole page explains which browser and flag to use.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoConsoleErrors, launchBrowser, openStudio, screenshot } from './browser.ts';

describe('no WebGPU', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: false });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the how-to-get-WebGPU page instead of the studio', async () => {
    const s = await openStudio(browser, inject('baseUrl'));
    const { page } = s;
    const box = page.getByTestId('no-webgpu');
    await box.waitFor({ timeout: 60_000 });
    const text = (await box.textContent()) ?? '';
    expect(text).toContain('WebGPU is not available');
    expect(text).toContain('Chrome or Edge 113');
    expect(text).toContain('--enable-unsafe-webgpu');
    expect(text).toContain('http://localhost');
    await expect(page.getByRole('tab').count()).resolves.toBe(0);
    await screenshot(page, 'no-webgpu');
    assertNoConsoleErrors(s);
  });
});
