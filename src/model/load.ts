// From a Hugging Face model folder's files to a ready model on the GPU: parse config.json, build the parameter
// table (full fine-tuning or LoRA), stream the safetensors tensors in, initialise what a base checkpoint lacks
// (score head, LoRA), and allocate the activations. Shared by the CLI (Node files) and the worker (stored files).
import { checkGemmVariants } from '../ops/sgmat_check.ts';
import type { CheckpointMode, ActivationDtype } from './activations.ts';
import type { Gpu } from '../gpu/device.ts';
import type { ByteSource } from '../formats/bytes.ts';
import { locateTensors, parseSafetensorsIndex, type SafetensorsIndex } from '../formats/safetensors.ts';
import { modelDims, parseModelConfigText, withPadTokenId, QWEN3_PAD_TOKEN_ID, type Qwen3Config } from './config.ts';
import { buildParamTable, type LoraSpec, type ModelDims, type StoreDtype } from './params.ts';
import { allocateWeights, initNewParams, loadWeights, type ModelWeights, type TensorSource } from './weights.ts';
import { Qwen3RewardModel } from './qwen3.ts';
import { adapterKeyToHf } from '../formats/peft.ts';
import { checkCheckpointTensors } from './folder_check.ts';

export { checkCheckpointTensors };


export interface ModelFiles {
  /** config.json text. */
  configText: string;
  /** Where config.json came from, for messages (a path in the CLI). Default "config.json". */
  configSource?: string;
  /** model.safetensors, or every shard. */
  weights: ByteSource[];
  /** model.safetensors.index.json text, for sharded checkpoints. */
  indexText?: string;
}

export interface LoadOptions {
  lora: LoraSpec | null;
  training: boolean;
  maxB: number;
  maxT: number;
  gradientCheckpointing: boolean;
  /** Overrides gradientCheckpointing (src/model/activations.ts CheckpointMode). */
  checkpointing?: CheckpointMode;
  /** Storage of the activations saved for the backward (default float32). */
  activationDtype?: ActivationDtype;
  seed: number;
  padId?: number;
  /** Extra tensors (a PEFT adapter's LoRA/score weights) that override or complete the checkpoint. */
  extra?: ByteSource[];
  onProgress?: (done: number, total: number) => void;
}

export interface LoadedModel {
  config: Qwen3Config;
  dims: ModelDims;
  weights: ModelWeights;
  model: Qwen3RewardModel;
  /** Tensors the checkpoint lacked and that were initialised (score.weight, LoRA A/B). */
  initialized: string[];
  /** What the user should know but that does not stop loading (tensors the config does not use). */
  warnings: string[];
}

/** Frozen weights keep the checkpoint's 16-bit dtype (exact), else f32. */
function frozenDtypeOf(dtypes: Set<string>): StoreDtype {
  if (dtypes.size === 1 && dtypes.has('BF16')) return 'bf16';
  if (dtypes.size === 1 && dtypes.has('F16')) return 'f16';
  return 'f32';
}

export async function loadRewardModel(gpu: Gpu, files: ModelFiles, o: LoadOptions): Promise<LoadedModel> {
  await checkGemmVariants(gpu); // once per device: the GEMM's f16 tiles / subgroup matrices only where their self-tests pass
  let config = parseModelConfigText(files.configText, files.configSource ?? 'config.json');
  // nn.Embedding(padding_idx=config.pad_token_id) as Qwen3Model builds it from config.json, before TRL's pad id
  const paddingIdx = config.pad_token_id;
  // TRL: model.config.pad_token_id = tokenizer.pad_token_id (Qwen3: <|endoftext|>)
  if (config.pad_token_id === null || o.padId !== undefined) config = withPadTokenId(config, o.padId ?? QWEN3_PAD_TOKEN_ID);
  const dims = modelDims(config);
  const index: SafetensorsIndex | undefined = files.indexText ? parseSafetensorsIndex(files.indexText) : undefined;
  const located = await locateTensors(files.weights, index);
  const extra = o.extra?.length ? await locateTensors(o.extra) : new Map();
  const linearDtypes = new Set([...located.values()].filter((l) => l.info.shape.length === 2).map((l) => l.info.dtype));
  const maxBlockBytes = Math.min(gpu.device.limits.maxStorageBufferBindingSize, gpu.device.limits.maxBufferSize);
  const table = buildParamTable(dims, { lora: o.lora, frozenDtype: frozenDtypeOf(linearDtypes), maxBlockBytes });
  const listed = new Map([...located].map(([k, l]) => [k, { file: l.source.name, dtype: l.info.dtype, shape: l.info.shape }]));
  const warnings = checkCheckpointTensors(config, table, listed, files.configSource ?? 'config.json');
  const weights = allocateWeights(gpu, table);
  const sources = new Map<string, TensorSource>();
  // An adapter's keys (base_model.model.…) map to the engine's HF names; they override the checkpoint's.
  const renamed = [...extra].map(([k, loc]) => [adapterKeyToHf(k) ?? k, loc] as const);
  for (const [name, loc] of [...located, ...renamed]) {
    if (!['F32', 'F16', 'BF16'].includes(loc.info.dtype)) continue;
    sources.set(name, {
      file: loc.source.name,
      dtype: loc.info.dtype as TensorSource['dtype'],
      shape: loc.info.shape,
      byteLength: loc.info.dataOffsets[1] - loc.info.dataOffsets[0],
      read: async (offset, length) => {
        const start = loc.header.dataStart + loc.info.dataOffsets[0] + offset;
        return loc.source.read(start, length);
      },
    });
  }
  const missing = await loadWeights(gpu, weights, sources, o.onProgress);
  initNewParams(gpu, weights, missing, o.seed);
  const model = new Qwen3RewardModel(gpu, weights, { maxB: o.maxB, maxT: o.maxT, gradientCheckpointing: o.gradientCheckpointing, checkpointing: o.checkpointing, activationDtype: o.activationDtype, training: o.training, paddingIdx });
  return { config, dims, weights, model, initialized: missing, warnings };
}
