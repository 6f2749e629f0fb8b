// The train worker's logic, separate from the worker globals so Node tests can drive it. It owns the GPU device
// (requested once through src/gpu/device.ts) and the training session of this tab (src/train/session.ts): memory
// plan within the user's GPU memory budget, start / pause / resume / stop with checkpoints in IndexedDB (a reload
// resumes), opening a stored run's last checkpoint, and export on the session's weights. Evaluate & compare (the
// run's model or a loaded adapter/model folder) is eval_handler.ts. Token ids come from the data worker over the
// port (data_port.ts).
import { checkGemmVariants } from '../ops/sgmat_check.ts';
import type { CheckpointMode } from '../model/activations.ts';
import { idbTuneStore } from '../ops/matmul_tune.ts';
import type { ByteSource } from '../formats/bytes.ts';
import { adapterToContinue } from './continue_files.ts';
import { describeGpu, requestGpu, type Gpu } from '../gpu/device.ts';
import { flags, setFlags } from '../gpu/flags.ts';
import { benchStep, stepConfigs, QWEN3_0_6B_DIMS, TINY_DIMS } from '../bench/step_bench.ts';
import { ConfigError } from '../formats/fields.ts';
import { modelDims, parseModelConfigText, withPadTokenId } from '../model/config.ts';
import { hubFileKey, hubRepoPrefix, openStoredFile, type FileStore } from '../data/storage.ts';
import { exportOnnxFiles } from './onnx_export.ts';
import { parseRewardConfig, type RewardConfig } from '../train/config.ts';
import { ACTIVATION_DTYPE_CHOICES, createSession, DEFAULT_GPU_MEMORY_BYTES, planRun, type ActivationDtypeChoice, type TrainSession } from '../train/session.ts';
import type { TrainEvent } from '../train/trainer.ts';
import type { TokenizedPair } from '../train/batches.ts';
import type { RunRecord, RunStore } from './checkpoint_idb.ts';
import type { DataPort } from './data_port.ts';
import { createEvalHandler, type RunSessionInfo } from './eval_handler.ts';
import { readImportMeta } from './imports.ts';
import { modelFiles } from './model_files.ts';
import { DEMO_MODEL_NAME } from './demo_model.ts';
import {
  errorEvent, modelIdOf, modelRefName, type Area, type DatasetRef, type MemoryPlan, type ModelRef, type OutFile, type Request, type RunSummary, type TrainState, type WorkerEvent,
} from './protocol.ts';

export interface TrainHandlerDeps {
  post: (ev: WorkerEvent) => void;
  /** navigator.gpu of the worker (undefined where WebGPU is missing). */
  gpuApi: GPU | undefined;
  openStore?: () => Promise<FileStore>;
  openRuns?: () => Promise<RunStore>;
  /** The port to the data worker (set once the page connected it). */
  dataPort?: () => DataPort | null;
  /** GPU memory the plan may use when a request names none (WebGPU cannot query VRAM). */
  budgetBytes?: number;
  /** Recovery checkpoints at most this often while training (default RECOVERY_INTERVAL_MS), and on train-snapshot. */
  recoveryIntervalMs?: number;
  /** The demo model's tokenizer files (tokenizer.json, tokenizer_config.json), for an ONNX export's folder. */
  demoTokenizerFiles?: () => Promise<OutFile[]>;
}

/** Tokenizer files an exported model folder carries (those the model has). */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'chat_template.jinja', 'vocab.json', 'merges.txt', 'special_tokens_map.json', 'added_tokens.json', 'generation_config.json'];

/** The largest buffer a plan assumes without WebGPU (a typical desktop GPU's maxStorageBufferBindingSize). */
const NO_GPU_MAX_BUFFER_BYTES = 2 ** 30;

/** A run's recovery checkpoint interval: a reload loses at most this much training when save_steps did not come. */
export const RECOVERY_INTERVAL_MS = 60_000;

/** A user-facing problem with what was asked (message says what, fix says what to do). */
class UserError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

function parseConfigOrExplain(json: unknown): RewardConfig {
  try {
    return parseRewardConfig(json);
  } catch (e) {
    if (e instanceof ConfigError) throw new UserError(`The config is not valid: ${e.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}.`, 'Fix the fields named in Configure (Advanced), then start again.');
    throw e;
  }
}

