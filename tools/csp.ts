// The studio's Content-Security-Policy, for the dev server (a <meta> tag per served index.html) and the production
// build (the same <meta> tag in dist/index.html). A host serving dist/ can send productionCspHeader() as a header
// too (it adds frame-ancestors, which a <meta> tag cannot carry). It allows what the app needs and
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
import type { Plugin } from 'vite';

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

/** Vite plugin: the CSP meta tag on every served / built index.html (after every other transform). */
export function contentSecurityPolicy(): Plugin {
  let dev = false;
  return {
    name: 'reward-studio-csp',
    configResolved(config) {
      dev = config.command === 'serve' && !config.isProduction;
    },
    transformIndexHtml: { order: 'post', handler: (html) => withCspMeta(html, dev, extraConnectFromEnv()) },
  };
}

/** The header `vite preview` sends with the production build (frame-ancestors only works as a header). */
export function productionCspHeader(): string {
  return [...cspDirectives({ dev: false, extraConnect: extraConnectFromEnv() }), "frame-ancestors 'none'"].join('; ');
}
