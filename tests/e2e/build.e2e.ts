// The production build (tools/check-build.mjs): built into a temporary folder, the first page (index.html, its JS/CSS
// and the two workers) stays under 1.5 MiB gzip and refers to no .wasm (onnxruntime only behind a lazy import());
// the built data worker, served by `vite preview`, still tokenizes a chat in Chromium with onnxruntime stubbed out
// of transformers.js, under the Content-Security-Policy header the preview server sends (also written to
// dist/_headers). Sizes are printed for BENCHMARKS.md. (About 30 s: one vite build + one page.)
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain Node script without types
import { analyzeDist, browserCheck, buildInto, FIRST_PAGE_LIMIT, references } from '../../tools/check-build.mjs';
import { CHROMIUM_PATH } from './browser.ts';

const out = mkdtempSync(path.join(tmpdir(), 'rs-dist-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('production build', () => {
  it('tells static, worker and lazy references apart', () => {
    const r = references('import{a}from"./chunk-1.js";const w=new Worker(new URL(`/assets/data.worker-x.js`,``+import.meta.url));const m=()=>import("./onnx-2.js");', false);
    expect([...r.stat].sort()).toEqual(['./chunk-1.js', '/assets/data.worker-x.js']);
    expect([...r.lazy]).toEqual(['./onnx-2.js']);
  });

  it('ships no wasm with the first page, stays under 1.5 MiB gzip, and the built tokenizer works', async () => {
    process.env.CHROMIUM_PATH ??= CHROMIUM_PATH;
    await buildInto(out);
    const report = analyzeDist(out);
    console.log(`[build] dist ${(report.distBytes / 1048576).toFixed(2)} MiB; first page ${(report.firstPage.bytes / 1024).toFixed(0)} KiB, ${(report.firstPage.gzip / 1024).toFixed(0)} KiB gzip: ` +
      report.firstPage.files.map((f: { file: string; gzip: number }) => `${f.file} ${(f.gzip / 1024).toFixed(0)}K`).join(', '));
    expect(report.problems).toEqual([]);
    expect(report.firstPage.gzip).toBeLessThanOrEqual(FIRST_PAGE_LIMIT);
    // both workers start with the page; neither bundles onnxruntime (the train worker has no tokenizer at all)
    expect(report.firstPage.files.map((f: { file: string }) => f.file.replace(/-[\w-]+\.js$/, ''))).toEqual(expect.arrayContaining(['assets/data.worker', 'assets/train.worker', 'assets/index']));
    // a wasm may only exist behind a lazy chunk (e.g. an ONNX export feature importing onnxruntime-web on demand)
    if (report.lazyChunks.length === 0) expect(report.wasmFiles).toEqual([]);
    // the dev-only fault injection (`?faults=`, src/ui/workers.ts and the train worker) is not in the build
    for (const f of report.firstPage.files as { file: string }[]) {
      if (f.file.endsWith('.js')) expect(readFileSync(path.join(out, f.file), 'utf8'), f.file).not.toMatch(/faults armed/);
    }
    const tok = await browserCheck(out);
    expect(tok.error).toBeUndefined();
    // the CSP: a <meta> tag in the built page, the same policy (+ frame-ancestors) as a header from `vite preview` on
    // the page and on the worker script (the worker above tokenized under it), and in dist/_headers for other hosts
    const header = `${tok.csp.meta}; frame-ancestors 'none'`;
    expect(tok.csp.meta).toMatch(/^default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' https:\/\/huggingface\.co /);
    expect(tok.csp.page).toBe(header);
    expect(tok.csp.workers['/assets/data.worker']).toBe(header);
    for (const [w, h] of Object.entries(tok.csp.workers)) expect(h, w).toBe(header);
    expect(tok.csp.headersFile).toBe(`/*\n  Content-Security-Policy: ${header}\n  X-Content-Type-Options: nosniff\n`);
    // <|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n...: the chat template rendered and tokenized
    expect(tok.ids.slice(0, 5)).toEqual([151644, 872, 198, 13048, 151645]);
  });
});
