// The studio loads in Chromium, the train worker finds the SwiftShader adapter and the header shows it, and every
// panel renders at 1280×800 without console errors (a screenshot of each is saved).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoConsoleErrors, assertNoErrorNotes, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';

const PANELS = [
  ['Model & data', 'model-data'],
  ['Inspect', 'inspect'],
  ['Configure', 'configure'],
  ['Train', 'train'],
  ['Evaluate & compare', 'evaluate'],
  ['Export', 'export'],
] as const;

describe('studio shell', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows the WebGPU adapter found by the worker, and renders every panel', async () => {
    const s = await openStudio(browser, inject('baseUrl'));
    const { page } = s;
    await expect(page.title()).resolves.toBe('Reward Studio');
    // the worker requested the device and posted gpu-info
    const name = page.getByTestId('gpu-name');
    await name.waitFor({ timeout: 60_000 });
    expect((await name.textContent())?.trim().length).toBeGreaterThan(0);
    await expect(page.getByTestId('no-webgpu').count()).resolves.toBe(0);
    // SwiftShader offers subgroups and no shader-f16 (WEBGPU_TESTING.md); the badges say what the device got
    const subgroups = await page.getByTestId('feature-subgroups').textContent();
    expect(subgroups).toMatch(/subgroups [✓✗]/);
    // SwiftShader is a software adapter: the header warns, and the details say what the engine uses and why not
    await expect(page.getByTestId('gpu-software').textContent()).resolves.toMatch(/software adapter \(CPU\)/);
    await expect(page.getByTestId('feature-subgroup-matrices').textContent()).resolves.toMatch(/subgroup matrices ✗/);
    // key limits are shown from the device
    await page.getByTestId('gpu-name').click();
    const maxBuffer = await page.getByTestId('limit-maxStorageBuffersPerShaderStage').textContent();
    expect(Number(maxBuffer)).toBeGreaterThanOrEqual(8);
    const invocations = await page.getByTestId('limit-maxComputeInvocationsPerWorkgroup').textContent();
    expect(Number(invocations)).toBeGreaterThanOrEqual(256);
    await expect(page.getByTestId('gpu-software-detail').textContent()).resolves.toMatch(/SwiftShader, a software renderer on the CPU, not on the GPU/);
    const sgDetail = await page.getByTestId('feature-subgroups-detail').textContent();
    expect(sgDetail).toMatch(subgroups?.includes('✓') ? /^used: norm and grad-norm reductions/ : /^not used: /);
    await expect(page.getByTestId('feature-shader-f16-detail').textContent()).resolves.toMatch(/not used: /);
    await screenshot(page, '00-gpu-status');
    await page.getByTestId('gpu-name').click();

    for (const [label, id] of PANELS) {
      await openPanel(page, label);
      await page.getByTestId(`panel-${id}`).waitFor();
      await expect(page.getByRole('tab', { name: label }).getAttribute('aria-selected')).resolves.toBe('true');
      await screenshot(page, `panel-${PANELS.findIndex((p) => p[1] === id) + 1}-${id}`);
      await assertNoErrorNotes(page);
    }
    // keyboard: arrow keys move between tabs
    await page.getByRole('tab', { name: 'Export' }).focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.getByRole('tab', { name: 'Model & data' }).getAttribute('aria-selected')).resolves.toBe('true');
    assertNoConsoleErrors(s);
  });
});
