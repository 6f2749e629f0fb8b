import { defineConfig } from 'vitest/config';

// Unit and GPU (Dawn + SwiftShader) tests run in Node. Browser end-to-end tests live in tests/e2e and are run by
// tools/test.mjs with Playwright, not by Vitest.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/e2e/**', 'node_modules/**'],
    environment: 'node',
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
