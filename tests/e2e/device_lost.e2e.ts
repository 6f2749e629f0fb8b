// A lost GPU device inside the real train worker, in the real browser: the page is opened with the dev-only
// `?faults=device-lost@step:3` (src/ui/workers.ts → src/gpu/flags.ts in the train worker), so `device.destroy()`
// runs in the middle of optimizer step 3 of a LoRA run that saves a checkpoint every 2 steps. The studio must say
// what happened (the step, the lost device, the checkpoint it continues from), keep the run resumable, and one click
// on Resume must request a new device and finish the run from checkpoint-2 — losing only step 3's work: the metrics
// hold each of steps 1–3 once. (Chrome's real driver reset — a GPU process crash or a TDR — cannot be triggered in
// headless Chromium; destroy() is the closest the page can cause, and reaches the same device.lost path.)
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { assertNoConsoleErrors, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';

const CONFIG = {
  max_steps: 3,
  per_device_train_batch_size: 2,
  logging_steps: 1,
  save_steps: 2,
  max_length: 64,
  learning_rate: 0.001,
  peft: { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj'], use_rslora: false, modules_to_save: null },
};

describe('device lost in the browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('device.destroy() mid-step in the train worker: the studio says so, one Resume continues from the checkpoint', async () => {
    const s = await openStudio(browser, `${inject('baseUrl')}/?faults=device-lost@step:3#tab=train&config=${encodeURIComponent(JSON.stringify(CONFIG))}`);
    const { page } = s;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    await openPanel(page, 'Train');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid="train-state"][data-state="error"], [data-testid="train-state"][data-state="done"]').waitFor({ timeout: 150_000 });
    await screenshot(page, 'device-lost');
    // the studio says what happened: the step, the lost device, what is safe, the checkpoint it continues from
    expect(await page.getByTestId('train-state').getAttribute('data-state')).toBe('error');
    const main = (await page.locator('main').textContent())!;
    expect(main).toContain('step 3: The GPU device was lost (injected device.destroy() at training step 3)');
    expect(main).toContain('the run continues from checkpoint-2');
    expect((await page.locator('[data-testid^="error-"]').allTextContents()).join('\n')).toContain('a new GPU device is requested and training continues from its last checkpoint');
    // steps 1–2 were logged; the stored run keeps checkpoint 2
    await expect(page.getByTestId('stored-runs').textContent()).resolves.toContain('checkpoint step 2 of 3');
    // one click: a new device, training continues from checkpoint-2 and finishes
    const resume = page.getByTestId('train-resume');
    expect(await resume.textContent()).toBe('Resume from step 2');
    await resume.click();
    await page.locator('[data-testid="train-state"][data-state="done"], [data-testid="train-state"][data-state="error"]').waitFor({ timeout: 150_000 });
    const why = [...(await page.locator('[data-testid^="error-"]').allTextContents()), ...s.errors];
    expect(await page.getByTestId('train-state').getAttribute('data-state'), why.join('\n')).toBe('done');
    // only step 3's work was lost: every step 1–3 is logged once (3 after the resume), the charts hold 3 points
    const rows = await page.getByTestId('metrics-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)] as const));
    expect(rows.filter(([k]) => k === 'train').map(([, n]) => n).sort((a, b) => a - b)).toEqual([1, 2, 3]);
    expect(Number(await page.getByTestId('chart-loss').getAttribute('data-points'))).toBe(3);
    await expect(page.getByTestId('stored-runs').textContent()).resolves.toMatch(/done · checkpoint step 3 of 3/);
    await screenshot(page, 'device-lost-resumed');
    assertNoConsoleErrors(s);
  });
});
