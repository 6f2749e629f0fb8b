// Configure → Export TRL script: the downloaded Python file carries the values set in the Advanced form, and the
// page address keeps the config across a reload. The memory plan uses the GPU memory budget set beside it (kept in
// localStorage): a budget too small for the config is refused with what to change.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { assertNoConsoleErrors, docScreenshot, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';

async function setNumber(page: Page, name: string, value: string): Promise<void> {
  const input = page.getByLabel(name, { exact: true });
  await input.fill(value);
  await input.press('Enter');
}

describe('Configure', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('exports a TRL script with the configured values', async () => {
    const s = await openStudio(browser, inject('baseUrl'));
    const { page } = s;
    await openPanel(page, 'Configure');
    await page.getByText('Advanced', { exact: true }).click();
    await setNumber(page, 'learning_rate', '2e-5');
    await setNumber(page, 'per_device_train_batch_size', '4');
    await setNumber(page, 'num_train_epochs', '2');
    await page.getByLabel('Train a LoRA adapter (off: full fine-tuning)').check();
    await setNumber(page, 'r', '16');
    await page.getByRole('checkbox', { name: 'o_proj' }).check();
    // an invalid value is refused under its field with the trainer's message
    await setNumber(page, 'adam_beta1', '1.5');
    await page.getByTestId('config-problems').waitFor();
    expect(await page.getByTestId('config-problems').textContent()).toContain('adam_beta1');
    await screenshot(page, 'configure-advanced-invalid');
    await setNumber(page, 'adam_beta1', '0.9');
    await expect(page.getByTestId('config-problems').count()).resolves.toBe(0);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-trl-script').click()]);
    expect(download.suggestedFilename()).toBe('train_reward_model.py');
    const script = await readFile((await download.path())!, 'utf8');
    expect(script).toContain('RewardTrainer');
    expect(script).toContain('RewardConfig(');
    expect(script).toContain('learning_rate=2e-05');
    expect(script).toContain('per_device_train_batch_size=4');
    expect(script).toContain('num_train_epochs=2.0');
    expect(script).toContain('LoraConfig(');
    expect(script).toContain('r=16');
    expect(script).toMatch(/target_modules=\["q_proj", "v_proj", "o_proj"\]|target_modules=\["q_proj", "o_proj", "v_proj"\]/);
    await screenshot(page, 'configure-advanced');

    // the memory plan within the GPU memory budget: 8 GiB by default; a budget too small is refused with advice
    await expect(page.getByLabel('GPU memory budget (GiB)', { exact: true }).inputValue()).resolves.toBe('8');
    await page.getByTestId('plan-run').click();
    await page.getByTestId('plan').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('plan').textContent()).resolves.toMatch(/^Fits: .* needed, 8\.0 GiB available\./);
    await docScreenshot(page, '3-configure');
    // the demo model with this config needs about 39 MiB with one pair per micro-batch
    await setNumber(page, 'GPU memory budget (GiB)', '0.03');
    await page.getByTestId('plan-run').click();
    await page.getByTestId('plan').getByText('Does not fit').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('plan').textContent()).resolves.toMatch(/Does not fit: .*30\.7 MiB available\..*0\.03 GiB budget.*raise the GPU memory setting/);
    await setNumber(page, 'GPU memory budget (GiB)', '6');
    // float16 storage of the saved activations, chosen: the plan says so; the choice is kept across a reload
    await page.getByLabel('Saved activations', { exact: true }).selectOption('float16');
    await page.getByTestId('plan-run').click();
    await page.getByTestId('plan').getByText(/Saved activations stored as float16/).waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('plan').textContent()).resolves.toMatch(/^Fits: [\s\S]*float16 \(half the memory; the math stays f32[^)]*\) \(your setting\)/);

    // the config lives in the address: a reload keeps it
    expect(decodeURIComponent(new URL(page.url()).hash)).toContain('"learning_rate":0.00002');
    await page.reload();
    await page.getByText('Advanced', { exact: true }).click();
    await expect(page.getByLabel('learning_rate', { exact: true }).inputValue()).resolves.toBe('0.00002');
    await expect(page.getByLabel('r', { exact: true }).inputValue()).resolves.toBe('16');
    await expect(page.getByLabel('GPU memory budget (GiB)', { exact: true }).inputValue()).resolves.toBe('6');
    await expect(page.getByLabel('Saved activations', { exact: true }).inputValue()).resolves.toBe('float16');
    assertNoConsoleErrors(s);
  });
});
