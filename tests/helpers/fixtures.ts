// Generated fixtures for tests (never downloaded): the tiny Qwen3 model and the synthetic ultrafeedback-shaped
// dataset, written once per test process into a temporary Hub-layout folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeFixtures, TINY_MODEL_REPO, TINY_DATASET_REPO } from '../../tools/fixtures.ts';

let cached: Promise<{ root: string; modelDir: string; datasetDir: string }> | undefined;

export function testFixtures(): Promise<{ root: string; modelDir: string; datasetDir: string }> {
  cached ??= (async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'reward-studio-fixtures-'));
    const { modelDir, datasetDir } = await writeFixtures(root);
    return { root, modelDir, datasetDir };
  })();
  return cached;
}

export { TINY_MODEL_REPO, TINY_DATASET_REPO };
