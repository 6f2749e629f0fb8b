// The demo path with no download: train the built-in tiny Qwen3 on the bundled preferences (LoRA, a few steps),
// see the charts and the metrics table fill, reload mid-run and resume from the checkpoint (the token ids come from
// the browser's cache), compare two responses, evaluate, export the adapter (the zip holds a valid PEFT adapter with
// the right keys), then load that adapter folder in Evaluate & compare: it scores like the run; export ONNX (the
// verification line appears) and load that folder in Evaluate & compare: onnxruntime-web scores like the run.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { bytesSource } from '../../src/formats/bytes.ts';
import { readSafetensorsHeader } from '../../src/formats/safetensors.ts';
import { assertNoConsoleErrors, assertNoErrorNotes, docScreenshot, launchBrowser, openPanel, openStudio, openStudioIn, screenshot } from './browser.ts';

const CONFIG = {
  max_steps: 6,
  per_device_train_batch_size: 2,
  logging_steps: 1,
  save_steps: 2,
  eval_strategy: 'steps',
  eval_steps: 6,
  max_length: 64,
  learning_rate: 0.001,
  peft: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null },
};

async function points(page: Page, metric: string): Promise<number> {
  return Number(await page.getByTestId(`chart-${metric}`).getAttribute('data-points'));
}

