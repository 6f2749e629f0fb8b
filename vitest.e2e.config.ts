// Browser end-to-end tests: Vitest in Node drives Debian's chromium (playwright-core, WebGPU on SwiftShader) against
// the studio served by Vite from tests/e2e/global-setup.ts (with the local Hub mirror on generated fixtures).
// Run: CHROMIUM_PATH=/usr/bin/chromium npx vitest run -c vitest.e2e.config.ts   (npm test does this for you)
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/e2e/**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['tests/e2e/global-setup.ts'],
    pool: 'forks',
    // one browser at a time: SwiftShader is CPU-bound and the machines have few cores
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
