// Security in the browser: dataset and model text is never rendered as HTML, and the Content-Security-Policy is in
// force. A JSONL whose file name, messages, roles and broken lines carry script/markup payloads goes through every
// panel that shows data — import (errors listed by line), Inspect (examples), Train (a one-step run: the stored run
// and the metrics table), Evaluate & compare (the pair form and its error, batch scoring of a payload file) — and
// the page must never create an element from it or run it; the payload text is shown as text. The policy itself is
// checked: an inline script injected at run time is refused (and that is the only violation the page reports). The
// policy is also an HTTP header on the page's and the worker scripts' responses (a <meta> tag does not cover
// workers): a fetch to a forbidden origin from inside the real train worker is refused by it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { assertNoConsoleErrors, launchBrowser, openPanel, openStudio, screenshot } from './browser.ts';

const CONFIG = {
  max_steps: 1,
  per_device_train_batch_size: 2,
  logging_steps: 1,
  save_steps: 1,
  max_length: 384,
  learning_rate: 0.001,
  peft: { r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj'], use_rslora: false, modules_to_save: null },
};

const REFUSED_INLINE = ['script-src-elem inline', 'script-src-elem inline'];

/** Each part sets window.__xss if it ever runs. */
const XSS = `<img src=x onerror="window.__xss=(window.__xss||0)+1"><script>window.__xss=(window.__xss||0)+1</script><svg onload="window.__xss=1"><b>bold</b>`;

const pair = (i: number) =>
  JSON.stringify({
    chosen: [{ role: 'user', content: `Q${i} ${XSS}` }, { role: 'assistant', content: `Yes ${XSS}` }],
    rejected: [{ role: 'user', content: `Q${i} ${XSS}` }, { role: 'assistant', content: `No ${XSS}` }],
  });

/** Elements a payload would have created, and whether any of it ran. */
async function injected(page: Page): Promise<{ elements: string[]; ran: unknown }> {
  return page.evaluate(() => ({
    elements: [...document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload], b, script:not([src])')].map((e) => e.outerHTML.slice(0, 80)),
    ran: (window as unknown as { __xss?: number }).__xss,
  }));
}

async function expectClean(page: Page, where: string): Promise<void> {
  const r = await injected(page);
  expect(r.elements, `${where}: elements created from data`).toEqual([]);
  expect(r.ran, `${where}: a payload ran`).toBeUndefined();
}

describe('security', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser({ webgpu: true });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows hostile dataset text as text in every panel; the CSP refuses inline scripts', async () => {
    const s = await openStudio(browser, 'about:blank');
    const { page } = s;
    await page.addInitScript(() => {
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.effectiveDirective} ${e.blockedURI}`));
    });
    const workerScripts = new Map<string, string | undefined>();
    page.on('response', (r) => {
      if (/\/src\/worker\/\w+\.worker\.ts\b/.test(r.url())) workerScripts.set(new URL(r.url()).pathname, r.headers()['content-security-policy']);
    });
    const response = await page.goto(`${inject('baseUrl')}/#config=${encodeURIComponent(JSON.stringify(CONFIG))}`);
    await page.getByTestId('gpu-name').waitFor({ timeout: 60_000 });

    // the policy is sent as a header too: on the page (the <meta> policy + frame-ancestors) and on both workers' scripts
    const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    const header = `${meta}; frame-ancestors 'none'`;
    expect(response!.headers()['content-security-policy']).toBe(header);
    expect(Object.fromEntries(workerScripts)).toEqual({ '/src/worker/train.worker.ts': header, '/src/worker/data.worker.ts': header });
    // ... and it governs the workers: the real train worker may not connect to an origin the policy does not list
    const trainWorker = page.workers().find((w) => w.url().includes('/src/worker/train.worker.ts'))!;
    const refusedInWorker = await trainWorker.evaluate(
      () =>
        new Promise<string>((resolve) => {
          self.addEventListener('securitypolicyviolation', (e) => resolve(`${e.effectiveDirective} ${e.blockedURI}`), { once: true });
          fetch('https://not-allowed.example/x').catch(() => {});
          setTimeout(() => resolve('no violation'), 5000);
        }),
    );
    expect(refusedInWorker).toBe('connect-src https://not-allowed.example/x');

    // the policy is in force: an inline script added at run time does not run
    const policy = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
    const scriptSrc = policy!.split(';').map((d) => d.trim().split(/\s+/)).find((d) => d[0] === 'script-src')!;
    expect(scriptSrc.slice(0, 3)).toEqual(['script-src', "'self'", "'wasm-unsafe-eval'"]);
    expect(scriptSrc.slice(3).every((t) => t.startsWith("'sha256-")), scriptSrc.join(' ')).toBe(true);
    await page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.__inline = 1';
      document.head.append(el);
      el.remove();
    });
    expect(await page.evaluate(() => (window as unknown as { __inline?: number }).__inline)).toBeUndefined();
    // refused by both policies (the header's and the <meta> tag's): one report each
    await page.waitForFunction(() => (window as unknown as { __csp: string[] }).__csp.length > 1);
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual(REFUSED_INLINE);
    // Chromium reports each refusal as a console error: the expected errors
    const isRefusal = (e: string) => e.includes('Content Security Policy') && e.includes('inline script');
    expect(s.errors.filter(isRefusal).length).toBeGreaterThanOrEqual(1);
    s.errors = s.errors.filter((e) => !isRefusal(e));

    // 1. import: a payload file name, payload messages, and broken lines quoting payloads
    const lines = [pair(1), `{"chosen": "${XSS.replaceAll('"', "'")}"`, pair(2), JSON.stringify({ chosen: [{ role: XSS, content: 'x' }], rejected: [] }), ...[3, 4, 5, 6].map(pair)];
    await page.evaluate(
      ({ content, name }) => {
        const dt = new DataTransfer();
        dt.items.add(new File([content], name, { type: 'application/jsonl' }));
        for (const type of ['dragenter', 'dragover', 'drop']) document.querySelector('main')!.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      { content: lines.join('\n') + '\n', name: `${XSS}.jsonl` },
    );
    await page.getByTestId('import-errors').waitFor({ timeout: 30_000 });
    await expect(page.getByTestId('import-errors').locator('li').count()).resolves.toBe(2);
    await expectClean(page, 'import errors');
    await page.getByTestId('import-accept').click();
    await page.getByTestId('stored-import').waitFor();
    await expect(page.getByTestId('stored-import').textContent()).resolves.toContain(XSS);
    await expectClean(page, 'stored import');

    // 2. inspect: examples show the payload as text
    await openPanel(page, 'Inspect');
    await page.getByTestId('inspect-run').click();
    await page.getByTestId('inspect-summary').waitFor({ timeout: 90_000 });
    await expect(page.getByTestId('inspect-example').first().textContent()).resolves.toContain(XSS);
    await expectClean(page, 'inspect');

    // 3. train one step on it: the run (named after the file), its logs and the metrics table
    await openPanel(page, 'Train');
    await page.getByTestId('train-start').click();
    await page.locator('[data-testid="train-state"][data-state="done"], [data-testid="train-state"][data-state="error"]').waitFor({ timeout: 150_000 });
    const why = [...(await page.locator('[data-testid^="error-"]').allTextContents()), await page.locator('main').textContent(), ...s.errors];
    expect(await page.getByTestId('train-state').getAttribute('data-state'), why.join('\n')).toBe('done');
    await page.getByTestId('metrics-table').waitFor();
    await expect(page.getByTestId('stored-runs').textContent()).resolves.toContain(XSS);
    await expectClean(page, 'train');

    // 4. evaluate & compare: a payload pair is scored; a payload in a malformed conversation comes back as text
    await openPanel(page, 'Evaluate & compare');
    await page.getByLabel('Prompt or conversation').fill(XSS);
    await page.getByLabel('Response A').fill(XSS);
    await page.getByLabel('Response B').fill(`${XSS}!`);
    await page.getByTestId('compare-run').click();
    await page.getByTestId('compare-result').waitFor({ timeout: 60_000 });
    expect(Number.isFinite(Number(await page.getByTestId('reward-a').textContent()))).toBe(true);
    await page.getByLabel('Prompt or conversation').fill(`[{"role": "${XSS.replaceAll('"', "'")}", "content": "hi"}]`);
    await page.getByTestId('compare-run').click();
    await page.getByRole('alert').filter({ hasText: 'Message [0].role must be' }).waitFor();
    await expectClean(page, 'compare');
    // batch scoring: a payload file name, payload records and a payload line that is skipped
    const records = [{ text: XSS }, { messages: [{ role: 'user', content: XSS }, { role: 'assistant', content: XSS }] }];
    await page.getByTestId('batch-input').setInputFiles({ name: `${XSS}.jsonl`, mimeType: 'application/jsonl', buffer: Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + `\n${XSS}\n`) });
    await page.getByTestId('batch-result').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('batch-result').textContent()).resolves.toContain('Scored 2 records');
    await expectClean(page, 'batch scoring');
    await screenshot(page, 'security-payloads');

    // nothing else was refused by the policy (the app needs nothing it forbids), and the page logged no errors
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual(REFUSED_INLINE);
    // (the worker's refused fetch, if Chromium logged it, is the one expected worker error)
    s.errors = s.errors.filter((e) => !e.includes('not-allowed.example'));
    assertNoConsoleErrors(s);
  });
});
