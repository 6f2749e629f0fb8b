// Writes the synthetic preference dataset fixture (src/data/synthetic.ts) in trl-lib/ultrafeedback_binarized's Hub
// layout, plus the same rows as JSONL:
//   <outdir>/data/train-00000-of-00001.parquet   <outdir>/data/test-00000-of-00001.parquet
//   <outdir>/jsonl/train.jsonl                   <outdir>/jsonl/test.jsonl
// Deterministic: the same options give byte-identical files.
// Usage: node --import tsx --import ./tools/node-hooks.mjs tools/fixtures-dataset.ts [outdir] [--seed N] [--train N] [--test N]

import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type SyntheticOptions, generateSyntheticPreferences, toJsonl, ultrafeedbackParquet } from '../src/data/synthetic.ts';

export const DEFAULT_DATASET_DIR = 'fixtures/datasets/ultrafeedback-tiny';

/** Write the fixture into `outdir`; returns the paths written. */
export async function writeDatasetFixture(outdir: string, opts: SyntheticOptions & { rowGroupSize?: number } = {}): Promise<string[]> {
  const { train, test } = generateSyntheticPreferences(opts);
  await mkdir(join(outdir, 'data'), { recursive: true });
  await mkdir(join(outdir, 'jsonl'), { recursive: true });
  const written: string[] = [];
  for (const [split, rows] of [['train', train], ['test', test]] as const) {
    const pq = join(outdir, 'data', `${split}-00000-of-00001.parquet`);
    await writeFile(pq, new Uint8Array(ultrafeedbackParquet(rows, { rowGroupSize: opts.rowGroupSize })));
    const jl = join(outdir, 'jsonl', `${split}.jsonl`);
    await writeFile(jl, toJsonl(rows));
    written.push(pq, jl);
  }
  return written;
}

function parseArgs(argv: string[]): { outdir: string; opts: SyntheticOptions } {
  const opts: SyntheticOptions = {};
  let outdir = DEFAULT_DATASET_DIR;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer, got ${argv[i]}`);
      return v;
    };
    if (a === '--seed') opts.seed = num();
    else if (a === '--train') opts.trainRows = num();
    else if (a === '--test') opts.testRows = num();
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}; expected --seed, --train or --test`);
    else outdir = a;
  }
  return { outdir, opts };
}

if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  try {
    const { outdir, opts } = parseArgs(process.argv.slice(2));
    for (const p of await writeDatasetFixture(outdir, opts)) console.log(`wrote ${p}`);
  } catch (e) {
    console.error(`fixtures-dataset: ${(e as Error).message}`);
    process.exit(1);
  }
}
