// Checks a production build (`npm run build`'s dist/) ships only what the page can request, and measures it:
//   - the first page = index.html, what it links, the JS those files import statically, and the two workers (the page
//     starts both at load) with their static imports; files reached only through `import()` are lazy chunks;
//   - no first-page file references a .wasm (onnxruntime's 26 MB wasm may exist only behind a lazy chunk), and the
//     first page's gzip size is at most FIRST_PAGE_LIMIT (model and tokenizer files excluded: they are data);
//   - with --browser: the built data worker, served by `vite preview`, tokenizes a chat in headless Chromium (so the
//     onnxruntime stub really leaves the tokenizer working, under the Content-Security-Policy header that `vite
//     preview` sends with the page and the worker script; the report gives the meta tag, the headers and dist/_headers).
// Usage: node tools/check-build.mjs [--build] [--browser] [--dist DIR]   (prints a JSON report; exit 1 on a violation)
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const FIRST_PAGE_LIMIT = 1.5 * 1024 * 1024;

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Asset paths (relative to dist) a file refers to, split by how: static (import/src/href/worker) or lazy (import()). */
export function references(text, isHtml) {
  const stat = new Set();
  const lazy = new Set();
  const clean = (u) => u.replace(/^\.?\//, '').replace(/^(\.\.\/)+/, '');
  if (isHtml) {
    for (const m of text.matchAll(/(?:src|href)="([^"]+)"/g)) if (!/^https?:/.test(m[1])) stat.add(clean(m[1]));
    return { stat, lazy };
  }
  const q = '["\'`]';
  for (const m of text.matchAll(new RegExp(`import\\(\\s*${q}([^"'\`]+\\.js)${q}`, 'g'))) lazy.add(m[1]);
  for (const m of text.matchAll(new RegExp(`(?:from\\s*|import\\s*)${q}([^"'\`]+\\.js)${q}`, 'g'))) stat.add(m[1]);
  for (const m of text.matchAll(new RegExp(`new\\s+Worker\\(\\s*new\\s+URL\\(\\s*${q}([^"'\`]+\\.js)${q}`, 'g'))) stat.add(m[1]);
  return { stat: new Set([...stat].filter((u) => !lazy.has(u))), lazy };
}

/** Resolves a reference from `from` (a dist-relative path) to a dist-relative path. */
function resolveRef(from, ref) {
  if (ref.startsWith('/')) return ref.slice(1);
  return path.posix.normalize(path.posix.join(path.posix.dirname(from), ref));
}

export function analyzeDist(dist) {
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error(`${dist}/index.html not found: run npm run build first (or pass --build)`);
  const files = walk(dist).map((f) => path.relative(dist, f).split(path.sep).join('/'));
  const distBytes = files.reduce((a, f) => a + statSync(path.join(dist, f)).size, 0);
  const first = new Set();
  const lazy = new Set();
  const queue = ['index.html'];
  while (queue.length) {
    const f = queue.shift();
    if (first.has(f) || !existsSync(path.join(dist, f))) continue;
    first.add(f);
    if (!/\.(html|js|css)$/.test(f)) continue;
    const refs = references(readFileSync(path.join(dist, f), 'utf8'), f.endsWith('.html'));
    for (const r of refs.stat) queue.push(resolveRef(f, r));
    for (const r of refs.lazy) lazy.add(resolveRef(f, r));
  }
  const firstPage = [...first].filter((f) => /\.(html|js|css|svg)$/.test(f)).sort();
  const sizes = firstPage.map((f) => {
    const b = readFileSync(path.join(dist, f));
    return { file: f, bytes: b.length, gzip: gzipSync(b, { level: 9 }).length };
  });
  const problems = [];
  for (const f of firstPage) {
    if (!f.endsWith('.js')) continue;
    const text = readFileSync(path.join(dist, f), 'utf8');
    const wasm = [...text.matchAll(/["'`/]([\w.-]+\.wasm)["'`]/g)].map((m) => m[1]);
    if (wasm.length) problems.push(`${f} (loaded with the first page) refers to ${[...new Set(wasm)].join(', ')}: a wasm must sit behind a lazy import()`);
  }
  const wasmFiles = files.filter((f) => f.endsWith('.wasm'));
  const gzip = sizes.reduce((a, s) => a + s.gzip, 0);
  if (gzip > FIRST_PAGE_LIMIT) problems.push(`first page is ${(gzip / 1048576).toFixed(2)} MiB gzip, over the ${FIRST_PAGE_LIMIT / 1048576} MiB target`);
  return {
    distBytes,
    firstPage: { files: sizes, bytes: sizes.reduce((a, s) => a + s.bytes, 0), gzip },
    lazyChunks: [...lazy].sort(),
    wasmFiles,
    dataFiles: files.filter((f) => /\.(json|safetensors)$/.test(f)).map((f) => ({ file: f, bytes: statSync(path.join(dist, f)).size })),
    problems,
  };
}

export async function buildInto(outDir) {
  const { build } = await import('vite');
  // a production build whatever the caller's NODE_ENV (vitest sets "test", which would bundle React's dev build)
  const saved = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ root: ROOT, mode: 'production', logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  } finally {
    if (saved === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = saved;
  }
}

/** Serves `dist` with vite preview and has the built data worker tokenize a chat with the demo tokenizer. */
export async function browserCheck(dist) {
  const { preview } = await import('vite');
  const { chromium } = await import('playwright-core');
  const server = await preview({ root: ROOT, logLevel: 'warn', build: { outDir: dist }, preview: { port: 0, host: 'localhost' } });
  const url = server.resolvedUrls.local[0];
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-webgpu'] });
  try {
    const page = await browser.newPage();
    const workerHeaders = {};
    page.on('response', (r) => {
      if (/\/assets\/\w+\.worker-[\w-]+\.js$/.test(r.url())) workerHeaders[new URL(r.url()).pathname.replace(/-[\w-]+\.js$/, '')] = r.headers()['content-security-policy'];
    });
    const response = await page.goto(url);
    // the Content-Security-Policy: the built page's <meta> tag, the header on the page and on a worker's script
    const csp = {
      meta: await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content'),
      page: response.headers()['content-security-policy'],
      workers: workerHeaders,
      headersFile: existsSync(path.join(dist, '_headers')) ? readFileSync(path.join(dist, '_headers'), 'utf8') : null,
    };
    const worker = readdirSync(path.join(dist, 'assets')).find((f) => /^data\.worker-.*\.js$/.test(f));
    const tok = await page.evaluate(async (src) => {
      const w = new Worker(src, { type: 'module' });
      const ch = new MessageChannel();
      w.postMessage({ type: 'connect-port', port: ch.port2 }, [ch.port2]);
      const reply = await new Promise((resolve, reject) => {
        ch.port1.onmessage = (e) => resolve(e.data);
        w.onerror = (e) => reject(new Error(e.message));
        ch.port1.postMessage({ type: 'tokenize-chats', id: 1, model: { kind: 'demo' }, chats: [[{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello!' }]] });
      });
      w.terminate();
      return reply.type === 'token-ids' ? { ids: Array.from(reply.ids[0]) } : { error: reply.message ?? reply.type };
    }, `/assets/${worker}`);
    return { ...tok, csp };
  } finally {
    await browser.close();
    await new Promise((r) => server.httpServer.close(r));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const distArg = args.indexOf('--dist');
  const dist = path.resolve(ROOT, distArg >= 0 ? args[distArg + 1] : 'dist');
  if (args.includes('--build')) await buildInto(dist);
  const report = analyzeDist(dist);
  if (args.includes('--browser')) report.browser = await browserCheck(dist);
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length || report.browser?.error) process.exit(1);
}
