// Starts the studio once for every e2e file: Vite's dev server (the project's vite.config.ts) on an ephemeral
// localhost port, with the local Hub mirror mounted at /hub-mirror/ on a temp folder of generated fixtures:
//   <tmp>/models/reward-studio/tiny-qwen3/                 tools/fixtures-model.ts (Qwen3 layout, real tokenizer)
//   <tmp>/datasets/reward-studio/ultrafeedback-tiny/data/  tools/fixtures-dataset.ts (ultrafeedback's layout)
//   <tmp>/jsonl/{train,test}.jsonl                         the same rows as JSONL, for drop tests
// REWARD_STUDIO_FIXTURES=<folder> uses a prepared folder of that layout instead of generating one.
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { createServer, type ViteDevServer } from 'vite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export const FIXTURE_MODEL_REPO = 'reward-studio/tiny-qwen3';
export const FIXTURE_DATASET_REPO = 'reward-studio/ultrafeedback-tiny';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://localhost:<port> of the studio. */
    baseUrl: string;
    /** baseUrl + '/hub-mirror', or '' when no fixtures could be made. */
    mirrorUrl: string;
    /** The fixtures folder ('' when none). */
    fixturesDir: string;
  }
}

/** Generates the fixtures with the project's own tools; returns null (with the reason logged) if they are missing. */
async function makeFixtures(dir: string): Promise<string | null> {
  const modelTool = path.join(root, 'tools/fixtures-model.ts');
  const dataTool = path.join(root, 'tools/fixtures-dataset.ts');
  if (!existsSync(modelTool) || !existsSync(dataTool)) {
    console.warn('[e2e] tools/fixtures-model.ts or tools/fixtures-dataset.ts is missing: no Hub mirror for these tests.');
    return null;
  }
  const { writeTinyQwen3 } = (await import(modelTool)) as typeof import('../../tools/fixtures-model.ts');
  const { writeDatasetFixture } = (await import(dataTool)) as typeof import('../../tools/fixtures-dataset.ts');
  await writeTinyQwen3(path.join(dir, 'models', ...FIXTURE_MODEL_REPO.split('/')));
  const raw = path.join(dir, '.dataset-src');
  await writeDatasetFixture(raw);
  const repoDir = path.join(dir, 'datasets', ...FIXTURE_DATASET_REPO.split('/'));
  await mkdir(repoDir, { recursive: true });
  await cp(path.join(raw, 'data'), path.join(repoDir, 'data'), { recursive: true });
  await cp(path.join(raw, 'jsonl'), path.join(dir, 'jsonl'), { recursive: true });
  await rm(raw, { recursive: true, force: true });
  return dir;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let fixturesDir = process.env.REWARD_STUDIO_FIXTURES ?? '';
  let tmp: string | null = null;
  if (!fixturesDir) {
    tmp = await mkdtemp(path.join(tmpdir(), 'reward-studio-e2e-'));
    fixturesDir = (await makeFixtures(tmp)) ?? '';
  }
  if (fixturesDir) process.env.REWARD_STUDIO_MIRROR = fixturesDir;

  const server: ViteDevServer = await createServer({
    configFile: path.join(root, 'vite.config.ts'),
    root,
    logLevel: 'warn',
    server: { host: 'localhost', port: 0, strictPort: false, hmr: false },
    clearScreen: false,
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('The Vite dev server did not report a TCP port.');
  const baseUrl = `http://localhost:${addr.port}`;
  project.provide('baseUrl', baseUrl);
  project.provide('mirrorUrl', fixturesDir ? `${baseUrl}/hub-mirror` : '');
  project.provide('fixturesDir', fixturesDir);
  return async () => {
    await server.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  };
}
