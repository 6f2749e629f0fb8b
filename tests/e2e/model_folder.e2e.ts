// A model folder from disk (tools/fixtures-model.ts's tiny Qwen3, as a user's save_pretrained folder) chosen through
// the folder input: copied once into the browser's storage, selected as the model under its folder name, and scored
// with (Evaluate's base model: its weights with a seeded score head). Then "Continue from a trained model folder…" with a full fine-tune's folder
// (the same model plus a score head of zeros): it becomes the model, and scoring with it gives exactly 0 — its own
// score head, not a freshly initialized one.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { copyFile, mkdir, mkdtemp, open, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { assertNoConsoleErrors, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';
import { FIXTURE_MODEL_REPO } from './global-setup.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import { readSafetensorsHeader, serializeSafetensors } from '../../src/formats/safetensors.ts';

describe('model folder from disk', () => {
  let browser: Browser;
  let tmp = '';
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
    tmp = await mkdtemp(path.join(tmpdir(), 'rs-e2e-folder-'));
  });
  afterAll(async () => {
    await browser?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  it('imports a folder, scores with it, and continues from a trained model folder', async () => {
    const fixtures = inject('fixturesDir');
    expect(fixtures, 'the e2e global setup could not build the fixtures (see its log)').not.toBe('');
    const modelDir = path.join(fixtures, 'models', ...FIXTURE_MODEL_REPO.split('/'));
    const s = await openStudio(browser, inject('baseUrl'));
    const { page } = s;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    await page.getByTestId('local-model-folder-input').setInputFiles(modelDir);
    await page.getByTestId('model-folder-selected').getByText('tiny-qwen3').waitFor({ timeout: 60_000 });
    expect(await page.getByLabel('Model to train').inputValue()).toMatch(/^hub:_local\/tiny-qwen3@[0-9a-f]{12}$/);
    await page.getByTestId('stored-files').getByText('model folder tiny-qwen3').waitFor();

    // scored with it (its base weights and a seeded, untrained score head: non-zero rewards)
    await openPanel(page, 'Evaluate & compare');
    await page.getByTestId('load-base').click();
    await page.getByTestId('loaded-model').getByText('tiny-qwen3').waitFor({ timeout: 60_000 });
    await page.getByTestId('compare-run').click();
    await page.locator('[data-testid="compare-result"][data-source="loaded"]').waitFor({ timeout: 60_000 });
    expect(Math.abs(Number(await page.getByTestId('reward-a').getAttribute('data-value')))).toBeGreaterThan(0);
    await openPanel(page, 'Train');

    // a full fine-tune's folder: the tiny model with a trained (here: zero) score head, plus its tokenizer
    const trained = path.join(tmp, 'trained-rm');
    await rm(trained, { recursive: true, force: true });
    await mkdir(trained);
    for (const f of await readdir(modelDir)) if (f !== 'model.safetensors') await copyFile(path.join(modelDir, f), path.join(trained, f));
    // the fixture's tensors as they are, plus score.weight (zeros): no re-generation
    const src = new Uint8Array(await readFile(path.join(modelDir, 'model.safetensors')));
    const header = await readSafetensorsHeader(bytesSource('model.safetensors', src));
    const tensors = [...header.tensors.values()].map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: src.subarray(header.dataStart + t.dataOffsets[0], header.dataStart + t.dataOffsets[1]) }));
    const C = header.tensors.get('model.norm.weight')!.shape[0];
    const parts = serializeSafetensors([...tensors, { name: 'score.weight', dtype: 'F32', shape: [1, C], data: new Uint8Array(4 * C) }], { format: 'pt' });
    const fh = await open(path.join(trained, 'model.safetensors'), 'w');
    for (const p of parts) await fh.write(p);
    await fh.close();
    await page.getByTestId('continue-model-input').setInputFiles(trained);
    await page.getByTestId('continue-model-note').getByText('trained-rm').waitFor({ timeout: 60_000 });
    await openPanel(page, 'Evaluate & compare');
    await page.getByTestId('load-base').click();
    await page.getByTestId('loaded-model').getByText('Model trained-rm with its own trained score head').waitFor({ timeout: 60_000 });
    await page.getByTestId('compare-run').click();
    await page.locator('[data-testid="compare-result"][data-source="loaded"]').waitFor({ timeout: 60_000 });
    expect(Math.abs(Number(await page.getByTestId('reward-a').getAttribute('data-value')))).toBe(0);
    expect(Math.abs(Number(await page.getByTestId('reward-b').getAttribute('data-value')))).toBe(0);
    await screenshot(page, 'model-folder');
    assertNoConsoleErrors(s);
  });
});
