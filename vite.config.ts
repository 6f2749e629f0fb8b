// Vite config for the studio (React SPA + ES-module workers). `?raw` imports of shaders/*.wgsl work out of the box.
// REWARD_STUDIO_MIRROR=<folder> mounts the local Hugging Face Hub mirror (src/data/mirror.ts) at /hub-mirror/ on
// the dev and preview servers, so the studio (and the e2e tests) can "download" from it with no network.
// tools/csp.ts adds the Content-Security-Policy (a <meta> tag in the served and built index.html).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, runnerImport, type Connect, type Plugin, type ViteDevServer } from 'vite';
import { contentSecurityPolicy } from './tools/csp.ts';

const root = path.dirname(fileURLToPath(import.meta.url));
export const MIRROR_PREFIX = '/hub-mirror';
/** What Vite's dependency scan starts from: the page and every worker entry. */
export const OPTIMIZE_ENTRIES = ['index.html', 'src/worker/*.worker.ts'];

type MirrorHandler = (req: Connect.IncomingMessage, res: import('node:http').ServerResponse, next: Connect.NextFunction) => void;

/** Loads src/data/mirror.ts through Vite's module runner (it is TypeScript) only when a mirror is asked for. */
async function loadMirror(server: ViteDevServer | null, folder: string): Promise<MirrorHandler | null> {
  const modulePath = path.join(root, 'src/data/mirror.ts');
  if (!existsSync(modulePath)) {
    console.warn(`[reward-studio] REWARD_STUDIO_MIRROR is set but ${modulePath} does not exist yet; no /hub-mirror/.`);
    return null;
  }
  if (!existsSync(folder)) {
    console.warn(`[reward-studio] REWARD_STUDIO_MIRROR=${folder}: no such folder; no /hub-mirror/.`);
    return null;
  }
  // The dev server has a module runner; `vite preview` does not, so it uses runnerImport (a one-off runner).
  const mod = server ? await server.ssrLoadModule('/src/data/mirror.ts') : (await runnerImport<Record<string, unknown>>(modulePath)).module;
  const create = mod.createMirrorHandler as (root: string, opts?: { log?: (line: string) => void }) => MirrorHandler;
  const log = process.env.REWARD_STUDIO_MIRROR_LOG ? (line: string) => console.log(`[hub-mirror] ${line}`) : undefined;
  return create(path.resolve(folder), { log });
}

function hubMirror(): Plugin {
  const folder = process.env.REWARD_STUDIO_MIRROR;
  const mount = (server: ViteDevServer | null, use: (h: Connect.NextHandleFunction) => void) => {
    if (!folder) return;
    // The handler loads on the first request, so a slow or missing module never delays server start.
    let handler: Promise<MirrorHandler | null> | null = null;
    use((req, res, next) => {
      if (!req.url?.startsWith(MIRROR_PREFIX + '/')) return next();
      handler ??= loadMirror(server, folder);
      handler.then(
        (h) => {
          if (!h) {
            res.statusCode = 503;
            res.end('The local Hub mirror is not available (see the dev server log).');
            return;
          }
          // The handler sees paths relative to the mirror root: /<repo>/resolve/<rev>/<file>, /api/models/...
          req.url = req.url!.slice(MIRROR_PREFIX.length);
          h(req, res, next);
        },
        (err) => next(err),
      );
    });
  };
  return {
    name: 'reward-studio-hub-mirror',
    configureServer(server) {
      mount(server, (h) => server.middlewares.use(h));
    },
    configurePreviewServer(server) {
      mount(null, (h) => server.middlewares.use(h));
    },
  };
}

export default defineConfig({
  root,
  plugins: [react(), hubMirror(), contentSecurityPolicy()],
  worker: { format: 'es' },
  server: { host: 'localhost', port: 5173, strictPort: false },
  preview: { host: 'localhost', port: 4173, strictPort: false, headers: { 'X-Content-Type-Options': 'nosniff' } },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  // Dependency pre-bundling scans the page and both workers up front (the workers are not reachable from index.html
  // by import), so the first visit does not find new dependencies in a worker and reload itself.
  // Node-only modules must never reach the bundle (the `webgpu` Dawn binding, src/gpu/node.ts).
  optimizeDeps: { entries: OPTIMIZE_ENTRIES, exclude: ['webgpu'] },
});
