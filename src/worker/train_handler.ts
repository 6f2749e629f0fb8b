// The train worker's logic, separate from the worker globals so Node tests can drive it. It owns the GPU device
// (requested once through src/gpu/device.ts) and the training session of this tab (src/train/session.ts): memory
// plan, start / pause / resume / stop with checkpoints in IndexedDB (a reload resumes), scoring, evaluation and
// export on the session's weights. Token ids come from the data worker over the port (data_port.ts).
import { requestGpu, type Gpu } from '../gpu/device.ts';
import { ConfigError } from '../formats/fields.ts';
import { modelDims, parseQwen3Config, withPadTokenId } from '../model/config.ts';
import type { FileStore } from '../data/storage.ts';
import { parseRewardConfig, type RewardConfig } from '../train/config.ts';
import { createSession, DEFAULT_GPU_MEMORY_BYTES, planRun, type TrainSession } from '../train/session.ts';
import { pairMetrics, scorePairs, type TrainEvent } from '../train/trainer.ts';
import type { TokenizedPair } from '../train/batches.ts';
import type { RunRecord, RunStore } from './checkpoint_idb.ts';
import type { DataPort } from './data_port.ts';
import { DEMO_MODEL_NAME } from './demo_model.ts';
import { modelFiles } from './model_files.ts';
import {
  errorEvent, pairScore, type Area, type DatasetRef, type MemoryPlan, type ModelRef, type Request, type RunSummary, type TrainState, type WorkerEvent,
} from './protocol.ts';

export interface TrainHandlerDeps {
  post: (ev: WorkerEvent) => void;
  /** navigator.gpu of the worker (undefined where WebGPU is missing). */
  gpuApi: GPU | undefined;
  openStore?: () => Promise<FileStore>;
  openRuns?: () => Promise<RunStore>;
  /** The port to the data worker (set once the page connected it). */
  dataPort?: () => DataPort | null;
  /** GPU memory the plan may use (WebGPU cannot query VRAM). */
  budgetBytes?: number;
}

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

/** A log_history entry is an eval row when it carries eval_ metrics. */
function historyRows(history: Record<string, number>[]): { kind: 'train' | 'eval'; step: number; metrics: Record<string, number> }[] {
  return history.map((h) => ({ kind: Object.keys(h).some((k) => k.startsWith('eval_')) ? 'eval' : 'train', step: h.step, metrics: h }));
}

