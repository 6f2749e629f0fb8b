// A model folder loaded for Evaluate & compare, apart from any training run: a PEFT adapter folder
// (adapter_config.json + adapter_model.safetensors, as the studio or PEFT's save_pretrained writes it) on top of a
// base model, or a full reward-model folder (config.json + model.safetensors or shards, as the studio's merged
// export or transformers' save_pretrained writes it). Loaded forward-only (training false) through
// src/model/load.ts, the adapter's tensors passed as `extra` (their keys mapped by adapterKeyToHf).
// The weights stay on the GPU; the activations are sized for the longest sequence asked so far and rebuilt larger
// when a longer one comes (up to the model's max_position_embeddings).
import { parseJsonText } from '../formats/json_text.ts';
import type { Gpu } from '../gpu/device.ts';
import { blobSource, readText, type ByteSource } from '../formats/bytes.ts';
import { ConfigError } from '../formats/fields.ts';
import { parseAdapterConfig } from '../formats/peft.ts';
import { parseSafetensorsIndex, SAFETENSORS_INDEX_FILE, shardFiles } from '../formats/safetensors.ts';
import { loadRewardModel, type LoadedModel, type ModelFiles } from '../model/load.ts';
import type { LoraSpec } from '../model/params.ts';
import { loraSpecOfAdapter } from '../train/session.ts';
import { Qwen3RewardModel } from '../model/qwen3.ts';
import { destroyWeights } from '../model/weights.ts';
import { bucketLength } from '../train/batches.ts';
import { DEMO_MODEL_NAME } from './demo_model.ts';
import { loadOnnxFolder } from './eval_onnx.ts';
import type { OnnxRewardSession } from '../formats/onnx/session.ts';
import { modelIdOf, type LoadedModelInfo, type ModelRef, type TokenizerRef } from './protocol.ts';

/** Sequences per forward pass of a loaded model (4 pairs). */
const EVAL_MAX_B = 8;
/** Smallest activation length allocated (tokens). */
const MIN_T = 128;

/** A user-facing problem with the files given (message says what, fix says what to do). */
export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

export interface EvalModel {
  info: LoadedModelInfo;
  tokenizer: TokenizerRef;
  /** The longest sequence it can take (config.json's max_position_embeddings). */
  maxPositions: number;
  /** Pairs per forward pass. */
  microPairs: number;
  /** The reward model with activations for sequences of up to `longest` tokens. */
  modelFor(longest: number): Qwen3RewardModel;
  /** An ONNX folder scores here instead (modelFor throws). */
  onnx?: OnnxRewardSession;
  destroy(): void;
}

/** The file's name without the folder a directory picker puts in front (webkitRelativePath). */
export function baseName(f: File): string {
  return f.name.split(/[\\/]/).pop()!;
}

/** Which folder this is, from its file names; throws with what is missing. */
export function classifyFolder(names: string[]): 'adapter' | 'model' | 'onnx' {
  const has = (n: string) => names.includes(n);
  if (has('model.onnx')) return 'onnx';
  if (has('adapter_config.json') || names.some((n) => n.startsWith('adapter_model'))) {
    if (!has('adapter_config.json')) throw new ModelFolderError('The adapter folder has no adapter_config.json.', 'Choose all the files of the adapter folder (adapter_config.json and adapter_model.safetensors).');
    if (!has('adapter_model.safetensors')) {
      const bin = has('adapter_model.bin') ? ' (adapter_model.bin is a pickle file, which the studio does not read)' : '';
      throw new ModelFolderError(`The adapter folder has no adapter_model.safetensors${bin}.`, 'Save the adapter with safe_serialization=True (PEFT\'s default), or export it from the studio, then choose its folder.');
    }
    return 'adapter';
  }
  if (has('config.json') && (has('model.safetensors') || has(SAFETENSORS_INDEX_FILE))) return 'model';
  throw new ModelFolderError(
    `These files are neither a PEFT adapter nor a model folder: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ', …' : ''}.`,
    'Choose an adapter folder (adapter_config.json + adapter_model.safetensors) or a reward-model folder (config.json + model.safetensors).',
  );
}

/**
 * Loads `files` (one folder's files) for scoring. An adapter goes on `base` (whose files `baseFiles` reads); a
 * folder without tokenizer files uses `base`'s tokenizer. `tokenizerKey` names the folder's tokenizer for the data
 * worker. Throws ModelFolderError for a folder the studio cannot use.
 */
