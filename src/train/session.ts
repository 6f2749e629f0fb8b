// One training session, shared by the CLI (Node) and the studio's worker: load the model for the config (full
// fine-tuning or LoRA), size the micro-batch from the memory plan, build the Trainer, and offer scoring and
// export on the same weights.
import { checkContinued } from './continue.ts';
import type { ByteSource } from '../formats/bytes.ts';
import type { Gpu } from '../gpu/device.ts';
import { loadRewardModel, type LoadedModel, type ModelFiles } from '../model/load.ts';
import { fitMicroBatch, memoryPlan, type MemoryPlan, type MemoryPlanInput } from '../model/plan.ts';
import { ACTIVATION_DTYPES, CHECKPOINT_MODES, type ActivationDtype, type CheckpointMode } from '../model/activations.ts';
import { LINEAR_NAMES, type LoraSpec, type ModelDims } from '../model/params.ts';
import { type TuneStore, autotuneGemm, modelGemmShapes } from '../ops/matmul_tune.ts';
import { parseModelConfigText, modelDims, withPadTokenId, QWEN3_PAD_TOKEN_ID } from '../model/config.ts';
import { effectiveLoraDropout, type RewardConfig } from './config.ts';
import { bucketLength, filterByLength, type TokenizedPair } from './batches.ts';
import { Trainer, scoreSequences, type TrainEvent } from './trainer.ts';
import type { CheckpointStore } from './checkpoint.ts';
import { exportAdapter, exportModel, type ExportedFile } from './export.ts';
import type { ExportDtype } from '../formats/hf_model.ts';
import { exportOnnx, type OnnxExportOptions, type OnnxExportResult } from './export_onnx.ts';
import type { AdapterConfig } from '../formats/peft.ts';
import { UserError } from '../util/user_error.ts';
import type { ActivationDtypeChoice } from './activation_dtype.ts';

/** Default GPU memory budget when the user gives none: WebGPU cannot query VRAM. */
export const DEFAULT_GPU_MEMORY_BYTES = 8 * 2 ** 30;

export function loraSpecOf(c: RewardConfig): LoraSpec | null {
  if (!c.peft) return null;
  return {
    r: c.peft.r, alpha: c.peft.lora_alpha, dropout: effectiveLoraDropout(c),
    targets: LINEAR_NAMES.filter((n) => c.peft!.target_modules.includes(n)), useRslora: c.peft.use_rslora,
  };
}

/** The LoRA spec of a saved PEFT adapter (inference: no dropout). */
export function loraSpecOfAdapter(ac: AdapterConfig): LoraSpec {
  return { r: ac.lora.r, alpha: ac.lora.lora_alpha, dropout: 0, targets: LINEAR_NAMES.filter((n) => ac.lora.target_modules.includes(n)), useRslora: ac.lora.use_rslora };
}

export interface PlanRequest {
  dims: ModelDims;
  config: RewardConfig;
  maxLength: number;
  budgetBytes: number;
  maxBufferBytes: number;
  /** 16-bit frozen weights (bf16 checkpoints) or f32. */
  frozenDtype: 'f32' | 'bf16' | 'f16';
  /** Storage of the saved activations: a fixed one, or 'auto' (default): the plan's choice (chooseCheckpointing). */
  activationDtype?: ActivationDtypeChoice;
}

export { ACTIVATION_DTYPE_CHOICES, type ActivationDtypeChoice } from './activation_dtype.ts';

/** The (checkpointing mode, activation storage) pairs a config allows, in the order of preference: the checkpointing
 *  modes least recompute first (checkpointingCandidates), each with float32 storage before float16 ('auto'), or
 *  only the fixed storage. float16 changes nothing with 'full' checkpointing (only the residual stream is kept). */
export function memoryCandidates(c: Pick<RewardConfig, 'gradient_checkpointing'>, dtype: ActivationDtypeChoice = 'auto'): { mode: CheckpointMode; activationDtype: ActivationDtype }[] {
  const dtypes: readonly ActivationDtype[] = dtype === 'auto' ? ACTIVATION_DTYPES : [dtype];
  return checkpointingCandidates(c).flatMap((mode) =>
    (mode === 'full' ? dtypes.slice(0, 1) : dtypes).map((activationDtype) => ({ mode, activationDtype })));
}

/** The checkpointing modes a config allows, least recompute first: gradient_checkpointing true → full, false →
 *  none (the user's explicit choice is kept), null (not set) → every mode. */
export function checkpointingCandidates(c: Pick<RewardConfig, 'gradient_checkpointing'>): CheckpointMode[] {
  return c.gradient_checkpointing === true ? ['full'] : c.gradient_checkpointing === false ? ['none'] : [...CHECKPOINT_MODES];
}

/**
 * The checkpointing mode, activation storage and micro-batch: the largest micro-batch (≤ per_device_train_batch_size)
 * any allowed pair fits, and among the pairs reaching it the first of memoryCandidates: no checkpointing whenever
 * the whole micro-batch fits (with float32 storage if it fits, else float16), then selective, selective_mlp, full.
 * microPairs 0: nothing fits.
 */
