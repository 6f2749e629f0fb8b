// The typed message protocol between the studio page (src/ui) and its two Web Workers:
//   data.worker.ts  — Hub downloads into IndexedDB, JSONL import, inspection, tokenization
//   train.worker.ts — the GPU: adapter info, memory plan, training, scoring, evaluation, export
// Every request carries a request id `rid`; every event answering a request carries the same `rid`, so the page
// can show progress and errors where the request was made. Training events (log/eval/progress/checkpoint/done)
// mirror src/train/session.ts's TrainEvent one for one, so the worker forwards them unchanged.
// Everything here is structured-cloneable (File, Uint8Array, plain objects); tokens are never logged or stored.
import type { ActivationDtypeChoice } from '../train/activation_dtype.ts';
import type { DatasetReport } from '../data/inspect.ts';
import type { StepResult } from '../bench/step_bench.ts';
import type { GpuInfo } from '../gpu/device.ts';

export type { DatasetReport };

// ---------------------------------------------------------------------------------------------------------------
// Shared vocabulary

/** Where a thing happened, by studio panel (plus the GPU status area and the worker itself). */
export type Area = 'gpu' | 'model-data' | 'inspect' | 'configure' | 'train' | 'evaluate' | 'export' | 'worker';

/** A model to load: a Hub repo already downloaded into the browser's storage, or the built-in tiny demo model. */
export type ModelRef = { kind: 'hub'; repo: string; revision: string } | { kind: 'demo' };

/** A preference dataset: a downloaded Hub repo, an imported JSONL file (by import id), or the bundled demo set. */
export type DatasetRef =
  | { kind: 'hub'; repo: string; revision: string }
  | { kind: 'import'; id: string }
  | { kind: 'demo' };

export type Split = 'train' | 'test';

/**
 * How an imported file is split: seeded like `datasets`' Dataset.train_test_split (src/data/split.ts: test_size a
 * fraction in (0, 1) or a row count ≥ 1), or the whole file as one split (a file named like "test" is an eval set).
 */
export type ImportSplit = { kind: 'seeded'; test_size: number; seed: number } | { kind: 'whole'; split: Split };

/** An import stored in the browser (IndexedDB): its accepted valid pairs and how they are split. */
export interface StoredImport {
  id: string;
  /** The dropped file's name. */
  name: string;
  createdAt: number;
  format: 'conversational' | 'standard' | 'tokenized';
  /** The rows have an explicit `prompt` column (TRL's explicit-prompt format). */
  explicitPrompt?: boolean;
  pairs: number;
  split: ImportSplit;
  /** Pairs in each split under `split`. */
  splits: { train: number; test: number };
  /** The stored files with their sizes (the pairs as JSONL, the metadata). */
  files: { key: string; path: string; bytes: number }[];
}

/**
 * The tokenizer to use for scoring: a model's (downloaded or demo), or the tokenizer files of a loaded model folder
 * (File handles, read by the data worker on first use and held under `key`).
 */
export type TokenizerRef = ModelRef | { kind: 'files'; key: string; tokenizerJson: File; tokenizerConfig: File };

/** Which model scores in Evaluate & compare: this tab's run (training or finished), or a loaded adapter/model folder. */
export type EvalSource = 'run' | 'loaded';

/** A model folder loaded for evaluation (no training): a PEFT adapter on a base model, or a full reward model. */
export interface LoadedModelInfo {
  /** onnx: an ONNX reward model folder (model.onnx …), scored with onnxruntime-web; base: the selected model with an
   *  untrained score head (Compare's baseline before any run). */
  kind: 'adapter' | 'model' | 'onnx' | 'base';
  /** For an ONNX folder: the onnxruntime-web execution provider in use. */
  provider?: 'wasm' | 'webgpu';
  /** The folder's name (or the first file's). */
  name: string;
  /** For an adapter: the base model it was loaded on. */
  base: ModelRef | null;
  /** LoRA settings of an adapter (r, lora_alpha, target_modules). */
  lora: { r: number; lora_alpha: number; target_modules: string[] } | null;
  /** base: the selected model has a score head of its own (a trained model folder), used instead of a seeded one. */
  trainedHead?: boolean;
  /** Where the tokenizer comes from: the folder's own files, or the base / selected model's. */
  tokenizer: 'folder' | 'base';
  files: string[];
}

