// `npm run cli -- score` and `eval`: a trained reward model (a model folder, or a base model + PEFT adapter) on
// records or pairs, forward only.
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, required, optional, UsageError, type ParsedArgs } from './args.ts';
import { openOnnxFolder } from './onnx.ts';
import { CliInputError, closeModelFiles, folderTokenizer, modelFolderFiles, readModelLimits, readRawRows, readScoreInputs, tokenizePreferenceFile } from './files.ts';
import { bestOfNMetrics, BestOfNError, filterBestOfN, flattenBestOfN, isBestOfNRow, tokenizeBestOfN, validateBestOfNRow } from '../data/best_of_n.ts';
import { parseJsonText } from '../formats/json_text.ts';
import { cliGpu } from './common.ts';
import { openFileSource } from '../formats/bytes-node.ts';
import { parseAdapterConfig } from '../formats/peft.ts';
import { loadRewardModel, type LoadedModel } from '../model/load.ts';
import type { LoraSpec } from '../model/params.ts';
import { loraSpecOfAdapter } from '../train/session.ts';
import { bucketLength } from '../train/batches.ts';
import { pairMetrics, scorePairs, scoreSequences } from '../train/trainer.ts';
import type { Gpu } from '../gpu/device.ts';

const SCORE_HELP = 'usage: npm run cli -- score (--model DIR [--adapter DIR] | --onnx DIR) --data FILE [--out FILE] [--max-length N]\n' +
  '  --max-length N   refuse records longer than N tokens (default and upper bound: the model\'s max_position_embeddings)';
const EVAL_HELP = 'usage: npm run cli -- eval (--model DIR [--adapter DIR] | --onnx DIR) --data FILE [--max-length N]\n' +
  '  FILE holds preference pairs (accuracy, margin, loss) or best-of-N records (RewardBench 2: prompt, chosen, rejected as a list, optional subset → best-of-N accuracy per subset)';

/** --model (the WGSL engine on Dawn) or --onnx (onnxruntime-web, WASM): the folder that also holds the tokenizer. */
function modelSource(a: ParsedArgs): { dir: string; onnx: boolean } {
  const model = optional(a, 'model');
  const onnx = optional(a, 'onnx');
  if (model && onnx) throw new UsageError('give either --model (with --adapter) or --onnx, not both');
  if (onnx && optional(a, 'adapter')) throw new UsageError('--adapter applies to --model; an ONNX export has its adapter merged in');
  if (!model && !onnx) throw new UsageError('--model DIR or --onnx DIR is required');
  return { dir: (model ?? onnx)!, onnx: !!onnx };
}

/** Rewards of sequences from either source. */
async function rewardsOf(src: { dir: string; onnx: boolean }, adapter: string | undefined, seqs: ArrayLike<number>[], pairsPerBatch?: number): Promise<Float32Array> {
  if (src.onnx) {
    const s = await openOnnxFolder(src.dir, 'wasm');
    try {
      return await s.score(seqs, 8);
    } finally {
      await s.release();
    }
  }
  let longest = 1;
  for (const x of seqs) longest = Math.max(longest, x.length);
  const gpu = await cliGpu();
  const loaded = await loadForScoring(gpu, src.dir, adapter, bucketLength(longest, longest + 16));
  try {
    if (pairsPerBatch === undefined) return await scoreSequences(gpu, loaded.model, seqs);
    const P = seqs.length / 2;
    const pairs = Array.from({ length: P }, (_, i) => ({ chosen_ids: seqs[2 * i] as number[], rejected_ids: seqs[2 * i + 1] as number[] }));
    const { chosen, rejected } = await scorePairs(gpu, loaded.model, pairs, loaded.model.opts.maxB / 2);
    const out = new Float32Array(seqs.length);
    for (let i = 0; i < P; i++) { out[2 * i] = chosen[i]; out[2 * i + 1] = rejected[i]; }
    return out;
  } finally {
    loaded.model.destroy();
  }
}

/** Loads base (+ adapter) for scoring sequences of up to maxT tokens, maxB at a time. */
export async function loadForScoring(gpu: Gpu, modelDir: string, adapterDir: string | undefined, maxT: number, maxB = 16): Promise<LoadedModel> {
  let lora: LoraSpec | null = null;
  const extra = [];
  if (adapterDir) {
    const cfgPath = path.join(adapterDir, 'adapter_config.json');
    const wPath = path.join(adapterDir, 'adapter_model.safetensors');
    if (!existsSync(cfgPath) || !existsSync(wPath)) throw new CliInputError(`${adapterDir}: a PEFT adapter folder needs adapter_config.json and adapter_model.safetensors`);
    const ac = parseAdapterConfig(parseJsonText(await readFile(cfgPath, 'utf8'), cfgPath), cfgPath);
    lora = loraSpecOfAdapter(ac);
    extra.push(await openFileSource(wPath));
  }
  const files = await modelFolderFiles(modelDir);
  const loaded = await loadRewardModel(gpu, files, { lora, training: false, maxB, maxT, gradientCheckpointing: false, seed: 0, extra });
  await closeModelFiles(files);
  for (const e of extra) await e.close();
  for (const w of loaded.warnings) console.error(`warning: ${w}`);
  const missing = loaded.initialized;
  if (missing.length) {
    throw new CliInputError(`${adapterDir ?? modelDir} lacks ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}: this is not a trained reward model. ` +
      'Pass the folder written by `train` (<out>/model), or the base model with --adapter <out>/adapter.');
  }
  return loaded;
}