export function chooseCheckpointing(base: Omit<MemoryPlanInput, 'microPairs' | 'checkpointing' | 'activationDtype'>, c: Pick<RewardConfig, 'gradient_checkpointing'>, batch: number, budgetBytes: number, maxBufferBytes: number, dtype: ActivationDtypeChoice = 'auto'): { mode: CheckpointMode; activationDtype: ActivationDtype; microPairs: number } {
  const cands = memoryCandidates(c, dtype);
  let best = { ...cands[cands.length - 1], microPairs: 0 };
  for (const cand of cands) {
    const p = fitMicroBatch({ ...base, checkpointing: cand.mode, activationDtype: cand.activationDtype }, batch, budgetBytes, maxBufferBytes);
    if (p > best.microPairs) best = { ...cand, microPairs: p };
    if (p === batch) break;
  }
  return best;
}

/** The memory plan, micro-batch and checkpointing mode for a config; throws a message with what to change when
 *  nothing fits. */
export function planRun(r: PlanRequest): { microPairs: number; plan: MemoryPlan; checkpointing: CheckpointMode; activationDtype: ActivationDtype } {
  const base = {
    dims: r.dims, lora: loraSpecOf(r.config), frozenDtype: r.frozenDtype, maxLength: r.maxLength,
    gradientCheckpointing: r.config.gradient_checkpointing === true, maxBlockBytes: r.maxBufferBytes,
  };
  const { mode, activationDtype, microPairs } = chooseCheckpointing(base, r.config, r.config.per_device_train_batch_size, r.budgetBytes, r.maxBufferBytes, r.activationDtype);
  if (microPairs === 0) {
    const one = memoryPlan({ ...base, microPairs: 1, checkpointing: mode, activationDtype });
    throw new Error(
      `this run needs ${(one.total / 2 ** 30).toFixed(2)} GiB of GPU memory even with one pair per micro-batch, more than the ` +
        `${(r.budgetBytes / 2 ** 30).toFixed(2)} GiB budget. Use LoRA (a "peft" config), ` +
        `${r.config.gradient_checkpointing === false ? 'turn on gradient_checkpointing (or leave it unset), ' : ''}lower max_length, ` +
        'or raise the GPU memory setting if your GPU has more.',
    );
  }
  const plan = memoryPlan({ ...base, microPairs, checkpointing: mode, activationDtype });
  return { microPairs, checkpointing: mode, activationDtype: plan.activation_dtype, plan };
}

/** transformers' Trainer refuses an eval_strategy other than "no" without an eval dataset; so do we (`how` says how
 *  this front end passes one: "--eval FILE", "a test split"). */
export function checkEvalData(c: RewardConfig, hasEval: boolean, how: string): void {
  if (c.eval_strategy !== 'no' && !hasEval) {
    throw new UserError(`eval_strategy is "${c.eval_strategy}" but there is no eval data: pass ${how}, or set eval_strategy to "no" (transformers' Trainer refuses this too)`);
  }
}

/** The token ids every pair brings are inside the model (vocabulary, positions): the last guard before the GPU, for
 *  ids from any source (a file, the studio's tokenized cache). `what` names the set in the message. */
export function checkTokenIds(pairs: TokenizedPair[], V: number, maxPositions: number, what: string): void {
  for (let i = 0; i < pairs.length; i++) {
    for (const [field, ids] of [['chosen_ids', pairs[i].chosen_ids], ['rejected_ids', pairs[i].rejected_ids]] as const) {
      if (ids.length > maxPositions) {
        throw new UserError(`${what} pair ${i + 1}: ${field} has ${ids.length} tokens, more than the model's max_position_embeddings ${maxPositions}; set max_length to at most ${maxPositions}`);
      }
      for (let j = 0; j < ids.length; j++) {
        if (!(ids[j] >= 0 && ids[j] < V)) {
          throw new UserError(`${what} pair ${i + 1}: ${field}[${j}] is ${ids[j]}, outside the model's vocabulary (vocab_size ${V}); tokenize the data with this model's tokenizer`);
        }
      }
    }
  }
}

export interface SessionOptions {
  gpu: Gpu;
  files: ModelFiles;
  config: RewardConfig;
  train: TokenizedPair[];
  eval?: TokenizedPair[];
  checkpoints?: CheckpointStore;
  budgetBytes?: number;
  /** Storage of the saved activations (default 'auto': the memory plan's choice). */
  activationDtype?: ActivationDtypeChoice;
  baseModel?: string | null;
  /** Recovery checkpoints at most this often (ms) and on request (the studio); undefined: none. */
  recoveryEveryMs?: number;
  /** Tensors to start from instead of fresh initialization (a PEFT adapter's safetensors: continue training). */
  init?: ByteSource[];
  /** The tokenizer's pad token id, which TRL writes into config.pad_token_id (default: config.json's, else Qwen3's). */
  padTokenId?: number;
  onEvent: (e: TrainEvent) => void;
  onLoadProgress?: (done: number, total: number) => void;
  /** Where the GEMM autotuner keeps its choices (IndexedDB in the worker, a JSON file in the CLI); absent: memory. */
  gemmTuneStore?: TuneStore;
}

