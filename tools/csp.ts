// The studio's Content-Security-Policy, sent two ways: a <meta> tag in every served and built index.html (for hosts
// that cannot set headers), and an HTTP header on every response of the dev server and `vite preview` — the page,
// and the worker scripts, which a <meta> tag does not cover (a dedicated worker is governed by its own response's
// header). The header adds frame-ancestors 'none' (header-only). The build writes dist/_headers (Netlify / Cloudflare
// Pages format) with the same header for hosts serving dist/ elsewhere. It allows what the app needs and
// nothing else:
//   scripts   own origin only, plus 'wasm-unsafe-eval' (the parquet decompressors compile WebAssembly) and the
//             sha256 of each inline script Vite itself puts into index.html (dev: React Fast Refresh's preamble);
//   workers   own origin (module workers built from src/worker/*.worker.ts);
//   connect   own origin (the app, the bundled tokenizer, the /hub-mirror/ mount), the Hugging Face Hub and its
//             file CDNs (https://huggingface.co, https://*.huggingface.co, https://*.hf.co: resolve redirects there),
//             and http://localhost / 127.0.0.1 on any port (`npm run mirror`); dev adds ws: for Vite's HMR;
//             REWARD_STUDIO_CSP_CONNECT="https://my-mirror.example" adds origins (a Hub mirror on another host);
//   styles    own origin + inline (Vite injects CSS with <style>, React and recharts set style attributes);
//   images    own origin, data: and blob: (icons, charts); no objects, no frames, no <base>, no form posts.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import type { Connect, Plugin } from 'vite';

export const HUB_ORIGINS = ['https://huggingface.co', 'https://*.huggingface.co', 'https://*.hf.co'];
export const LOCAL_MIRROR_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*'];

export function cspDirectives(opts: { dev: boolean; inlineScriptHashes?: string[]; extraConnect?: string[] }): string[] {
  const connect = ["'self'", ...HUB_ORIGINS, ...LOCAL_MIRROR_ORIGINS, ...(opts.extraConnect ?? []), ...(opts.dev ? ['ws://localhost:*', 'ws://127.0.0.1:*'] : [])];
  return [
    "default-src 'self'",
    `script-src 'self' 'wasm-unsafe-eval'${(opts.inlineScriptHashes ?? []).map((h) => ` '${h}'`).join('')}`,
    "worker-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "object-src 'none'",
    "frame-src 'none'",
    "base-uri 'self'",
    "form-action 'none'",
  ];
}

/** Extra connect-src origins from REWARD_STUDIO_CSP_CONNECT (space or comma separated). */
export function extraConnectFromEnv(env = process.env.REWARD_STUDIO_CSP_CONNECT): string[] {
  return (env ?? '').split(/[\s,]+/).filter(Boolean);
}

const INLINE_SCRIPT = /<script\b(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g;

/** Adds the CSP <meta> tag as the first element of <head>, hashing every inline script of the page. */
export function withCspMeta(html: string, dev: boolean, extraConnect: string[] = []): string {
  const hashes = [...html.matchAll(INLINE_SCRIPT)].map((m) => `sha256-${createHash('sha256').update(m[1], 'utf8').digest('base64')}`);
  const policy = cspDirectives({ dev, inlineScriptHashes: hashes, extraConnect }).join('; ');
  const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
  if (!/<head>/.test(html)) throw new Error('index.html has no <head>: cannot add the Content-Security-Policy');
  return html.replace(/<head>/, `<head>\n    ${meta}`);
}

const META = /<meta http-equiv="Content-Security-Policy" content="([^"]*)"/;

/** The policy of a page's CSP <meta> tag (null when it has none). */
export function cspOfHtml(html: string): string | null {
  return META.exec(html)?.[1] ?? null;
}

/** The HTTP header for a page's <meta> policy: the same directives plus frame-ancestors (header-only). */
export function headerOfPolicy(policy: string): string {
  return `${policy}; frame-ancestors 'none'`;
}

/** The header `vite preview` sends with a production build without a <meta> policy (frame-ancestors only works as a
 *  header). */
export function productionCspHeader(): string {
  return headerOfPolicy(cspDirectives({ dev: false, extraConnect: extraConnectFromEnv() }).join('; '));
}

/** Headers for hosts serving dist/ (Netlify / Cloudflare Pages `_headers` format; other hosts: set the same). */
export function headersFile(header: string): string {
  return `/*\n  Content-Security-Policy: ${header}\n  X-Content-Type-Options: nosniff\n`;
}

/**
 * Connect middleware: the CSP header on every response (page, modules, worker scripts, assets), set just before the
 * response's headers go out, so the page's header carries the inline-script hashes of the index.html transform that
 * the same request ran.
 */
export function cspHeaderMiddleware(header: () => string): Connect.NextHandleFunction {
  return (_req, res, next) => {
    const writeHead = res.writeHead;
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (!this.headersSent && !this.hasHeader('Content-Security-Policy')) this.setHeader('Content-Security-Policy', header());
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as typeof res.writeHead;
    next();
  };
}

/** Vite plugin: the CSP meta tag on every served / built index.html (after every other transform), the CSP header on
 *  every response of the dev and preview servers, and dist/_headers. */
export function contentSecurityPolicy(): Plugin {
  let dev = false;
  let outDir = 'dist';
  // dev: the policy of the last index.html served (its inline-script hashes); before the first, none of them
  let devPolicy: string | null = null;
  return {
    name: 'reward-studio-csp',
    configResolved(config) {
      dev = config.command === 'serve' && !config.isProduction;
      outDir = path.resolve(config.root, config.build.outDir);
    },
    transformIndexHtml: {
      order: 'post',
      handler: (html) => {
        const out = withCspMeta(html, dev, extraConnectFromEnv());
        devPolicy = cspOfHtml(out);
        return out;
      },
    },
    configureServer(server) {
      server.middlewares.use(cspHeaderMiddleware(() => headerOfPolicy(devPolicy ?? cspDirectives({ dev, extraConnect: extraConnectFromEnv() }).join('; '))));
    },
    configurePreviewServer(server) {
      // the built page's own policy (its hashes, the connect origins it was built with)
      const index = path.join(outDir, 'index.html');
      const policy = existsSync(index) ? cspOfHtml(readFileSync(index, 'utf8')) : null;
      const header = policy ? headerOfPolicy(policy) : productionCspHeader();
      server.middlewares.use(cspHeaderMiddleware(() => header));
    },
    writeBundle() {
      const index = path.join(outDir, 'index.html');
      if (!existsSync(index)) return;
      const policy = cspOfHtml(readFileSync(index, 'utf8'));
      if (policy) writeFileSync(path.join(outDir, '_headers'), headersFile(headerOfPolicy(policy)));
    },
  };
}
