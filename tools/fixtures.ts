// `npm run fixtures [root]`: generates every test fixture into a local Hub mirror layout (default fixtures/hub/):
//   models/reward-studio/tiny-qwen3/            tiny random Qwen3 (bf16, real tokenizer files)
//   datasets/reward-studio/ultrafeedback-tiny/  data/{train,test}-00000-of-00001.parquet (+ jsonl/)
// Serve it with `npm run mirror -- fixtures/hub`. Deterministic; nothing is downloaded.
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeTinyQwen3 } from './fixtures-model.ts';
import { writeDatasetFixture } from './fixtures-dataset.ts';

export const FIXTURE_ROOT = 'fixtures/hub';
export const TINY_MODEL_REPO = 'reward-studio/tiny-qwen3';
export const TINY_DATASET_REPO = 'reward-studio/ultrafeedback-tiny';

export async function writeFixtures(root = FIXTURE_ROOT): Promise<{ modelDir: string; datasetDir: string }> {
  const modelDir = join(root, 'models', TINY_MODEL_REPO);
  const datasetDir = join(root, 'datasets', TINY_DATASET_REPO);
  await writeTinyQwen3(modelDir, { seed: 0 });
  await writeDatasetFixture(datasetDir, {});
  return { modelDir, datasetDir };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const { modelDir, datasetDir } = await writeFixtures(process.argv[2] ?? FIXTURE_ROOT);
  console.log(`fixtures written:\n  ${modelDir}\n  ${datasetDir}`);
}
