import { defineConfig } from 'vitest/config';

// Node tests, in two projects:
//  - gpu: kernels, model, trainer and CLI on Dawn (SwiftShader without a GPU). Files share their worker process
//    (isolate: false) so each WGSL pipeline is compiled once per worker, not once per file: on SwiftShader a
//    pipeline takes seconds to compile, more than most tests take to run.
//  - unit: everything else (data, formats, UI store/protocol), isolated as usual.
// tests/f16 (the shader-f16 variants) and tests/sgmat (subgroup matrices) are in the gpu project; tools/test.mjs
// runs them a second time on lavapipe (Mesa 26, under its own runtime: tools/lavapipe_runtime.mjs).
// Browser end-to-end tests live in tests/e2e and run with vitest.e2e.config.ts (tools/test.mjs runs both).
const GPU_DIRS = ['tests/ops/**/*.test.ts', 'tests/f16/**/*.test.ts', 'tests/sgmat/**/*.test.ts', 'tests/model/**/*.test.ts', 'tests/train/**/*.test.ts', 'tests/cli/**/*.test.ts', 'tests/ui/train_handler.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'gpu', include: GPU_DIRS, environment: 'node', isolate: false},
      },
      {
        extends: true,
        test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: [...GPU_DIRS, 'tests/e2e/**', 'node_modules/**'], environment: 'node' },
      },
    ],
  },
});
