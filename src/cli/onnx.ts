// `npm run cli -- export-onnx`: a reward model (a model folder, or a base model + PEFT adapter merged) as an ONNX
// folder in Optimum's layout (model.onnx [+ model.onnx_data], config.json, tokenizer files, README.md), streamed
// to disk tensor by tensor, then verified: onnxruntime-web (WASM) scores a sample and must agree with the engine.
// Also the Node side of `score`/`eval --onnx <dir>`: opening such a folder with onnxruntime-web.
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, required, optional, UsageError } from './args.ts';
import { CliInputError, folderTokenizer, readModelLimits, readScoreInputs } from './files.ts';
import { cliGpu, copyTokenizerFiles } from './common.ts';
import { loadForScoring } from './score.ts';
import { exportOnnx, onnxReadme } from '../train/export_onnx.ts';
import { scoreSequences } from '../train/trainer.ts';
import { bucketLength } from '../train/batches.ts';
import { MODEL_FILE, EXTERNAL_DATA_FILE, DEFAULT_EXTERNAL_DATA_THRESHOLD, type OnnxSink } from '../formats/onnx/writer.ts';
import { openOnnxRewardModel, compareRewards, verifyLine, VERIFY_TOLERANCE, type OnnxRewardSession } from '../formats/onnx/session.ts';
import type { OnnxDtype } from '../formats/onnx/qwen3.ts';
import type { ChatTokenizer } from '../data/tokenizer.ts';

const HELP = `usage: npm run cli -- export-onnx --model DIR [--adapter DIR] --out DIR [--dtype float32|float16] [--data FILE]
  --data FILE   records or pairs (JSONL/parquet) to verify on (first 32 sequences); default: built-in conversations
  --external-data-threshold BYTES   total weight size above which weights go to model.onnx_data (default ${DEFAULT_EXTERNAL_DATA_THRESHOLD})`;

/** Appends to files of a folder, opened on first write. */
class FolderSink implements OnnxSink {
  private handles = new Map<string, FileHandle>();
  constructor(private dir: string) {}
  async write(file: string, bytes: Uint8Array): Promise<void> {
    let h = this.handles.get(file);
    if (!h) {
      h = await open(path.join(this.dir, file), 'w');
      this.handles.set(file, h);
    }
    await h.write(bytes);
  }
  async close(): Promise<void> {
    for (const h of this.handles.values()) await h.close();
  }
}

/** A few conversations to verify on when no data file is given. */
function sampleSequences(tok: ChatTokenizer): number[][] {
  const convs: [string, string][] = [
    ['What is 2+2?', '4'], ['What is 2+2?', 'It is 5.'], ['Name a primary colour.', 'Red is a primary colour.'],
    ['Translate "bonjour".', 'Hello.'], ['Write a haiku about rain.', 'Soft rain on the roof / the gutters hum their one note / night drinks the puddles'],
    ['Is the earth flat?', 'No: it is an oblate spheroid, as measurements from orbit show.'],
  ];
  return convs.map(([u, a]) => tok.encodeChat([{ role: 'user', content: u }, { role: 'assistant', content: a }] as never));
}