export function createTrainHandler(deps: TrainHandlerDeps): (req: Request) => Promise<void> {
  const { post, gpuApi } = deps;
  const budget = deps.budgetBytes ?? DEFAULT_GPU_MEMORY_BYTES;
  let gpuPromise: Promise<Gpu> | null = null;
  let storePromise: Promise<FileStore> | null = null;
  let runsPromise: Promise<RunStore> | null = null;
  const run: { session: TrainSession | null; state: TrainState; runId: string | null; model: ModelRef | null; rid: number } = { session: null, state: 'idle', runId: null, model: null, rid: 0 };

  const getGpu = () => {
    if (!gpuPromise) {
      gpuPromise = requestGpu(gpuApi, { onLost: (err) => post(errorEvent('gpu', err)) });
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
    const fix = (e as { fix?: string })?.fix;
    post(errorEvent(where, e, rid, fix));
  };

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

  const needSession = (rid: number, where: Area): TrainSession | null => {
    if (!run.session) {
      post({ type: 'error', rid, where, message: 'No model is loaded in this tab yet.', fix: 'Start a run in Train (or resume a stored run) first: scoring, evaluation and export use its weights.' });
      return null;
    }
    if (run.state === 'running' || run.state === 'loading' || run.state === 'stopping') {
      post({ type: 'error', rid, where, message: 'The model is busy training.', fix: 'Pause the run (or wait until it finishes), then try again.' });
      return null;
    }
    return run.session;
  };

  /** Sequences longer than the loaded model's maxT cannot be scored; say which and how to fix it. */
  const checkLengths = (session: TrainSession, seqs: ArrayLike<number>[], what: string) => {
    const maxT = session.loaded.model.opts.maxT;
    const long = seqs.findIndex((s) => s.length > maxT);
    if (long >= 0) throw new UserError(`${what} ${long + 1} has ${seqs[long].length} tokens; the loaded model takes at most ${maxT}.`, `Shorten it, or raise max_length in Configure and start a new run.`);
  };

  const plan = async (req: Extract<Request, { type: 'plan' }>): Promise<MemoryPlan> => {
    const config = parseConfigOrExplain(req.config);
    const gpu = await getGpu();
    const files = await modelFiles(req.model, await getStore());
    const dims = modelDims(withPadTokenId(parseQwen3Config(JSON.parse(files.configText))));
    const limits = gpu.device.limits;
    const maxBufferBytes = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
    try {
      const { microPairs, plan: p } = planRun({ dims, config, maxLength: config.max_length ?? 1024, budgetBytes: budget, maxBufferBytes, frozenDtype: 'bf16' });
      const advice: string[] = [];
      if (microPairs < config.per_device_train_batch_size) advice.push(`Each batch of ${config.per_device_train_batch_size} pairs runs as micro-batches of ${microPairs} pairs (same result, more passes).`);
      return {
        fits: true,
        microPairs,
        parts: { 'frozen weights': p.weights_frozen, 'trainable weights': p.weights_trainable, gradients: p.gradients, 'AdamW moments': p.optimizer, activations: p.activations, workspace: p.workspace },
        totalBytes: p.total,
        limitBytes: budget,
        advice: [...advice, `Budget: ${(budget / 2 ** 30).toFixed(0)} GiB (WebGPU cannot read the GPU's memory size); largest buffer ${(p.largest_buffer / 2 ** 20).toFixed(0)} MiB of ${(maxBufferBytes / 2 ** 20).toFixed(0)} MiB allowed.`],
      };
    } catch (e) {
      return { fits: false, microPairs: 0, parts: {}, totalBytes: 0, limitBytes: budget, advice: [(e as Error).message] };
    }
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
      record = { id: `run-${Date.now().toString(36)}`, createdAt: Date.now(), config: req.config, model: req.model, dataset: req.dataset, lastCheckpoint: null, maxSteps: null, state: 'running' };
    }
    const config = parseConfigOrExplain(record.config);
    run.runId = record.id;
    run.rid = req.rid;
    setState('loading');
    const gpu = await getGpu();
    const { train: trainSplit, eval: evalSplit } = await splitsOf(record.dataset);
    const train = await tokenized(record.dataset, record.model, config.max_length, trainSplit);
    const evalSet = evalSplit ? await tokenized(record.dataset, record.model, config.max_length, evalSplit) : null;
    if (train.filtered > 0) post({ type: 'warning', where: 'train', message: `${train.filtered} of ${train.total} training pairs are longer than max_length ${config.max_length} and were left out (as TRL does).` });
    if (train.pairs.length === 0) throw new UserError(`Every training pair is longer than max_length ${config.max_length}.`, 'Raise max_length in Configure, or use shorter data.');
    const files = await modelFiles(record.model, await getStore());
    run.session?.destroy();
    run.session = null;
    run.model = record.model;
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
      budgetBytes: budget,
      baseModel: record.model.kind === 'hub' ? record.model.repo : DEMO_MODEL_NAME,
      onEvent,
    });
    run.session = session;
    post({ type: 'gpu-memory', bytes: session.plan.total });
    record.maxSteps = session.trainer.maxSteps;
    await runs?.putRun(record);
    if (req.resume && runs) {
      const names = await runs.checkpoints(record.id).list();
      if (names.length) {
        await session.trainer.resumeFrom(names[names.length - 1]);
        post({ type: 'metrics-history', rows: historyRows(session.trainer.state.log_history) });
      }
    } else {
      post({ type: 'metrics-history', rows: [] });
    }
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

  const summaries = async (): Promise<RunSummary[]> => {
    const runs = await getRuns();
    if (!runs) return [];
    return (await runs.listRuns()).map((r) => ({
      id: r.id,
      createdAt: r.createdAt,
      model: r.model,
      dataset: r.dataset,
      lastCheckpoint: r.lastCheckpoint,
      maxSteps: r.maxSteps,
      // a tab that crashed mid-run leaves 'running': it is resumable like a stopped one
      state: r.id === run.runId ? (run.state === 'done' ? 'done' : r.state) : r.state,
      resumable: r.dataset.kind !== 'import' && r.lastCheckpoint !== null && r.state !== 'done',
    }));
  };

  return async (req: Request) => {
    switch (req.type) {
      case 'gpu-info':
        try {
          const gpu = await getGpu();
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
      case 'runs-list':
        try {
          post({ type: 'runs', rid: req.rid, runs: await summaries() });
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
      case 'score-pair': {
        const session = needSession(req.rid, 'evaluate');
        if (!session) return;
        try {
          const last = req.conversation[req.conversation.length - 1];
          if (!last || last.role === 'assistant') throw new UserError('The conversation must end with a user (or system) turn.', 'Remove the final assistant turn: the two responses are what is compared.');
          const chats = [req.responseA, req.responseB].map((r) => [...req.conversation, { role: 'assistant' as const, content: r }]);
          const { ids } = await port().request({ type: 'tokenize-chats', model: run.model!, chats }, 'token-ids');
          checkLengths(session, ids, 'Response');
          const r = await session.score(ids);
          post({ type: 'score-pair-result', rid: req.rid, score: pairScore(r[0], r[1]) });
        } catch (e) {
          fail(req.rid, 'evaluate', e);
        }
        return;
      }
      case 'score-batch': {
        const session = needSession(req.rid, 'evaluate');
        if (!session) return;
        try {
          const reply = await port().request({ type: 'tokenize-score-file', model: run.model!, file: req.file }, 'token-ids');
          if (reply.ids.length === 0) throw new UserError(`${req.file.name}: no record to score (${reply.errorCount ?? 0} invalid lines).`, 'Each line must be {"messages": [...]}, {"text": "..."} or {"input_ids": [...]}.');
          checkLengths(session, reply.ids, 'Record');
          const r = await session.score(reply.ids);
          const text = [...r].map((reward, index) => JSON.stringify({ index, reward })).join('\n') + '\n';
          const name = req.file.name.replace(/\.jsonl?$/i, '') + '.scores.jsonl';
          post({ type: 'score-batch-result', rid: req.rid, rows: r.length, file: { name, data: new TextEncoder().encode(text) }, errors: reply.errors ?? [] });
        } catch (e) {
          fail(req.rid, 'evaluate', e);
        }
        return;
      }
      case 'evaluate': {
        const session = needSession(req.rid, 'evaluate');
        if (!session) return;
        try {
          const gpu = await getGpu();
          const maxT = session.loaded.model.opts.maxT;
          const t = await tokenized(req.dataset, run.model!, maxT, req.split);
          if (t.pairs.length === 0) throw new UserError(`No "${req.split}" pair fits the loaded model's ${maxT} tokens.`, 'Evaluate on shorter data or start a run with a larger max_length.');
          const pairs = t.pairs as TokenizedPair[];
          const { chosen, rejected } = await scorePairs(gpu, session.loaded.model, pairs, session.microPairs);
          const m = pairMetrics(chosen, rejected, pairs.map((p) => p.margin ?? 0));
          const metrics: Record<string, number> = {};
          for (const [k, v] of Object.entries(m)) metrics[`eval_${k}`] = v;
          if (t.filtered) post({ type: 'warning', where: 'evaluate', message: `${t.filtered} of ${t.total} pairs are longer than ${maxT} tokens and were not scored.` });
          post({ type: 'eval-report', rid: req.rid, report: { step: session.trainer.state.global_step, split: req.split, metrics, chosenRewards: [...chosen], rejectedRewards: [...rejected] } });
        } catch (e) {
          fail(req.rid, 'evaluate', e);
        }
        return;
      }
      case 'export': {
        if (req.what === 'metrics') {
          const history = run.session?.trainer.state.log_history ?? [];
          const text = history.map((h) => JSON.stringify(h)).join('\n') + (history.length ? '\n' : '');
          post({ type: 'export-files', rid: req.rid, what: 'metrics', files: [{ name: 'metrics.jsonl', data: new TextEncoder().encode(text) }] });
          return;
        }
        const session = needSession(req.rid, 'export');
        if (!session) return;
        try {
          const files = req.what === 'adapter' ? await session.exportAdapter() : await session.exportModel(req.dtype === 'f32' ? 'float32' : 'bfloat16');
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