/** An integer option ≥ 1, or `def` when absent. */
function intOption(a: ReturnType<typeof parseArgs>, name: string, def: number): number {
  const s = optional(a, name);
  if (s === undefined) return def;
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${name} ${s}: expected an integer ≥ 1`);
  return n;
}

export async function scoreCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (console.log(SCORE_HELP), 0);
  const a = parseArgs(argv, { values: ['model', 'adapter', 'onnx', 'data', 'out', 'max-length'] });
  const src = modelSource(a);
  const limits = await readModelLimits(src.dir);
  const maxLength = intOption(a, 'max-length', limits.maxPositions);
  const tok = await folderTokenizer(src.dir);
  const inputs = await readScoreInputs(required(a, 'data'), tok, limits, maxLength);
  const seqs: ArrayLike<number>[] = [];
  for (const r of inputs) {
    if (r.kind === 'pair') seqs.push(r.chosen, r.rejected);
    else seqs.push(r.ids);
  }
  const rewards = await rewardsOf(src, optional(a, 'adapter'), seqs);
  const lines: string[] = [];
  let i = 0;
  for (const r of inputs) {
    if (r.kind === 'pair') {
      lines.push(JSON.stringify({ chosen_reward: rewards[i], rejected_reward: rewards[i + 1] }));
      i += 2;
    } else lines.push(JSON.stringify({ reward: rewards[i++] }));
  }
  const text = lines.join('\n') + (lines.length ? '\n' : '');
  const out = optional(a, 'out');
  if (out) await writeFile(out, text);
  else process.stdout.write(text);
  return 0;
}

export async function evalCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (console.log(EVAL_HELP), 0);
  const a = parseArgs(argv, { values: ['model', 'adapter', 'onnx', 'data', 'max-length'] });
  const src = modelSource(a);
  const maxLength = intOption(a, 'max-length', 1024);
  const limits = await readModelLimits(src.dir);
  const tok = await folderTokenizer(src.dir);
  const dataFile = required(a, 'data');
  const rows = await readRawRows(dataFile);
  if (rows.length > 0 && isBestOfNRow(rows[0].value)) return evalBestOfN(dataFile, rows, src, optional(a, 'adapter'), tok, maxLength);
  const ds = await tokenizePreferenceFile(dataFile, tok, maxLength, limits);
  if (ds.pairs.length === 0) throw new CliInputError(`${required(a, 'data')}: all ${ds.total} pairs are longer than max_length ${maxLength} tokens; raise --max-length`);
  const r = await rewardsOf(src, optional(a, 'adapter'), ds.pairs.flatMap((p) => [p.chosen_ids, p.rejected_ids]), 0);
  const chosen = r.filter((_, i) => i % 2 === 0);
  const rejected = r.filter((_, i) => i % 2 === 1);
  const m = pairMetrics(chosen, rejected, ds.pairs.map((p) => p.margin ?? 0));
  process.stdout.write(JSON.stringify({ accuracy: m.accuracy, margin: m.margin, mean_reward: m.mean_reward, loss: m.loss, num_pairs: ds.pairs.length, num_filtered: ds.filteredIndices.length }) + '\n');
  return 0;
}

/** RewardBench 2's format (`rejected` a list of responses): best-of-N accuracy overall and per subset. */
async function evalBestOfN(
  file: string,
  rows: { place: string; value: Record<string, unknown> }[],
  src: { dir: string; onnx: boolean },
  adapterDir: string | undefined,
  tok: Awaited<ReturnType<typeof folderTokenizer>>,
  maxLength: number,
): Promise<number> {
  let recs;
  try {
    recs = rows.map(({ place, value }) => validateBestOfNRow(value, `${file}: ${place}`));
  } catch (e) {
    if (e instanceof BestOfNError) throw new CliInputError(`${e.message}\n${e.fix}`);
    throw e;
  }
  const { kept, filtered } = filterBestOfN(tokenizeBestOfN(tok, recs), maxLength);
  if (kept.length === 0) throw new CliInputError(`${file}: no record left after filtering by max_length ${maxLength}`);
  const rewards = await rewardsOf(src, adapterDir, flattenBestOfN(kept));
  const r = bestOfNMetrics(kept, rewards, filtered);
  const subsets = Object.fromEntries(r.subsets.map((s) => [s.subset, { accuracy: s.accuracy, records: s.records }]));
  process.stdout.write(JSON.stringify({ best_of_n_accuracy: r.accuracy, subset_mean_accuracy: r.subset_mean_accuracy, num_records: r.records, num_filtered: filtered, subsets }) + '\n');
  return 0;
}