describe('demo run in the browser', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('trains, resumes after a reload, compares, evaluates and exports', async () => {
    const url = `${inject('baseUrl')}/#tab=train&config=${encodeURIComponent(JSON.stringify(CONFIG))}`;
    let s = await openStudio(browser, url);
    let { page } = s;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    // the memory plan for this config on this GPU
    await openPanel(page, 'Configure');
    await page.getByTestId('plan-run').click();
    await page.getByTestId('plan').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('plan').textContent()).resolves.toMatch(/^Fits: /);
    await openPanel(page, 'Train');
    await page.getByTestId('train-start').click();
    await expect(page.getByTestId('tokenized-status').textContent()).resolves.toMatch(/train: \d+ pairs tokenized/);
    // the first logged step: charts and table get rows
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart-loss"]')?.getAttribute('data-points')) >= 1, null, { timeout: 120_000 });
    expect(await points(page, 'accuracy')).toBeGreaterThanOrEqual(1);
    expect(await points(page, 'learning_rate')).toBeGreaterThanOrEqual(1);
    await page.getByTestId('metrics-table').waitFor();
    // wait for a checkpoint at step ≥ 2 (save_steps 2; a recovery checkpoint may show a later step), then reload mid-run
    await page.waitForFunction(() => /^step [2-6]/.test(document.querySelector('[data-testid="train-checkpoint"]')?.textContent ?? ''), null, { timeout: 120_000 });
    await screenshot(page, 'train-running');
    // close the tab mid-run (leaving a running page asks first) and open the studio again in a new tab
    page.once('dialog', (d) => void d.accept());
    const closed = page.waitForEvent('close');
    await page.close({ runBeforeUnload: true });
    await closed;
    assertNoConsoleErrors(s);
    s = await openStudioIn(page.context(), url);
    page = s.page;
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });
    await openPanel(page, 'Train');
    // the run the page followed is interrupted; Train's one Resume button continues it
    await page.locator('[data-testid="train-state"][data-state="interrupted"]').waitFor({ timeout: 30_000 });
    const resume = page.getByTestId('train-resume');
    await resume.waitFor({ timeout: 30_000 });
    expect(await resume.textContent()).toMatch(/Resume from step [2-6]/);
    await resume.click();
    // after the reload the data worker starts empty: the token ids come from IndexedDB's cache, not the tokenizer
    await page.getByTestId('tokenized-status').getByText('train: ', { exact: false }).waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('tokenized-status').textContent()).resolves.toMatch(/^train: \d+ pairs tokenized \(cached\)/);
    await page.locator('[data-testid="train-state"][data-state="done"]').waitFor({ timeout: 150_000 });
    // the charts hold the history from the checkpoint plus the steps trained after the reload: 6 steps in all
    expect(await points(page, 'loss')).toBe(6);
    // one train row per step (1–6), and the evaluation on the test split at eval_steps 6
    const rows = await page.getByTestId('metrics-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent, Number(tr.children[1].textContent)] as const));
    expect(rows.filter(([k]) => k === 'train').map(([, s]) => s).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rows.filter(([k]) => k === 'eval').map(([, s]) => s)).toEqual([6]);
    await screenshot(page, 'train-done');
    await docScreenshot(page, '4-train');

    // compare two responses
    await openPanel(page, 'Evaluate & compare');
    await page.getByTestId('compare-run').click();
    await page.getByTestId('compare-result').waitFor({ timeout: 60_000 });
    const ra = Number(await page.getByTestId('reward-a').textContent());
    const rb = Number(await page.getByTestId('reward-b').textContent());
    expect(Number.isFinite(ra) && Number.isFinite(rb)).toBe(true);
    const p = parseFloat((await page.getByTestId('p-ab').textContent())!);
    expect(p).toBeCloseTo(100 / (1 + Math.exp(-(ra - rb))), 0);
    // batch scoring of a JSONL: a downloadable result with one reward per valid line
    const records = [{ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Sure! Hello.' }] }, { text: 'Ugh. Whatever.' }];
    await page.getByTestId('batch-input').setInputFiles({ name: 'to-score.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + '\nnot json\n') });
    await page.getByTestId('batch-result').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('batch-result').textContent()).resolves.toContain('Scored 2 records (1 invalid line skipped');
    await expect(page.getByTestId('batch-errors').textContent()).resolves.toMatch(/^line 3: /);
    const [scores] = await Promise.all([page.waitForEvent('download'), page.getByTestId('batch-result').getByRole('button').click()]);
    const lines = (await readFile((await scores.path())!, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { index: number; reward: number });
    expect(lines.map((l) => l.index)).toEqual([0, 1]);
    expect(lines.every((l) => Number.isFinite(l.reward))).toBe(true);
    // a file of TRL pairs (explicit prompt): accuracy, margin and the per-pair table by file line; a bad line listed
    const q = [{ role: 'user', content: 'Hi' }];
    const pairRows = [
      { prompt: q, chosen: [{ role: 'assistant', content: 'Sure! Hello.' }], rejected: [{ role: 'assistant', content: 'Ugh. Whatever.' }] },
      { prompt: q, chosen: [{ role: 'assistant', content: 'Hello!' }] },
      { prompt: q, chosen: [{ role: 'assistant', content: 'Ugh.' }], rejected: [{ role: 'assistant', content: 'Sure! Hi there.' }] },
    ];
    await page.getByTestId('batch-input').setInputFiles({ name: 'pairs.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(pairRows.map((r) => JSON.stringify(r)).join('\n') + '\n') });
    await page.getByTestId('batch-pair-table').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('batch-result').textContent()).resolves.toContain('Scored 2 pairs (1 invalid line skipped');
    await expect(page.getByTestId('batch-errors').textContent()).resolves.toMatch(/^line 2, rejected: /);
    expect([0, 0.5, 1]).toContain(Number(await page.getByTestId('batch-accuracy').getAttribute('data-value')));
    await expect(page.getByTestId('batch-pair-table').getByTestId('pair-row').allTextContents()).resolves.toEqual(expect.arrayContaining(['line 1', 'line 3']));
    await page.getByTestId('eval-run').click();
    await page.getByTestId('eval-result').waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('eval-result').textContent()).resolves.toContain('eval_accuracy');
    await screenshot(page, 'evaluate-results');
    await docScreenshot(page, '5-evaluate');

    // export the adapter as a zip and check it is a PEFT adapter
    await openPanel(page, 'Export');
    await page.getByTestId('export-adapter').click();
    await page.getByTestId('export-adapter-files').waitFor({ timeout: 60_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-adapter-zip').click()]);
    const zip = unzipSync(new Uint8Array(await readFile((await download.path())!)));
    expect(Object.keys(zip).sort()).toEqual(['adapter/README.md', 'adapter/adapter_config.json', 'adapter/adapter_model.safetensors']);
    const cfg = JSON.parse(new TextDecoder().decode(zip['adapter/adapter_config.json']));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', r: 4, lora_alpha: 8, target_modules: expect.arrayContaining(['q_proj', 'v_proj']) });
    const header = await readSafetensorsHeader(bytesSource('adapter_model.safetensors', zip['adapter/adapter_model.safetensors']));
    const keys = [...header.tensors.keys()];
    expect(keys).toContain('base_model.model.score.weight');
    expect(keys).toContain('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight');
    await screenshot(page, 'export-adapter');
    await docScreenshot(page, '6-export');

    // load the exported adapter folder in Evaluate & compare (on the demo model): the same rewards as the run
    await openPanel(page, 'Evaluate & compare');
    await page.getByTestId('model-files-input').setInputFiles(
      ['adapter_config.json', 'adapter_model.safetensors', 'README.md'].map((n) => ({ name: n, mimeType: 'application/octet-stream', buffer: Buffer.from(zip[`adapter/${n}`]) })),
    );
    await page.getByTestId('loaded-model').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('loaded-model').textContent()).resolves.toMatch(/^PEFT adapter from 3 chosen files: LoRA r=4, lora_alpha 8 on q_proj, v_proj, loaded on the demo model/);
    await expect(page.getByTestId('eval-source-loaded').isChecked()).resolves.toBe(true);
    await page.getByTestId('compare-run').click();
    await page.locator('[data-testid="compare-result"][data-source="loaded"]').waitFor({ timeout: 60_000 });
    expect(Number(await page.getByTestId('reward-a').textContent())).toBe(ra);
    expect(Number(await page.getByTestId('reward-b').textContent())).toBe(rb);
    await screenshot(page, 'evaluate-loaded-adapter');
    const exact = async (id: string) => Number(await page.getByTestId(id).getAttribute('data-value'));
    const runA = await exact('reward-a');
    const runB = await exact('reward-b');

    // export ONNX: verified by onnxruntime-web in the worker before it is offered; load that folder in Evaluate
    await openPanel(page, 'Export');
    await page.getByTestId('export-onnx').click();
    const verify = page.getByTestId('export-onnx-verify');
    await verify.waitFor({ timeout: 180_000 });
    await expect(verify.getAttribute('data-ok')).resolves.toBe('true');
    expect(await verify.textContent()).toMatch(/^Verified: onnxruntime-web \((WebGPU|WASM)\) vs this engine on \d+ sequences — max \|Δ reward\| /);
    expect(Number(await verify.getAttribute('data-max-diff'))).toBeLessThan(1e-3);
    const [onnxZip] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-onnx-zip').click()]);
    const oz = unzipSync(new Uint8Array(await readFile((await onnxZip.path())!)));
    expect(Object.keys(oz).sort()).toEqual(['onnx/README.md', 'onnx/config.json', 'onnx/model.onnx', 'onnx/tokenizer.json', 'onnx/tokenizer_config.json']);
    expect(new TextDecoder().decode(oz['onnx/README.md'])).toMatch(/Verification: verified: onnxruntime-web/);
    await screenshot(page, 'export-onnx');
    await openPanel(page, 'Evaluate & compare');
    // ~50 MB of files: handed over as paths (Playwright's in-memory buffers stop at 50 MB)
    const onnxDir = await mkdtemp(path.join(tmpdir(), 'rs-e2e-onnx-'));
    const onnxPaths = await Promise.all(Object.keys(oz).map(async (k) => {
      const p = path.join(onnxDir, k.slice('onnx/'.length));
      await writeFile(p, oz[k]);
      return p;
    }));
    await page.getByTestId('model-files-input').setInputFiles(onnxPaths, { timeout: 120_000 });
    await page.getByTestId('loaded-model').getByText('ONNX reward model', { exact: false }).waitFor({ timeout: 120_000 });
    await expect(page.getByTestId('loaded-model').getAttribute('data-kind')).resolves.toBe('onnx');
    await page.getByTestId('compare-run').click();
    await page.locator('[data-testid="compare-result"][data-source="loaded"]').waitFor({ timeout: 60_000 });
    const scale = Math.max(Math.abs(runA), Math.abs(runB));
    expect(Math.abs((await exact('reward-a')) - runA)).toBeLessThanOrEqual(1e-3 * scale);
    expect(Math.abs((await exact('reward-b')) - runB)).toBeLessThanOrEqual(1e-3 * scale);
    await screenshot(page, 'evaluate-loaded-onnx');
    await assertNoErrorNotes(page);
    assertNoConsoleErrors(s);
  }, 420_000); // SwiftShader on a shared CPU: training, evaluation and the ONNX export + onnxruntime-web check
});