export interface TrainSession {
  loaded: LoadedModel;
  trainer: Trainer;
  microPairs: number;
  plan: MemoryPlan;
  filtered: { train: number; eval: number };
  score(seqs: ArrayLike<number>[]): Promise<Float32Array>;
  exportAdapter(): Promise<ExportedFile[]>;
  exportModel(dtype: ExportDtype): Promise<ExportedFile[]>;
  /** The ONNX graph of the model (LoRA merged) into `o.sink`; config.json text in the result. */
  exportOnnx(o: Omit<OnnxExportOptions, 'baseModel'>): Promise<OnnxExportResult>;
  /** Pairs to verify an export on: the first eval pairs (else train pairs), at most 16. */
  verifyPairs: TokenizedPair[];
  destroy(): void;
}

export async function createSession(o: SessionOptions): Promise<TrainSession> {
  const c = o.config;
  const maxLength = c.max_length ?? Infinity;
  const train = filterByLength(o.train, maxLength);
  const evalSet = filterByLength(o.eval ?? [], maxLength);
  let longest = 1;
  for (const p of [...train.kept, ...evalSet.kept]) longest = Math.max(longest, p.chosen_ids.length, p.rejected_ids.length);
  const maxT = bucketLength(longest, Number.isFinite(maxLength) ? Math.max(longest, maxLength) : longest);

  const parsed = parseModelConfigText(o.files.configText, o.files.configSource);
  const cfg = withPadTokenId(parsed, o.padTokenId ?? parsed.pad_token_id ?? QWEN3_PAD_TOKEN_ID);
  const dims = modelDims(cfg);
  checkEvalData(c, (o.eval?.length ?? 0) > 0, 'eval data (a test split)');
  if (train.kept.length === 0) {
    throw new UserError(train.filtered > 0
      ? `all ${train.filtered} training pairs are longer than max_length ${c.max_length} tokens; raise max_length`
      : 'the training set has no pairs');
  }
  checkTokenIds(train.kept, cfg.vocab_size, cfg.max_position_embeddings, 'training');
  checkTokenIds(evalSet.kept, cfg.vocab_size, cfg.max_position_embeddings, 'eval');
  const limits = o.gpu.device.limits;
  const { microPairs, plan, checkpointing, activationDtype } = planRun({
    dims, config: c, maxLength: maxT, budgetBytes: o.budgetBytes ?? DEFAULT_GPU_MEMORY_BYTES,
    maxBufferBytes: Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize), frozenDtype: 'bf16',
    activationDtype: o.activationDtype,
  });
  const loaded = await loadRewardModel(o.gpu, o.files, {
    lora: loraSpecOf(c), training: true, maxB: 2 * microPairs, maxT, gradientCheckpointing: checkpointing === 'full', checkpointing, activationDtype,
    seed: c.seed, padId: o.padTokenId, onProgress: o.onLoadProgress, ...(o.init?.length ? { extra: o.init } : {}),
  });
  // First use of these product shapes on this adapter: pick the GEMM tiles (cached per adapter; no-op on CPU).
  const frozen = loaded.weights.table.frozen.find((e) => e.dtype !== 'f32')?.dtype ?? 'f32';
  await autotuneGemm(o.gpu, modelGemmShapes(dims, 2 * microPairs * maxT, c.peft ? frozen : null), { store: o.gemmTuneStore });
  if (o.init?.length) {
    try {
      checkContinued(loaded.initialized, o.init.map((s) => s.name).join(', '));
    } catch (e) {
      loaded.model.destroy();
      throw e;
    }
  }
  const trainer = new Trainer({
    gpu: o.gpu, model: loaded.model, weights: loaded.weights, train: train.kept, eval: evalSet.kept, config: c,
    microPairs, checkpoints: o.checkpoints, recoveryEveryMs: o.recoveryEveryMs, onEvent: o.onEvent,
  });
  return {
    loaded, trainer, microPairs, plan,
    filtered: { train: train.filtered, eval: evalSet.filtered },
    score: (seqs) => scoreSequences(o.gpu, loaded.model, seqs),
    exportAdapter: () => {
      if (!c.peft) throw new Error('this run is a full fine-tune: export the model instead of an adapter');
      return exportAdapter(o.gpu, loaded.weights, c.peft, o.baseModel ?? null);
    },
    exportModel: (dtype) => exportModel(o.gpu, loaded.weights, loaded.config, dtype, o.baseModel ?? null),
    exportOnnx: (x) => exportOnnx(o.gpu, loaded.weights, loaded.config, { ...x, baseModel: o.baseModel ?? null }),
    verifyPairs: (evalSet.kept.length ? evalSet.kept : train.kept).slice(0, 16),
    destroy: () => {
      trainer.destroy();
      loaded.model.destroy();
    },
  };
}