/** The activation storage setting of a request (a message from the page: checked like any input). */
function checkActivationDtype(v: unknown): ActivationDtypeChoice {
  if (v === undefined) return 'auto';
  if (!(ACTIVATION_DTYPE_CHOICES as readonly unknown[]).includes(v)) throw new UserError(`Activation storage "${String(v)}" is not one of ${ACTIVATION_DTYPE_CHOICES.join(', ')}.`, 'Pick auto, float32 or float16 in Configure → Memory plan.');
  return v as ActivationDtypeChoice;
}

function checkBudget(bytes: number | undefined, fallback: number): number {
  if (bytes === undefined) return fallback;
  if (!Number.isFinite(bytes) || bytes < 2 ** 20) throw new UserError(`The GPU memory budget of ${bytes} bytes is not usable.`, 'Set "GPU memory budget (GiB)" in Configure to your GPU\'s memory, e.g. 8.');
  return bytes;
}

/** A log_history entry is an eval row when it carries eval_ metrics. */
function historyRows(history: Record<string, number>[]): { kind: 'train' | 'eval'; step: number; metrics: Record<string, number> }[] {
  return history.map((h) => ({ kind: Object.keys(h).some((k) => k.startsWith('eval_')) ? 'eval' : 'train', step: h.step, metrics: h }));
}

