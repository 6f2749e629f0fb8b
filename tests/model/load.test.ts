// Loading a model folder: a truncated safetensors file, a config that contradicts the weights, and a missing tensor
// each fail with a message naming the file and the tensor; a good folder loads and initialises the score head.
import { describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { closeModelFiles, modelFolderFiles } from '../../src/cli/files.ts';
import { loadRewardModel } from '../../src/model/load.ts';
import { readParam } from '../../src/model/weights.ts';

async function copyModel(): Promise<string> {
  const { modelDir } = await testFixtures();
  const dir = mkdtempSync(path.join(tmpdir(), 'rs-load-'));
  cpSync(modelDir, dir, { recursive: true });
  return dir;
}

async function load(dir: string) {
  const gpu = await getTestGpu();
  const files = await modelFolderFiles(dir);
  try {
    return await loadRewardModel(gpu, files, { lora: null, training: false, maxB: 2, maxT: 16, gradientCheckpointing: false, seed: 3 });
  } finally {
    await closeModelFiles(files);
  }
}

describe('loading a model folder', () => {
  it('loads the tiny Qwen3 (bf16 → f32 trainable) and initialises score.weight ~ N(0, 0.02)', async () => {
    const loaded = await load(await copyModel());
    expect(loaded.initialized).toEqual(['score.weight']);
    expect(loaded.weights.table.byName.get('model.layers.0.mlp.up_proj.weight')!.trainable).toBe(true);
    const score = await readParam(await getTestGpu(), loaded.weights, 'score.weight');
    const std = Math.sqrt(score.reduce((s, x) => s + x * x, 0) / score.length);
    expect(std).toBeGreaterThan(0.01);
    expect(std).toBeLessThan(0.03);
    loaded.model.destroy();
  });

  it('a truncated model.safetensors names the file and says it is truncated', async () => {
    const dir = await copyModel();
    const f = path.join(dir, 'model.safetensors');
    truncateSync(f, statSync(f).size - 1000);
    await expect(load(dir)).rejects.toThrow(/model\.safetensors.*(truncated|past the end|runs past)/s);
  });

  it('a config that contradicts the weights names the tensor and the file', async () => {
    const dir = await copyModel();
    const cfgPath = path.join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.intermediate_size = 96;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    await expect(load(dir)).rejects.toThrow(/model\.layers\.0\.mlp\.gate_proj\.weight in model\.safetensors has shape \[128,64\] but config\.json implies \[96,64\]/);
  });

  it('a missing tensor is named', async () => {
    const dir = await copyModel();
    const cfgPath = path.join(dir, 'config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    cfg.num_hidden_layers = 3;
    writeFileSync(cfgPath, JSON.stringify(cfg));
    await expect(load(dir)).rejects.toThrow(/model\.layers\.2\.[a-z_.]+\.weight is missing from the checkpoint \(model\.safetensors\)\. Is this a Qwen3 model folder\?/);
  });
});