export async function exportOnnxCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (console.log(HELP), 0);
  const a = parseArgs(argv, { values: ['model', 'adapter', 'out', 'dtype', 'data', 'external-data-threshold'] });
  const modelDir = required(a, 'model');
  const out = required(a, 'out');
  const dtype = (optional(a, 'dtype') ?? 'float32') as OnnxDtype;
  if (dtype !== 'float32' && dtype !== 'float16') throw new UsageError(`--dtype ${dtype}: expected float32 or float16`);
  const thrArg = optional(a, 'external-data-threshold');
  const threshold = thrArg === undefined ? undefined : Number(thrArg);
  if (threshold !== undefined && !(threshold >= 0)) throw new UsageError(`--external-data-threshold ${thrArg}: expected a number of bytes ≥ 0`);

  const tok = await folderTokenizer(modelDir);
  let seqs: number[][];
  const data = optional(a, 'data');
  if (data) {
    seqs = [];
    for (const r of await readScoreInputs(data, tok, await readModelLimits(modelDir))) {
      if (r.kind === 'pair') seqs.push([...r.chosen], [...r.rejected]);
      else seqs.push([...r.ids]);
    }
    seqs = seqs.slice(0, 32);
  } else seqs = sampleSequences(tok);
  const longest = Math.max(1, ...seqs.map((s) => s.length));

  const adapterDir = optional(a, 'adapter');
  let baseModel: string | null = path.basename(path.resolve(modelDir));
  if (adapterDir && existsSync(path.join(adapterDir, 'adapter_config.json'))) {
    const ac = JSON.parse(await readFile(path.join(adapterDir, 'adapter_config.json'), 'utf8')) as { base_model_name_or_path?: unknown };
    if (typeof ac.base_model_name_or_path === 'string' && ac.base_model_name_or_path) baseModel = ac.base_model_name_or_path;
  }
  const gpu = await cliGpu();
  const loaded = await loadForScoring(gpu, modelDir, adapterDir, bucketLength(longest, longest + 16));
  await mkdir(out, { recursive: true });
  for (const f of [MODEL_FILE, EXTERNAL_DATA_FILE]) await rm(path.join(out, f), { force: true });
  const sink = new FolderSink(out);
  let shown = -1;
  let res;
  try {
    res = await exportOnnx(gpu, loaded.weights, loaded.config, {
      dtype, sink, externalDataThreshold: threshold, baseModel,
      onProgress: (done, total) => {
        const pct = Math.floor((100 * done) / total);
        if (pct !== shown) process.stderr.write(`\rwriting ${out}: ${(shown = pct)}% of ${(total / 2 ** 20).toFixed(0)} MiB`);
      },
    });
  } finally {
    await sink.close();
    process.stderr.write('\n');
  }
  await writeFile(path.join(out, 'config.json'), res.configJson);
  await copyTokenizerFiles(modelDir, out);

  const engine = await scoreSequences(gpu, loaded.model, seqs);
  loaded.model.destroy();
  const session = await openOnnxFolder(out, 'wasm');
  const onnx = await session.score(seqs, 4);
  await session.release();
  const v = compareRewards(onnx, engine, session.provider, VERIFY_TOLERANCE[dtype]);
  await writeFile(path.join(out, 'README.md'), onnxReadme({ dtype, external: res.external, baseModel, verify: v, padId: loaded.config.pad_token_id ?? 0 }));
  console.log(`${out}: ${res.files.join(' + ')} (${(res.weightBytes / 2 ** 20).toFixed(1)} MiB of ${dtype} weights), config.json, tokenizer files, README.md`);
  console.log(verifyLine(v));
  return v.ok ? 0 : 1;
}

/** Opens an ONNX reward model folder (model.onnx [+ model.onnx_data], config.json with pad_token_id). */
export async function openOnnxFolder(dir: string, provider: 'wasm' | 'auto' = 'wasm'): Promise<OnnxRewardSession & { padId: number }> {
  const modelPath = path.join(dir, MODEL_FILE);
  if (!existsSync(modelPath)) throw new CliInputError(`${modelPath} not found: --onnx must be a folder with model.onnx (written by export-onnx or Optimum)`);
  const padId = await folderPadId(dir);
  const dataPath = path.join(dir, EXTERNAL_DATA_FILE);
  const externalData = existsSync(dataPath) ? new Uint8Array(await readFile(dataPath)) : undefined;
  const s = await openOnnxRewardModel(new Uint8Array(await readFile(modelPath)), { padId, provider, externalData });
  return Object.assign(s, { padId });
}

/** pad_token_id from config.json, else the tokenizer's pad token. */
async function folderPadId(dir: string): Promise<number> {
  const cfgPath = path.join(dir, 'config.json');
  if (existsSync(cfgPath)) {
    const cfg = JSON.parse(await readFile(cfgPath, 'utf8')) as { pad_token_id?: number | null };
    if (typeof cfg.pad_token_id === 'number') return cfg.pad_token_id;
  }
  return (await folderTokenizer(dir)).padTokenId;
}