export function createTrainHandler(deps: TrainHandlerDeps): (req: Request) => Promise<void> {
  const { post, gpuApi } = deps;
  const defaultBudget = deps.budgetBytes ?? DEFAULT_GPU_MEMORY_BYTES;
  let gpuPromise: Promise<Gpu> | null = null;
  let storePromise: Promise<FileStore> | null = null;
  let runsPromise: Promise<RunStore> | null = null;
  const run: { session: TrainSession | null; state: TrainState; runId: string | null; name: string | null; model: ModelRef | null; dataset: DatasetRef | null; rid: number } = {
    session: null, state: 'idle', runId: null, name: null, model: null, dataset: null, rid: 0,
  };

  const getGpu = () => {
    if (!gpuPromise) {
      gpuPromise = requestGpu(gpuApi, {
        onLost: (err) => {
          // the next request (Resume in Stored runs) asks for a new device
          gpuPromise = null;
          post(errorEvent('gpu', err, undefined, 'Resume the run in Train → Stored runs: a new GPU device is requested and training continues from its last checkpoint.'));
        },
      });
      // a failed request may be retried later (e.g. after the user enabled WebGPU)
      gpuPromise.catch(() => (gpuPromise = null));
    }
    return gpuPromise;
  };
  const getStore = async () => (deps.openStore ? (storePromise ??= deps.openStore()) : null);
  const getRuns = async () => (deps.openRuns ? (runsPromise ??= deps.openRuns()) : null);
  const port = (): DataPort => {
    const p = deps.dataPort?.();
    if (!p) throw new UserError('The data worker is not connected to the train worker.', 'Reload the page.');
    return p;
  };
  const setState = (state: TrainState, message?: string) => {
    run.state = state;
    post({ type: 'train-state', state, ...(message ? { message } : {}), ...(run.runId ? { runId: run.runId } : {}) });
  };
  const fail = (rid: number | undefined, where: Area, e: unknown) => {
    const fix = (e as { fix?: string })?.fix ??
      ((e as Error)?.name === 'DeviceLostError' ? 'Press Resume in Stored runs below: the studio requests a new GPU device and continues from the last checkpoint.' : undefined);
    post(errorEvent(where, e, rid, fix));
  };
  const busy = () => run.state === 'running' || run.state === 'loading' || run.state === 'stopping';

  /** The data in words: the imported file's name, a Hub repo, or the demo set. */
  const describeData = async (ref: DatasetRef): Promise<string> => {
    if (ref.kind === 'demo') return 'the demo preference set';
    if (ref.kind === 'hub') return `${ref.repo}@${ref.revision}`;
    const store = await getStore();
    const meta = store ? await readImportMeta(store, ref.id) : null;
    return meta ? meta.name : 'an imported file (deleted)';
  };
  const describeModel = (m: ModelRef) => modelRefName(m);

  const needSession = async (rid: number, where: Area, runId?: string): Promise<RunSessionInfo | null> => {
    // another stored run was asked for (the run selected in Train): open its last checkpoint first
    if (runId && runId !== run.runId && !busy() && run.state !== 'paused') {
      const found = await (await getRuns())?.getRun(runId);
      if (found && found.lastCheckpoint !== null) await openRun({ type: 'run-open', rid, runId });
    }
    if (!run.session || !run.model) {
      post({ type: 'error', rid, where, message: 'No model is loaded in this tab yet.', fix: 'Start a run in Train, or open a stored run there (or load an adapter/model folder in Evaluate & compare).' });
      return null;
    }
    if (busy()) {
      post({ type: 'error', rid, where, message: 'The model is busy training.', fix: 'Pause the run (or wait until it finishes), then try again.' });
      return null;
    }
    const step = run.session.trainer.state.global_step;
    return {
      session: run.session, model: run.model, dataset: run.dataset!, runId: run.runId!,
      modelName: `${describeModel(run.model)} trained by run ${run.name ?? run.runId} (step ${step})`,
    };
  };
  const tokenizerFilesOf = async (model: ModelRef): Promise<OutFile[]> => {
    if (model.kind === 'demo') return (await deps.demoTokenizerFiles?.()) ?? [];
    const store = await getStore();
    const out: OutFile[] = [];
    for (const name of TOKENIZER_FILES) {
      const key = hubFileKey('model', model.repo, model.revision, name);
      if (!store || !(await store.stat(key))) continue;
      const src = await openStoredFile(store, key);
      out.push({ name, data: await src.read(0, src.size) });
    }
    return out;
  };
  const evaluation = createEvalHandler({ post, getGpu, getStore, port, fail, needSession, describeData });

  /** The splits to train and evaluate on: 'train' (or the first), and 'test' / 'validation' when present. */
  const splitsOf = async (dataset: DatasetRef) => {
    const { splits } = await port().request({ type: 'get-splits', dataset }, 'splits');
    if (splits.length === 0) throw new UserError('The dataset has no splits with preference pairs.', 'Choose another dataset in Model & data.');
    const train = splits.includes('train') ? 'train' : splits[0];
    const evalSplit = ['test', 'validation', 'eval'].find((s) => splits.includes(s) && s !== train) ?? null;
    return { train, eval: evalSplit };
  };
  const tokenized = async (dataset: DatasetRef, model: ModelRef, maxLength: number | null, split: string) =>
    port().request({ type: 'get-tokenized', dataset, model, maxLength, split }, 'tokenized');

  const CHECKPOINTING_ADVICE: Record<CheckpointMode, string> = {
    none: 'Checkpointing: none (every activation kept, no recompute).',
    selective: 'Checkpointing: selective (norms, q/k norm + RoPE and SwiGLU recomputed in the backward).',
    selective_mlp: 'Checkpointing: selective + MLP (also the gate|up product recomputed in the backward).',
    full: 'Checkpointing: full (every layer\'s forward recomputed in the backward).',
  };
  const plan = async (req: Extract<Request, { type: 'plan' }>): Promise<MemoryPlan> => {
    const config = parseConfigOrExplain(req.config);
    const budget = checkBudget(req.budgetBytes, defaultBudget);
    // without WebGPU the plan still works, with a typical desktop GPU's buffer limit instead of this one's
    const gpu = await getGpu().catch(() => null);
    const files = await modelFiles(req.model, await getStore());
    const dims = modelDims(withPadTokenId(parseModelConfigText(files.configText, files.configSource)));
    const maxBufferBytes = gpu ? Math.min(gpu.device.limits.maxBufferSize, gpu.device.limits.maxStorageBufferBindingSize) : NO_GPU_MAX_BUFFER_BYTES;
    try {
      const setting = checkActivationDtype(req.activationDtype);
      const { microPairs, plan: p, checkpointing, activationDtype } = planRun({ dims, config, maxLength: config.max_length ?? 1024, budgetBytes: budget, maxBufferBytes, frozenDtype: 'bf16', activationDtype: setting });
      const advice: string[] = [CHECKPOINTING_ADVICE[checkpointing] + (config.gradient_checkpointing === null ? ' (gradient_checkpointing auto: the least recompute that fits)' : '')];
      if (activationDtype === 'float16') {
        advice.push(`Saved activations stored as float16 (half the memory; the math stays f32, gradients move by ~1e-3 relative)${setting === 'auto' ? ': float32 storage does not fit this budget without more recompute.' : ' (your setting).'}`);
      }
      if (microPairs < config.per_device_train_batch_size) advice.push(`Each batch of ${config.per_device_train_batch_size} pairs runs as micro-batches of ${microPairs} pairs (same result, more passes).`);
      return {
        fits: true,
        microPairs,
        parts: { 'frozen weights': p.weights_frozen, 'trainable weights': p.weights_trainable, gradients: p.gradients, 'AdamW moments': p.optimizer, activations: p.activations, workspace: p.workspace },
        totalBytes: p.total,
        limitBytes: budget,
        advice: [...advice, `Budget: ${(budget / 2 ** 30).toFixed(budget % 2 ** 30 ? 1 : 0)} GiB (your setting: WebGPU cannot read the GPU's memory size); largest buffer ${(p.largest_buffer / 2 ** 20).toFixed(0)} MiB of ${(maxBufferBytes / 2 ** 20).toFixed(0)} MiB allowed${gpu ? '' : ' (no WebGPU here: a typical desktop GPU\'s limit)'}.`],
      };
    } catch (e) {
      return { fits: false, microPairs: 0, parts: {}, totalBytes: 0, limitBytes: budget, advice: [(e as Error).message] };
    }
  };

  /**
   * Loads the run's model and data into a new session: fresh ('new'), continued from its last checkpoint
   * ('resume'), or its last checkpoint opened without training ('open').
   */
  const openSession = async (record: RunRecord, mode: 'new' | 'resume' | 'open', rid: number, init: ByteSource[] = []): Promise<TrainSession> => {
    const config = parseConfigOrExplain(record.config);
    run.runId = record.id;
    run.rid = rid;
    setState('loading');
    const runs = await getRuns();
    const gpu = await getGpu();
    const { train: trainSplit, eval: evalSplit } = await splitsOf(record.dataset);
    const train = await tokenized(record.dataset, record.model, config.max_length, trainSplit);
    const evalSet = evalSplit ? await tokenized(record.dataset, record.model, config.max_length, evalSplit) : null;
    if (train.filtered > 0 && mode !== 'open') post({ type: 'warning', where: 'train', message: `${train.filtered} of ${train.total} training pairs are longer than max_length ${config.max_length} and were left out (as TRL does).` });
    if (train.pairs.length === 0) throw new UserError(`Every training pair is longer than max_length ${config.max_length}.`, 'Raise max_length in Configure, or use shorter data.');
    const files = await modelFiles(record.model, await getStore());
    run.session?.destroy();
    run.session = null;
    run.model = record.model;
    run.dataset = record.dataset;
    run.name = record.name ?? null;
    const onEvent = (e: TrainEvent) => {
      if (e.type === 'warning') post({ type: 'warning', where: 'train', message: e.message });
      else post(e);
    };
    const session = await createSession({
      gpu,
      files,
      config,
      train: train.pairs as TokenizedPair[],
      eval: evalSet?.pairs as TokenizedPair[] | undefined,
      checkpoints: runs?.checkpoints(record.id),
      budgetBytes: record.budgetBytes ?? defaultBudget,
      activationDtype: record.activationDtype ?? 'auto',
      gemmTuneStore: typeof indexedDB !== 'undefined' ? idbTuneStore() : undefined,
      baseModel: modelIdOf(record.model, DEMO_MODEL_NAME),
      // 'open' only evaluates and exports: no recovery checkpoints
      recoveryEveryMs: mode === 'open' ? undefined : (deps.recoveryIntervalMs ?? RECOVERY_INTERVAL_MS),
      onEvent,
      ...(init.length ? { init } : {}),
    });
    run.session = session;
    post({ type: 'gpu-memory', bytes: session.plan.total });
    record.maxSteps = session.trainer.maxSteps;
    await runs?.putRun(record);
    if (mode === 'new') {
      post({ type: 'metrics-history', rows: [] });
      return session;
    }
    const names = runs ? await runs.checkpoints(record.id).list() : [];
    if (names.length) {
      await session.trainer.resumeFrom(names[names.length - 1]);
      post({ type: 'metrics-history', rows: historyRows(session.trainer.state.log_history) });
    } else if (mode === 'open') {
      throw new UserError('This run has no checkpoint to open.', 'Resume it (it starts from step 0) or start a new run.');
    }
    return session;
  };

  const start = async (req: Extract<Request, { type: 'train-start' }>) => {
    if (run.state === 'running' || run.state === 'loading' || run.state === 'paused' || run.state === 'stopping') {
      throw new UserError('A run is already in progress in this tab.', 'Stop it first, then start again.');
    }
    const runs = await getRuns();
    let record: RunRecord;
    if (req.resume && req.runId) {
      const found = await runs?.getRun(req.runId);
      if (!found) throw new UserError('That stored run no longer exists.', 'Start a new run.');
      record = { ...found, state: 'running' };
    } else {
      record = {
        id: `run-${Date.now().toString(36)}`, createdAt: Date.now(), config: req.config, model: req.model, dataset: req.dataset,
        lastCheckpoint: null, maxSteps: null, state: 'running', budgetBytes: checkBudget(req.budgetBytes, defaultBudget),
        activationDtype: checkActivationDtype(req.activationDtype),
      };
    }
    let init: ByteSource[] = [];
    if (req.adapter && !req.resume) {
      const c = await adapterToContinue(req.adapter.files, record.config);
      record.config = c.config;
      init = c.init;
      record.continuedFrom = req.adapter.name;
      const modelName = modelIdOf(record.model, DEMO_MODEL_NAME);
      if (c.trainedOn && c.trainedOn !== modelName) post({ type: 'warning', where: 'train', message: `The adapter was trained on ${c.trainedOn}; this run continues it on ${modelName}.` });
    }
    const session = await openSession(record, req.resume ? 'resume' : 'new', req.rid, init);
    setState('running');
    try {
      await session.trainer.run();
      const stopped = (run.state as TrainState) === 'stopping'; // set by train-stop while run() was going
      setState(stopped ? 'stopped' : 'done');
      await runs?.updateRun(record.id, { state: stopped ? 'stopped' : 'done' });
    } catch (e) {
      await runs?.updateRun(record.id, { state: 'error' }).catch(() => undefined);
      throw e;
    }
  };

  /** Opens a stored run's last checkpoint for evaluation and export (no training). */
  const openRun = async (req: Extract<Request, { type: 'run-open' }>) => {
    if (busy() || run.state === 'paused') throw new UserError('A run is in progress in this tab.', 'Stop it first, then open the stored run.');
    const found = await (await getRuns())?.getRun(req.runId);
    if (!found) throw new UserError('That stored run no longer exists.', 'Refresh the list of stored runs.');
    const session = await openSession({ ...found }, 'open', req.rid);
    const s = session.trainer.state;
    post({ type: 'progress', step: s.global_step, max_steps: session.trainer.maxSteps, epoch: s.epoch, tokens_per_second: 0 });
    post({ type: 'checkpoint', step: s.global_step });
    setState(found.state === 'done' ? 'done' : 'stopped');
  };

  /** Why a stored run cannot continue or be opened (its data or model was deleted), or null. */
  const missingOf = async (r: RunRecord, keys: Set<string> | null): Promise<string | null> => {
    const store = await getStore();
    if (!store || !keys) return null;
    if (r.dataset.kind === 'import' && !(await readImportMeta(store, r.dataset.id))) return 'its imported data was deleted';
    if (r.dataset.kind === 'hub') {
      const prefix = hubRepoPrefix('dataset', r.dataset.repo, r.dataset.revision);
      if (![...keys].some((k) => k.startsWith(prefix))) return `dataset ${r.dataset.repo} is no longer stored`;
    }
    if (r.model.kind === 'hub' && !keys.has(hubFileKey('model', r.model.repo, r.model.revision, 'config.json'))) return `model ${modelRefName(r.model)} is no longer stored`;
    return null;
  };

  const summaries = async (): Promise<RunSummary[]> => {
    const runs = await getRuns();
    if (!runs) return [];
    const store = await getStore();
    const keys = store ? new Set((await store.list()).map((f) => f.key)) : null;
    const out: RunSummary[] = [];
    for (const r of await runs.listRuns()) {
      const missing = await missingOf(r, keys);
      // a tab that died mid-run (reload, crash) leaves 'running': interrupted, resumable from its last checkpoint
      const mine = r.id === run.runId;
      const state: RunSummary['state'] = mine && run.state === 'done' ? 'done' : r.state === 'running' && !(mine && (busy() || run.state === 'paused')) ? 'interrupted' : r.state;
      const split = r.dataset.kind === 'import' && store ? ((await readImportMeta(store, r.dataset.id))?.split ?? null) : null;
      out.push({
        id: r.id, createdAt: r.createdAt, ...(r.name ? { name: r.name } : {}), model: r.model, dataset: r.dataset, config: r.config,
        dataName: await describeData(r.dataset), split,
        lastCheckpoint: r.lastCheckpoint, ...(r.lastCheckpointRecovery ? { lastCheckpointRecovery: true } : {}), maxSteps: r.maxSteps, state,
        resumable: missing === null && state !== 'done' && state !== 'running',
        openable: missing === null && r.lastCheckpoint !== null,
        ...(missing ? { missing } : {}),
      });
    }
    return out;
  };

  return async (req: Request) => {
    switch (req.type) {
      case 'gpu-info':
        try {
          const gpu = await getGpu();
          await checkGemmVariants(gpu); // the status then says whether the f16 tiles and subgroup matrices passed their self-tests
          post({ type: 'gpu-info', rid: req.rid, info: gpu.info });
        } catch (e) {
          post({ type: 'gpu-info', rid: req.rid, info: null, message: (e as Error).message });
        }
        return;
      case 'plan':
        try {
          post({ type: 'plan', rid: req.rid, plan: await plan(req) });
        } catch (e) {
          fail(req.rid, 'configure', e);
        }
        return;
      case 'train-start':
        try {
          await start(req);
        } catch (e) {
          fail(req.rid, 'train', e);
          setState('error', (e as Error).message);
        }
        return;
      case 'run-open':
        try {
          await openRun(req);
        } catch (e) {
          fail(req.rid, 'train', e);
          setState('error', (e as Error).message);
        }
        return;
      case 'train-pause':
        if (run.session && run.state === 'running') {
          run.session.trainer.pause();
          setState('paused');
        }
        return;
      case 'train-resume':
        if (run.session && run.state === 'paused') {
          run.session.trainer.resume();
          setState('running');
        }
        return;
      case 'train-stop':
        if (run.session && (run.state === 'running' || run.state === 'paused')) {
          run.session.trainer.stop();
          if (run.state === 'paused') run.session.trainer.resume();
          setState('stopping');
        }
        return;
      case 'train-snapshot':
        if (run.session && (run.state === 'running' || run.state === 'paused')) run.session.trainer.requestRecovery();
        return;
      case 'run-history':
        try {
          // this tab's own run already streams its metrics
          if (req.runId === run.runId && run.session) return;
          const found = await (await getRuns())?.getRun(req.runId);
          if (!found) return;
          post({ type: 'metrics-history', rows: historyRows(found.logHistory ?? []) });
          if (found.lastCheckpoint !== null && found.maxSteps) {
            const last = [...(found.logHistory ?? [])].reverse().find((h) => typeof h.epoch === 'number');
            post({ type: 'progress', step: found.lastCheckpoint, max_steps: found.maxSteps, epoch: last?.epoch ?? 0, tokens_per_second: 0 });
          }
        } catch (e) {
          fail(req.rid, 'train', e);
        }
        return;
      case 'run-rename':
        try {
          await (await getRuns())?.updateRun(req.runId, { name: req.name.trim() || undefined });
          if (req.runId === run.runId) run.name = req.name.trim() || null;
          post({ type: 'runs', rid: req.rid, runs: await summaries() });
        } catch (e) {
          fail(req.rid, 'train', e);
        }
        return;
      case 'runs-list':
        try {
          post({ type: 'runs', rid: req.rid, runs: await summaries() });
        } catch (e) {
          fail(req.rid, 'train', e);
        }
        return;
      case 'runs-history':
        try {
          const runs = await getRuns();
          const out = [];
          for (const id of req.runIds) {
            const r = await runs?.getRun(id);
            if (!r || !runs) continue;
            const store = runs.checkpoints(id);
            const names = await store.list();
            const files = names.length ? await store.load(names[names.length - 1]) : null;
            const state = files?.get('trainer_state.json');
            const history = state ? (JSON.parse(new TextDecoder().decode(state)) as { log_history: Record<string, number>[] }).log_history : [];
            out.push({ id, createdAt: r.createdAt, config: r.config, history });
          }
          post({ type: 'runs-history', rid: req.rid, runs: out });
        } catch (e) {
          fail(req.rid, 'train', e);
        }
        return;
      case 'run-delete':
        try {
          await (await getRuns())?.deleteRun(req.runId);
          post({ type: 'runs', rid: req.rid, runs: await summaries() });
        } catch (e) {
          fail(req.rid, 'train', e);
        }
        return;
      case 'load-model':
      case 'load-base':
      case 'unload-model':
      case 'score-pair':
      case 'score-batch':
      case 'evaluate':
      case 'eval-pair-text':
      case 'best-of-n':
        return evaluation.handle(req);
      case 'benchmark':
        try {
          if (busy() || run.state === 'paused') throw new UserError('A run is in progress in this tab.', 'Stop it first, then benchmark the GPU.');
          const gpu = await getGpu();
          const adapter = describeGpu(gpu);
          const tiny = req.size === 'tiny';
          for (const c of stepConfigs(tiny)) {
            const row = await benchStep(gpu, tiny ? TINY_DIMS : QWEN3_0_6B_DIMS, c, tiny ? 1 : 3);
            post({ type: 'benchmark-row', rid: req.rid, adapter, row });
            // where products ran on the GPU's matrix units, the same step on the tiled kernel: what they bring here
            if (row.matrix_unit_dispatches > 0) {
              const was = flags.noSubgroupMatrix;
              setFlags({ noSubgroupMatrix: true });
              try {
                const tiled = await benchStep(gpu, tiny ? TINY_DIMS : QWEN3_0_6B_DIMS, c, tiny ? 1 : 3);
                post({ type: 'benchmark-row', rid: req.rid, adapter, row: { ...tiled, name: `${tiled.name} tiled` } });
              } finally {
                setFlags({ noSubgroupMatrix: was });
              }
            }
          }
          post({ type: 'benchmark-done', rid: req.rid });
        } catch (e) {
          fail(req.rid, 'gpu', e);
        }
        return;
      case 'export': {
        if (req.what === 'metrics') {
          const history = run.session?.trainer.state.log_history ?? [];
          const text = history.map((h) => JSON.stringify(h)).join('\n') + (history.length ? '\n' : '');
          post({ type: 'export-files', rid: req.rid, what: 'metrics', files: [{ name: 'metrics.jsonl', data: new TextEncoder().encode(text) }] });
          return;
        }
        const s = await needSession(req.rid, 'export', req.runId);
        if (!s) return;
        if (req.what === 'onnx') {
          try {
            const { files, verify } = await exportOnnxFiles(s.session, {
              dtype: req.dtype === 'f16' ? 'float16' : 'float32',
              baseModel: modelIdOf(s.model, DEMO_MODEL_NAME),
              tokenizerFiles: await tokenizerFilesOf(s.model),
            });
            post({ type: 'export-files', rid: req.rid, what: 'onnx', files, verify });
          } catch (e) {
            fail(req.rid, 'export', e);
          }
          return;
        }
        try {
          const files = req.what === 'adapter' ? await s.session.exportAdapter() : [...(await s.session.exportModel(req.dtype === 'f32' ? 'float32' : 'bfloat16')), ...(await tokenizerFilesOf(s.model))];
          post({ type: 'export-files', rid: req.rid, what: req.what, files: files.map((f) => ({ name: f.name, data: f.data })) });
        } catch (e) {
          fail(req.rid, 'export', e);
        }
        return;
      }
      default:
        post({ type: 'error', rid: req.rid, where: 'worker', message: `The train worker does not handle "${req.type}".`, fix: 'This is a bug in the studio: reload the page and report it.' });
    }
  };
}