/** One chat message (TRL's conversational format). */
export interface Message {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * The trainer configuration as the page holds it: TRL RewardConfig field names (snake_case) with their values,
 * plus the PEFT LoraConfig fields under `lora` (null = full fine-tuning). The worker validates it with
 * src/train/config.ts's parser; the page never trusts its own copy to be valid.
 */
export type ConfigJson = Record<string, unknown>;

export type ExportWhat = 'adapter' | 'model' | 'metrics' | 'onnx';

/** The check of an ONNX export (src/formats/onnx/session.ts VerifyResult). */
export interface OnnxVerify {
  maxAbsDiff: number;
  maxRelDiff: number;
  sequences: number;
  provider: 'wasm' | 'webgpu';
  tolerance: number;
  ok: boolean;
}

/** A file produced by the worker (export, batch scores). `data` is transferred, not copied. */
export interface OutFile {
  name: string;
  data: Uint8Array;
}

export interface StoredFile {
  /** Storage key, e.g. 'model/Qwen/Qwen3-0.6B@main/model.safetensors'. */
  key: string;
  kind: 'model' | 'dataset' | 'import' | 'checkpoint' | 'cache';
  repo: string;
  revision: string;
  path: string;
  bytes: number;
  /** False while a download is partial (it resumes from `bytes`). */
  complete: boolean;
}

export interface ImportError {
  /** 1-based line in the JSONL file. */
  line: number;
  /** The field at fault when one is known ('chosen', 'rejected[1].role', ...). */
  field?: string;
  message: string;
  fix: string;
}

export interface DownloadFileProgress {
  path: string;
  /** Bytes stored so far (including those of an earlier, interrupted download) and the file's size. */
  bytes: number;
  size: number;
  status: 'queued' | 'checking' | 'downloading' | 'verifying' | 'complete' | 'skipped' | 'failed';
  error?: string;
}

export interface DownloadOverall {
  loaded: number;
  total: number;
  filesDone: number;
  filesTotal: number;
  /** Bytes/s recently, and seconds left at that rate (null when unknown). */
  rate: number;
  etaSeconds: number | null;
}

export interface RunSummary {
  id: string;
  createdAt: number;
  /** The user's name for the run (rename in Train), if any. */
  name?: string;
  model: ModelRef;
  dataset: DatasetRef;
  /** The run's own config (TRL names): what Export's TRL script and the run list show. */
  config: ConfigJson;
  /** The data in words: the imported file's name with its split, a Hub repo, or the demo set. */
  dataName: string;
  /** How the run's data is split (an import's seeded split or whole file); null for Hub and demo data. */
  split: ImportSplit | null;
  lastCheckpoint: number | null;
  /** True when lastCheckpoint is a recovery checkpoint (time interval / page hidden), not a save_steps one. */
  lastCheckpointRecovery?: boolean;
  maxSteps: number | null;
  /** 'interrupted': it was running when its tab died (reload, crash); it resumes from its last checkpoint. */
  state: 'running' | 'stopped' | 'done' | 'error' | 'interrupted';
  /** True when it can continue from its last checkpoint: not finished, and its model and data are still stored. */
  resumable: boolean;
  /** True when its last checkpoint can be opened for evaluation and export (its model and data are still stored). */
  openable: boolean;
  /** Why it cannot be resumed or opened, when its data or model is gone. */
  missing?: string;
}

export interface MemoryPlan {
  fits: boolean;
  /** Pairs per micro-batch the engine would use (0 when nothing fits). */
  microPairs: number;
  /** Bytes by purpose: weights, lora, grads, optimizer, activations, workspace. */
  parts: Record<string, number>;
  totalBytes: number;
  /** What this GPU allows (maxBufferSize / an estimate of free memory). */
  limitBytes: number;
  /** When it does not fit: what to change, e.g. 'lower per_device_train_batch_size to 4'. */
  advice: string[];
}

export interface PairScore {
  rewardA: number;
  rewardB: number;
  /** P(A ≻ B) = σ(rA − rB). */
  pAB: number;
  /** rA − rB. */
  margin: number;
}

export interface EvalReport {
  /** The run's global step, or null for a loaded adapter/model folder. */
  step: number | null;
  /** What was scored, in words: the data (file or repo, split) and the model (run and step, or folder). */
  data: string;
  model: string;
  /** The run that was scored (source 'run'). */
  runId: string | null;
  split: Split;
  /** eval_* metrics (TRL names with the eval_ prefix). */
  metrics: Record<string, number>;
  chosenRewards: number[];
  rejectedRewards: number[];
  /** Token lengths of each scored pair's chosen and rejected sequence (same order as the rewards). */
  chosenLengths: number[];
  rejectedLengths: number[];
  /** The data that was scored: the dataset and split, pairs scored and pairs longer than max_length left out. */
  scored: { dataset: DatasetRef; split: Split; scored: number; filtered: number };
}

/** Batch scoring of a pair file: pair metrics and, per pair (file order), both rewards, token lengths and file line. */
export interface BatchPairs {
  metrics: Record<string, number>;
  chosenRewards: number[];
  rejectedRewards: number[];
  chosenLengths: number[];
  rejectedLengths: number[];
  lines: number[];
}

/** Best-of-N accuracy of a RewardBench 2-style file (src/data/best_of_n.ts), with the model that scored it. */
export interface BestOfNResult {
  file: string;
  step: number | null;
  accuracy: number;
  subset_mean_accuracy: number;
  records: number;
  filtered: number;
  subsets: { subset: string; records: number; correct: number; accuracy: number }[];
}

/** Eval pairs whose correctness changed since the previous eval of the same run (src/train/insight.ts). */
export interface EvalFlips {
  /** Pairs compared (the eval set). */
  pairs: number;
  toCorrect: number;
  toIncorrect: number;
  /** The previous eval's step. */
  since: number;
}

export type TrainState = 'idle' | 'loading' | 'running' | 'paused' | 'stopping' | 'stopped' | 'done' | 'error';

// ---------------------------------------------------------------------------------------------------------------
// Requests: page → worker

export type Request =
  // GPU (train worker)
  | { type: 'gpu-info'; rid: number }
  // Hub downloads and storage (data worker)
  | {
      type: 'download';
      rid: number;
      what: 'model' | 'dataset';
      hubUrl: string;
      repo: string;
      revision: string;
      /** Hugging Face token for gated/private repos; held in memory only, never stored by the worker. */
      token?: string;
    }
  | { type: 'cancel'; rid: number; target: number }
  | { type: 'storage-list'; rid: number }
  /**
   * A model folder on disk (its files, paths relative to the folder) checked and copied once into the browser's
   * storage like a Hub download (src/data/local_model.ts); answered with download-done (repo '_local/<folder>').
   */
  | { type: 'import-model-folder'; rid: number; name: string; files: { path: string; file: File }[] }
  | { type: 'storage-delete'; rid: number; keys: string[] }
  // Data (data worker)
  /** Validates a file; a file with no bad line is stored at once (IndexedDB) with its split. */
  | { type: 'import-jsonl'; rid: number; file: File; split: ImportSplit; /** The selected model: its vocab_size checks token ids. */ model?: ModelRef }
  /** Imports the valid lines of a file whose summary listed errors (never a silent partial import). */
  | { type: 'import-accept'; rid: number; id: string; split?: ImportSplit }
  /** Changes the split of a stored import (the pairs stay; cached token ids of the old split no longer apply). */
  | { type: 'import-resplit'; rid: number; id: string; split: ImportSplit }
  /** Deletes a stored import, with its cached token ids. */
  | { type: 'import-delete'; rid: number; id: string }
  | { type: 'inspect'; rid: number; dataset: DatasetRef; model: ModelRef; maxLength: number }
  | { type: 'tokenize'; rid: number; dataset: DatasetRef; model: ModelRef; maxLength: number }
  // Training (train worker)
  /** budgetBytes: the GPU memory the plan may use (the user's setting; WebGPU cannot read the GPU's memory size);
   *  activationDtype: the storage of the saved activations (default auto: float32 when it fits, else float16). */
  | { type: 'plan'; rid: number; config: ConfigJson; model: ModelRef; budgetBytes?: number; activationDtype?: ActivationDtypeChoice }
  /**
   * A new run, or (resume with runId) the stored run continued from its last checkpoint with its own config and
   * memory budget.
   */
  | {
      type: 'train-start'; rid: number; config: ConfigJson; model: ModelRef; dataset: DatasetRef; resume: boolean; runId?: string; budgetBytes?: number;
      activationDtype?: ActivationDtypeChoice;
      /** A new run continuing from a PEFT adapter folder's files (adapter_config.json + adapter_model.safetensors):
       *  its weights are the starting point and its LoRA shape the run's. */
      adapter?: { name: string; files: File[] };
    }
  /** Loads a stored run's last checkpoint without training (to evaluate or export a finished run after a reload). */
  | { type: 'run-open'; rid: number; runId: string }
  /** The runs stored in this browser (to resume one after a reload). */
  | { type: 'runs-list'; rid: number }
  | { type: 'run-delete'; rid: number; runId: string }
  /** The log histories and configs of stored runs (from their last checkpoints), to overlay their curves. */
  | { type: 'runs-history'; rid: number; runIds: string[] }
  | { type: 'train-pause'; rid: number }
  | { type: 'train-resume'; rid: number }
  | { type: 'train-stop'; rid: number }
  /** Write a recovery checkpoint after the step in progress (the page is hidden or closing). */
  | { type: 'train-snapshot'; rid: number }
  /** A stored run's charts (its last checkpoint's log history) and progress, without loading it. */
  | { type: 'run-history'; rid: number; runId: string }
  /** Renames a stored run. */
  | { type: 'run-rename'; rid: number; runId: string; name: string }
  // Scoring and evaluation (train worker)
  /**
   * A model folder for Evaluate & compare: a PEFT adapter (adapter_config.json + adapter_model.safetensors) on
   * `base`, or a full model folder (config.json + model.safetensors or shards [+ tokenizer files]). `base` also
   * gives the tokenizer when the folder has none.
   */
  | { type: 'load-model'; rid: number; files: File[]; name: string; base: ModelRef }
  | { type: 'unload-model'; rid: number }
  /** The selected base model with an untrained (seeded) score head, loaded as the "loaded" source: the baseline. */
  | { type: 'load-base'; rid: number; model: ModelRef; seed: number }
  /** runId (source 'run'): the stored run to score with; its last checkpoint is opened first when another is loaded. */
  | { type: 'score-pair'; rid: number; conversation: Message[]; responseA: string; responseB: string; source?: EvalSource; runId?: string }
  | { type: 'score-batch'; rid: number; file: File; source?: EvalSource; runId?: string }
  /**
   * maxLength: pairs longer than this are not scored (a loaded model; a run uses its own max_length). With source
   * 'run' the run's own dataset is scored, whatever `dataset` says.
   */
  | { type: 'evaluate'; rid: number; dataset: DatasetRef; split: Split; source?: EvalSource; maxLength?: number; runId?: string }
  /** The text of pair `index` of the last eval report, or (from 'batch') of the last scored pair file. */
  | { type: 'eval-pair-text'; rid: number; index: number; from?: 'eval' | 'batch' }
  /** Best-of-N accuracy of a JSONL in RewardBench 2's format (prompt, chosen, rejected as a list, optional subset). */
  | { type: 'best-of-n'; rid: number; file: File; source?: EvalSource; maxLength?: number }
  // Export (train worker; 'export-data' the data worker)
  /** onnx: model.onnx (+ model.onnx_data) with config/tokenizer/README, verified with onnxruntime-web; dtype f32 or f16. */
  | { type: 'export'; rid: number; what: ExportWhat; dtype?: 'bf16' | 'f32' | 'f16'; runId?: string }
  /** A run's data as the JSONL files its TRL script loads (an import's or the demo set's train/test splits). */
  | { type: 'export-data'; rid: number; dataset: DatasetRef }
  /** Commits exported files to a Hub repo (created if missing) with @huggingface/hub; the token stays in memory. */
  | { type: 'push-to-hub'; rid: number; hubUrl: string; token: string; repo: string; files: OutFile[] }
  /** "Benchmark this GPU": the step benchmark of `npm run bench` (src/bench/step_bench.ts), tiny or real dims. */
  | { type: 'benchmark'; rid: number; size: 'tiny' | 'real' };

export type RequestType = Request['type'];

/** Which worker serves each request. */
export const REQUEST_WORKER: Record<RequestType, 'data' | 'train'> = {
  'gpu-info': 'train',
  download: 'data',
  cancel: 'data',
  'storage-list': 'data',
  'import-model-folder': 'data',
  'storage-delete': 'data',
  'import-jsonl': 'data',
  'import-accept': 'data',
  'import-resplit': 'data',
  'import-delete': 'data',
  inspect: 'data',
  tokenize: 'data',
  plan: 'train',
  'train-start': 'train',
  'runs-list': 'train',
  'run-delete': 'train',
  'runs-history': 'train',
  'run-open': 'train',
  'load-model': 'train',
  'unload-model': 'train',
  'load-base': 'train',
  'train-pause': 'train',
  'train-resume': 'train',
  'train-stop': 'train',
  'train-snapshot': 'train',
  'run-rename': 'train',
  'run-history': 'train',
  'export-data': 'data',
  'score-pair': 'train',
  'score-batch': 'train',
  evaluate: 'train',
  'eval-pair-text': 'train',
  'best-of-n': 'train',
  export: 'train',
  'push-to-hub': 'data',
  benchmark: 'train',
};

/** The panel a request belongs to: errors answering it are shown there. */
export const REQUEST_AREA: Record<RequestType, Area> = {
  'gpu-info': 'gpu',
  download: 'model-data',
  cancel: 'model-data',
  'storage-list': 'model-data',
  'import-model-folder': 'model-data',
  'storage-delete': 'model-data',
  'import-jsonl': 'model-data',
  'import-accept': 'model-data',
  'import-resplit': 'model-data',
  'import-delete': 'model-data',
  inspect: 'inspect',
  tokenize: 'train',
  plan: 'configure',
  'train-start': 'train',
  'runs-list': 'train',
  'run-delete': 'train',
  'runs-history': 'train',
  'run-open': 'train',
  'load-model': 'evaluate',
  'unload-model': 'evaluate',
  'load-base': 'evaluate',
  'train-pause': 'train',
  'train-resume': 'train',
  'train-stop': 'train',
  'train-snapshot': 'train',
  'run-rename': 'train',
  'run-history': 'train',
  'export-data': 'export',
  'score-pair': 'evaluate',
  'score-batch': 'evaluate',
  evaluate: 'evaluate',
  'eval-pair-text': 'evaluate',
  'best-of-n': 'evaluate',
  export: 'export',
  'push-to-hub': 'export',
  benchmark: 'gpu',
};

// ---------------------------------------------------------------------------------------------------------------
// Events: worker → page

export type WorkerEvent =
  | { type: 'ready'; worker: 'data' | 'train' }
  | {
      type: 'gpu-info';
      rid: number;
      /** null when WebGPU is missing or no adapter was found; then `message` says how to get it. */
      info: GpuInfo | null;
      message?: string;
    }
  /** Bytes the engine holds on the GPU (weights, optimizer, activations), sent when it changes. */
  | { type: 'gpu-memory'; bytes: number }
  /** A snapshot of every file of the download (sent at most every 150 ms, and at each status change). */
  | {
      type: 'download-progress';
      rid: number;
      repo: string;
      files: DownloadFileProgress[];
      overall: DownloadOverall;
    }
  | { type: 'download-done'; rid: number; what: 'model' | 'dataset'; repo: string; revision: string; files: string[] }
  | { type: 'download-cancelled'; rid: number }
  | { type: 'storage-report'; rid: number; files: StoredFile[]; usage: number | null; quota: number | null }
  | {
      type: 'import-summary';
      rid: number;
      /** Import id to use as DatasetRef { kind: 'import', id }. */
      id: string;
      name: string;
      split: ImportSplit;
      lines: number;
      valid: number;
      format: 'conversational' | 'standard' | 'unknown';
      /** The rows have an explicit `prompt` column. */
      explicitPrompt: boolean;
      /** The first errors (at most 100); `errorCount` is the full count. */
      errors: ImportError[];
      errorCount: number;
      /** Whitespace-only lines skipped (not errors) and valid lines repeating an earlier one. */
      blankLines: number;
      duplicates: number;
      /** Rows TRL trains on that look like mistakes (identical pair, last turn not the assistant's, …): per kind, the
       *  count and the first few 1-based lines. They are imported. */
      warnings: { text: string; count: number; lines: number[] }[];
      /** True when every line was valid: the import is usable at once. Otherwise send import-accept. */
      accepted: boolean;
    }
  /** The import is stored (IndexedDB) with its split: usable for training, inspection and evaluation. */
  | { type: 'import-accepted'; rid: number; id: string; pairs: number; stored: StoredImport }
  /** Every import stored in this browser (sent with each storage report, and after a resplit or delete). */
  | { type: 'imports-stored'; rid: number; imports: StoredImport[] }
  /** src/data/inspect.ts's report (rows, columns, validation, examples, token-length and score histograms). */
  | { type: 'inspect-report'; rid: number; report: DatasetReport }
  /** rid 0: tokenization the train worker asked for (through the port) before a run. */
  | { type: 'tokenize-progress'; rid: number; split: string; done: number; total: number | null; filtered: number }
  /**
   * Token ids ready, per split; cached: read from the tokenized-dataset cache in IndexedDB (no tokenization).
   * rid 0: tokenization the train worker asked for.
   */
  | { type: 'tokenize-done'; rid: number; splits: { split: string; pairs: number; filtered: number; cached: boolean }[] }
  | { type: 'plan'; rid: number; plan: MemoryPlan }
  | { type: 'train-state'; state: TrainState; message?: string; runId?: string }
  | { type: 'runs'; rid: number; runs: RunSummary[] }
  /** Stored runs' log histories (trainer_state.json of the last checkpoint; empty before one) and configs. */
  | { type: 'runs-history'; rid: number; runs: { id: string; createdAt: number; config: ConfigJson; history: Record<string, number>[] }[] }
  /** Replaces the charts' rows (a resumed run's log history from its checkpoint). */
  | { type: 'metrics-history'; rows: { kind: 'train' | 'eval'; step: number; metrics: Record<string, number> }[] }
  // the trainer's own events (src/train/session.ts TrainEvent), forwarded as they are
  | { type: 'log'; step: number; metrics: Record<string, number> }
  | { type: 'eval'; step: number; metrics: Record<string, number>; flipped?: EvalFlips }
  | { type: 'progress'; step: number; max_steps: number; epoch: number; tokens_per_second: number }
  | { type: 'checkpoint'; step: number; name?: string }
  | { type: 'done'; step: number; reason?: 'finished' | 'stopped' }
  /** Something the user should know that does not stop anything (e.g. pairs filtered by max_length). */
  | { type: 'warning'; where: Area; message: string }
  | { type: 'model-loaded'; rid: number; info: LoadedModelInfo }
  | { type: 'model-unloaded'; rid: number }
  | { type: 'score-pair-result'; rid: number; score: PairScore; source: EvalSource }
  | {
      type: 'score-batch-result'; rid: number; rows: number; file: OutFile;
      /** The first invalid lines (line, field, message) and how many there are in all; they were not scored. */
      errors: ImportError[]; errorCount: number;
      /** A file of preference pairs: their metrics (TRL's eval names, no prefix) and per-pair rewards. */
      pairs?: BatchPairs;
    }
  | { type: 'eval-report'; rid: number; report: EvalReport; source: EvalSource }
  | { type: 'eval-pair-text'; rid: number; index: number; chosen: string; rejected: string; from?: 'eval' | 'batch' }
  | { type: 'best-of-n-report'; rid: number; report: BestOfNResult; source: EvalSource }
  /** verify: for an ONNX export, onnxruntime-web's rewards against the engine's. */
  | { type: 'export-files'; rid: number; what: ExportWhat | 'data'; files: OutFile[]; verify?: OnnxVerify }
  | { type: 'push-done'; rid: number; repo: string; commitUrl: string; created: boolean }
  /** One configuration of the step benchmark measured; `done` after the last (or on error). */
  | { type: 'benchmark-row'; rid: number; adapter: string; row: StepResult }
  | { type: 'benchmark-done'; rid: number }
  | {
      type: 'error';
      /** The request this answers, when there is one (training errors after start carry the start's rid). */
      rid?: number;
      where: Area;
      /** What went wrong, naming the place (file, line, field) when there is one. */
      message: string;
      /** What the user can do about it. */
      fix: string;
    };

export type WorkerEventType = WorkerEvent['type'];

// ---------------------------------------------------------------------------------------------------------------
// Between the workers: the page creates a MessageChannel at start and hands one port to each worker
// ({ type: 'connect-port' }). The train worker asks the data worker for token ids over it; the ids travel as
// transferred Int32Arrays, never through the page.

export interface PortControl {
  type: 'connect-port';
  port: MessagePort;
}

/** Dev server and tests only (ignored in a production build): arms src/gpu/flags.ts's fault injection in the train
 *  worker, e.g. `device-lost@step:3` — set from the page's `?faults=` query (src/ui/workers.ts). */
export interface FaultControl {
  type: 'set-faults';
  spec: string;
}

export interface TokenizedPairData {
  chosen_ids: Int32Array;
  rejected_ids: Int32Array;
  margin?: number;
}

export type PortRequest =
  /** The tokenized pairs of one split, filtered by max_length (null = no filter) as TRL does. */
  | { type: 'get-tokenized'; id: number; dataset: DatasetRef; model: TokenizerRef; maxLength: number | null; split: string }
  /** The splits a dataset has (to find the eval split). */
  | { type: 'get-splits'; id: number; dataset: DatasetRef }
  /** Chat-template token ids of whole conversations (scoring: prompt + a response as the final assistant turn). */
  | { type: 'tokenize-chats'; id: number; model: TokenizerRef; chats: Message[][] }
  /**
   * Token ids of every valid record of a score JSONL ({messages} | {text} | {input_ids} per line), or, for a file of
   * TRL preference pairs (chosen/rejected in any TRL format, read by the import's parser), the pairs' token ids.
   */
  | { type: 'tokenize-score-file'; id: number; model: TokenizerRef; file: File }
  /** A best-of-N JSONL: every response of every record tokenized (chosen first, then rejected, record by record). */
  | { type: 'tokenize-best-of-n'; id: number; model: TokenizerRef; file: File }
  /** Token ids back to text (special tokens kept: the text the model scored). */
  | { type: 'decode'; id: number; model: TokenizerRef; ids: Int32Array[] };

/** A port request without its id (the DataPort numbers them). */
export type DistributiveOmitId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type PortReply =
  | { type: 'tokenized'; id: number; pairs: TokenizedPairData[]; total: number; filtered: number; padTokenId: number; cached: boolean }
  | { type: 'splits'; id: number; splits: string[] }
  | {
      type: 'token-ids'; id: number; ids: Int32Array[]; padTokenId: number; lines?: number[]; errors?: ImportError[]; errorCount?: number;
      /** A pair file: its valid pairs tokenized (ids is then empty) and the 1-based file line of each. */
      pairs?: TokenizedPairData[];
    }
  | { type: 'best-of-n-ids'; id: number; records: { place: string; subset: string; chosen: number; rejected: number }[]; ids: Int32Array[] }
  | { type: 'texts'; id: number; texts: string[] }
  | { type: 'port-error'; id: number; where: Area; message: string; fix: string };

// ---------------------------------------------------------------------------------------------------------------
// Helpers used on both sides

/** The folder name of a model stored from a local folder (ModelRef repo '_local/<folder>'), else null. */
export function localModelName(m: ModelRef): string | null {
  return m.kind === 'hub' && m.repo.startsWith('_local/') ? m.repo.slice(7) : null;
}

/** A model in words: the Hub repo id, "folder <name>" for a local folder, or `demo` for the demo model. */
export function modelRefName(m: ModelRef, demo = 'the demo model'): string {
  if (m.kind !== 'hub') return demo;
  const local = localModelName(m);
  return local !== null ? `folder ${local}` : m.repo;
}

/** The model's id for exported files (base_model_name_or_path, READMEs): the repo, a local folder's name, or `demo`. */
export function modelIdOf(m: ModelRef, demo: string): string {
  return m.kind === 'hub' ? (localModelName(m) ?? m.repo) : demo;
}

/** σ(rA − rB) computed without overflow for |rA − rB| in the hundreds. */
export function preferenceProbability(rewardA: number, rewardB: number): number {
  const d = rewardA - rewardB;
  return d >= 0 ? 1 / (1 + Math.exp(-d)) : Math.exp(d) / (1 + Math.exp(d));
}

export function pairScore(rewardA: number, rewardB: number): PairScore {
  return { rewardA, rewardB, pAB: preferenceProbability(rewardA, rewardB), margin: rewardA - rewardB };
}

/** Buffers to transfer (not copy) with an event. */
export function transferablesOf(ev: WorkerEvent): Transferable[] {
  if (ev.type === 'export-files') return ev.files.map((f) => f.data.buffer as ArrayBuffer);
  if (ev.type === 'score-batch-result') return [ev.file.data.buffer as ArrayBuffer];
  return [];
}

/** Turns anything thrown into an `error` event with a fix. Known error classes carry their own advice. */
export function errorEvent(where: Area, err: unknown, rid?: number, fix?: string): WorkerEvent {
  const e = err as { name?: string; message?: string; fix?: string };
  const message = e?.message ?? String(err);
  let advice = fix ?? e?.fix;
  if (!advice) {
    if (e?.name === 'WebGpuUnavailableError') advice = 'Open the studio in Chrome or Edge 113+ from http://localhost.';
    else if (e?.name === 'GpuError' && /out of memory/i.test(message))
      advice = 'Lower per_device_train_batch_size or max_length, or turn LoRA on, then start again.';
    else if (e?.name === 'GpuError') advice = 'Reload the page; training resumes from the last checkpoint.';
    else if (e?.name === 'QuotaExceededError')
      advice = 'The browser storage is full: delete stored files in Model & data, then try again.';
    else advice = 'Check the input named above and try again; if it persists, reload the page.';
  }
  return { type: 'error', rid, where, message, fix: advice };
}