export async function loadModelFolder(
  gpu: Gpu,
  o: { files: File[]; name: string; base: ModelRef; baseFiles: () => Promise<ModelFiles>; tokenizerKey: string },
): Promise<{ model: EvalModel; warnings: string[] }> {
  const byName = new Map(o.files.map((f) => [baseName(f), f]));
  const names = [...byName.keys()];
  const kind = classifyFolder(names);
  if (kind === 'onnx') return loadOnnxFolder(byName, o.name, o.base, o.tokenizerKey);
  const warnings: string[] = [];
  let lora: LoraSpec | null = null;
  let loraInfo: LoadedModelInfo['lora'] = null;
  let files: ModelFiles;
  const extra: ByteSource[] = [];
  let trainedOn: string | null = null;
  if (kind === 'adapter') {
    let cfgJson: unknown;
    try {
      cfgJson = parseJsonText(await byName.get('adapter_config.json')!.text(), 'adapter_config.json');
    } catch (e) {
      throw new ModelFolderError(`${(e as Error).message}.`, 'Choose the adapter_config.json PEFT or the studio wrote.');
    }
    let ac;
    try {
      ac = parseAdapterConfig(cfgJson, 'adapter_config.json');
    } catch (e) {
      if (e instanceof ConfigError) throw new ModelFolderError(e.message, 'This adapter uses settings the studio cannot run; fix the fields named, or train it again here.');
      throw e;
    }
    lora = loraSpecOfAdapter(ac);
    loraInfo = { r: ac.lora.r, lora_alpha: ac.lora.lora_alpha, target_modules: [...ac.lora.target_modules] };
    const baseRepo = modelIdOf(o.base, DEMO_MODEL_NAME);
    trainedOn = ac.base_model_name_or_path;
    if (trainedOn && trainedOn !== baseRepo) {
      warnings.push(`The adapter was trained on ${trainedOn}; it is loaded on ${baseRepo} as selected in Model & data.`);
    }
    files = await o.baseFiles();
    extra.push(blobSource(byName.get('adapter_model.safetensors')!));
  } else {
    const configText = await readText(blobSource(byName.get('config.json')!));
    const indexFile = byName.get(SAFETENSORS_INDEX_FILE);
    if (indexFile) {
      const indexText = await indexFile.text();
      const shards = shardFiles(parseSafetensorsIndex(indexText));
      const missing = shards.filter((s) => !byName.has(s));
      if (missing.length) throw new ModelFolderError(`${SAFETENSORS_INDEX_FILE} names ${missing.join(', ')}, which were not chosen.`, 'Choose every file of the model folder.');
      files = { configText, indexText, weights: shards.map((s) => blobSource(byName.get(s)!)) };
    } else {
      files = { configText, weights: [blobSource(byName.get('model.safetensors')!)] };
    }
  }
  let loaded: LoadedModel;
  try {
    loaded = await loadRewardModel(gpu, files, { lora, training: false, maxB: EVAL_MAX_B, maxT: MIN_T, gradientCheckpointing: false, seed: 0, extra });
  } catch (e) {
    // an adapter on the wrong base model fails on a tensor shape: say which model it belongs to
    if (kind === 'adapter' && /shape/.test((e as Error).message)) {
      throw new ModelFolderError(`The adapter does not fit the selected base model: ${(e as Error).message.replace(/\.$/, '')}.`, `Select the model it was trained on${trainedOn ? ` (${trainedOn})` : ''} in Model & data (download it first), then load the adapter again.`);
    }
    throw e;
  }
  if (loaded.initialized.length) {
    loaded.model.destroy();
    destroyWeights(loaded.weights);
    const what = loaded.initialized.slice(0, 3).join(', ') + (loaded.initialized.length > 3 ? ', …' : '');
    throw new ModelFolderError(
      `${o.name} lacks ${what}: it is not a trained reward model${kind === 'model' ? ' (a base checkpoint has no score head)' : ''}.`,
      kind === 'model' ? 'Choose the merged model folder the studio exports (or a base model with its adapter folder).' : 'Choose the adapter folder of a trained run.',
    );
  }
  const tj = byName.get('tokenizer.json');
  const tc = byName.get('tokenizer_config.json');
  const tokenizer: TokenizerRef = tj && tc ? { kind: 'files', key: o.tokenizerKey, tokenizerJson: tj, tokenizerConfig: tc } : o.base;
  const info: LoadedModelInfo = { kind, name: o.name, base: kind === 'adapter' ? o.base : null, lora: loraInfo, tokenizer: tokenizer.kind === 'files' ? 'folder' : 'base', files: names.sort() };
  warnings.push(...loaded.warnings);
  return { warnings, model: evalModelOf(gpu, loaded, info, tokenizer) };
}

/**
 * The selected base model with an untrained score head (seeded as a new run's: what the model says before any
 * training), as Compare's baseline. Its tokenizer is the base model's.
 */
export async function loadBaseModel(gpu: Gpu, o: { base: ModelRef; baseFiles: () => Promise<ModelFiles>; seed: number }): Promise<EvalModel> {
  const loaded = await loadRewardModel(gpu, await o.baseFiles(), { lora: null, training: false, maxB: EVAL_MAX_B, maxT: MIN_T, gradientCheckpointing: false, seed: o.seed });
  const name = modelIdOf(o.base, DEMO_MODEL_NAME);
  // a trained model folder chosen as the model carries its own score head: it is loaded, not initialized
  const info: LoadedModelInfo = { kind: 'base', name, base: o.base, lora: null, tokenizer: 'base', files: [], ...(loaded.initialized.includes('score.weight') ? {} : { trainedHead: true }) };
  return evalModelOf(gpu, loaded, info, o.base);
}

function evalModelOf(gpu: Gpu, loaded: LoadedModel, info: LoadedModelInfo, tokenizer: TokenizerRef): EvalModel {
  let model = loaded.model;
  const maxPositions = loaded.config.max_position_embeddings;
  return {
    info,
    tokenizer,
    maxPositions,
    microPairs: EVAL_MAX_B / 2,
    modelFor(longest) {
      if (longest > maxPositions) throw new ModelFolderError(`A sequence of ${longest} tokens is longer than the model's ${maxPositions} positions.`, 'Shorten it.');
      if (longest > model.opts.maxT) {
        const maxT = Math.min(maxPositions, bucketLength(Math.max(longest, 2 * model.opts.maxT), Infinity));
        model.destroy();
        model = new Qwen3RewardModel(gpu, loaded.weights, { maxB: EVAL_MAX_B, maxT, gradientCheckpointing: false, training: false });
      }
      return model;
    },
    destroy() {
      model.destroy();
      destroyWeights(loaded.weights);
    },
  };
}
