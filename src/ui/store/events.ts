// How each worker event changes the studio state: a pure function of (state, event) → patch, plus pushes into the
// metrics buffer for `log` / `eval` (which leave the store untouched, so a training step re-renders nothing but
// the charts and the progress line).
import type { WorkerEvent } from '../../worker/protocol.ts';
import { RECOVERY_PREFIX } from '../../train/checkpoint_names.ts';
import type { MetricsBuffer } from './metrics.ts';
import type { DownloadState, ImportSummary } from './slices/hub.ts';
import type { Progress } from './slices/training.ts';
import type { StudioState } from './store.ts';

/** Weight of the newest step time in the ETA's moving average. */
const ETA_SMOOTHING = 0.2;

/** Timing of the last progress event, for the ETA (kept outside the store: it is not something to render). */
const lastProgress = new WeakMap<MetricsBuffer, { step: number; at: number; secondsPerStep: number | null }>();

function withoutPending(s: StudioState, rid: number | undefined): Pick<StudioState, 'pending'> | object {
  if (rid === undefined || !(rid in s.pending)) return {};
  const pending = { ...s.pending };
  delete pending[rid];
  return { pending };
}

/** eval rows keep TRL's eval_ prefix whatever the trainer sent (step and epoch stay as they are). */
function evalNames(metrics: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) out[k.startsWith('eval_') || k === 'epoch' || k === 'step' ? k : `eval_${k}`] = v;
  return out;
}

export function applyEvent(
  s: StudioState,
  ev: WorkerEvent,
  metrics: MetricsBuffer,
  now: number = Date.now(),
): Partial<StudioState> | null {
  switch (ev.type) {
    case 'ready':
      return null;
    case 'gpu-info':
      return {
        ...withoutPending(s, ev.rid),
        gpu: {
          ...s.gpu,
          status: ev.info ? 'ready' : 'missing',
          info: ev.info,
          message: ev.message ?? null,
        },
      };
    case 'gpu-memory':
      return { gpu: { ...s.gpu, memoryBytes: ev.bytes } };
    case 'download-progress': {
      const req = s.pending[ev.rid];
      const prev = s.downloads[ev.rid];
      const next: DownloadState = {
        rid: ev.rid,
        what: prev?.what ?? (req?.req.type === 'download' ? req.req.what : 'model'),
        repo: ev.repo,
        revision: prev?.revision ?? (req?.req.type === 'download' ? req.req.revision : 'main'),
        files: ev.files,
        overall: ev.overall,
        status: 'running',
      };
      return { downloads: { ...s.downloads, [ev.rid]: next } };
    }
    case 'download-done': {
      const prev = s.downloads[ev.rid];
      const done: DownloadState = {
        rid: ev.rid,
        what: ev.what,
        repo: ev.repo,
        revision: ev.revision,
        files: prev?.files ?? [],
        overall: prev ? { ...prev.overall, filesDone: prev.overall.filesTotal, loaded: prev.overall.total, rate: 0, etaSeconds: 0 } : { loaded: 0, total: 0, filesDone: ev.files.length, filesTotal: ev.files.length, rate: 0, etaSeconds: 0 },
        status: 'done',
      };
      const ref = { kind: 'hub' as const, repo: ev.repo, revision: ev.revision };
      return {
        ...withoutPending(s, ev.rid),
        downloads: { ...s.downloads, [ev.rid]: done },
        selection: ev.what === 'model' ? { ...s.selection, model: ref } : { ...s.selection, dataset: ref },
      };
    }
    case 'download-cancelled': {
      const prev = s.downloads[ev.rid];
      return { ...withoutPending(s, ev.rid), ...(prev ? { downloads: { ...s.downloads, [ev.rid]: { ...prev, status: 'cancelled' as const } } } : {}) };
    }
    case 'storage-report':
      return {
        ...withoutPending(s, ev.rid),
        storage: { files: ev.files, usage: ev.usage, quota: ev.quota, loaded: true },
      };
    case 'import-summary': {
      const summary: ImportSummary = {
        rid: ev.rid,
        id: ev.id,
        name: ev.name,
        split: ev.split,
        lines: ev.lines,
        valid: ev.valid,
        format: ev.format,
        explicitPrompt: ev.explicitPrompt,
        errors: ev.errors,
        errorCount: ev.errorCount,
        blankLines: ev.blankLines,
        duplicates: ev.duplicates,
        warnings: ev.warnings,
        accepted: ev.accepted,
        pairs: ev.accepted ? ev.valid : null,
      };
      // a clean file is stored next (import-accepted answers the same rid): keep the request pending until then
      return { ...(ev.accepted ? {} : withoutPending(s, ev.rid)), imports: [...s.imports.filter((i) => i.id !== ev.id), summary] };
    }
    case 'import-accepted': {
      const imports = s.imports.map((i) => (i.id === ev.id ? { ...i, pairs: ev.pairs } : i));
      const storedImports = [ev.stored, ...s.storedImports.filter((i) => i.id !== ev.id)];
      // a set with training pairs becomes the run's data (an eval-only file is chosen in Evaluate)
      const useIt = ev.stored.splits.train > 0;
      return {
        ...withoutPending(s, ev.rid),
        imports,
        storedImports,
        ...(useIt ? { selection: { ...s.selection, dataset: { kind: 'import' as const, id: ev.id } } } : {}),
      };
    }
    case 'imports-stored': {
      // the selection falls back to the demo set when its import was deleted
      const sel = s.selection.dataset;
      const gone = sel.kind === 'import' && !ev.imports.some((i) => i.id === sel.id);
      return {
        ...withoutPending(s, ev.rid),
        storedImports: ev.imports,
        imports: s.imports.filter((i) => i.pairs === null || ev.imports.some((st) => st.id === i.id)),
        ...(gone ? { selection: { ...s.selection, dataset: { kind: 'demo' as const } } } : {}),
      };
    }
    case 'inspect-report':
      return { ...withoutPending(s, ev.rid), inspect: { report: ev.report, running: false } };
    case 'tokenize-progress':
      return { train: { ...s.train, tokenize: { split: ev.split, done: ev.done, total: ev.total, filtered: ev.filtered } } };
    case 'tokenize-done': {
      const tokenized = [...s.train.tokenized.filter((t) => !ev.splits.some((d) => d.split === t.split)), ...ev.splits];
      return { ...withoutPending(s, ev.rid), train: { ...s.train, tokenize: null, tokenized } };
    }
    case 'plan':
      return { ...withoutPending(s, ev.rid), plan: ev.plan };
    case 'train-state':
      if (ev.state === 'loading') lastProgress.delete(metrics);
      return {
        train: {
          ...s.train,
          state: ev.state,
          message: ev.message ?? null,
          runId: ev.runId ?? s.train.runId,
          ...(ev.state === 'running' ? { tokenize: null } : {}),
          ...(ev.state === 'loading' ? { tokenized: [], flips: null } : {}),
        },
      };
    case 'runs': {
      // the run the results follow is forgotten when it was deleted
      const gone = s.train.runId !== null && !ev.runs.some((r) => r.id === s.train.runId) && s.train.state === 'idle';
      return { ...withoutPending(s, ev.rid), runs: ev.runs, ...(gone ? { train: { ...s.train, runId: null } } : {}) };
    }
    case 'runs-history':
      return { ...withoutPending(s, ev.rid), runsCompare: ev.runs };
    case 'metrics-history':
      metrics.reset(ev.rows);
      return null;
    case 'log':
      metrics.push({ kind: 'train', step: ev.step, metrics: ev.metrics });
      return null;
    case 'eval':
      metrics.push({ kind: 'eval', step: ev.step, metrics: evalNames(ev.metrics) });
      return ev.flipped ? { train: { ...s.train, flips: ev.flipped } } : null;
    case 'progress': {
      const last = lastProgress.get(metrics);
      let secondsPerStep = last?.secondsPerStep ?? null;
      if (last && ev.step > last.step) {
        const sps = (now - last.at) / 1000 / (ev.step - last.step);
        secondsPerStep = secondsPerStep === null ? sps : (1 - ETA_SMOOTHING) * secondsPerStep + ETA_SMOOTHING * sps;
      }
      lastProgress.set(metrics, { step: ev.step, at: now, secondsPerStep });
      const progress: Progress = {
        step: ev.step,
        maxSteps: ev.max_steps,
        epoch: ev.epoch,
        tokensPerSecond: ev.tokens_per_second,
        etaSeconds: secondsPerStep === null ? null : Math.max(0, (ev.max_steps - ev.step) * secondsPerStep),
      };
      return { train: { ...s.train, progress } };
    }
    case 'checkpoint':
      return { train: { ...s.train, lastCheckpoint: ev.step, lastCheckpointRecovery: !!ev.name?.startsWith(RECOVERY_PREFIX) } };
    case 'done':
      return { train: { ...s.train, state: ev.reason === 'stopped' ? 'stopped' : 'done', message: null } };
    case 'warning':
      return { warnings: [...s.warnings.slice(-19), { where: ev.where, message: ev.message }] };
    case 'model-loaded':
      return { ...withoutPending(s, ev.rid), evaluation: { ...s.evaluation, loaded: ev.info, source: 'loaded', pair: null, report: null, batch: null, bestOfN: null, pairText: null } };
    case 'model-unloaded':
      return {
        ...withoutPending(s, ev.rid),
        evaluation: { ...s.evaluation, loaded: null, source: 'run', ...(s.evaluation.source === 'loaded' ? { pair: null, report: null, batch: null, bestOfN: null, pairText: null } : {}) },
      };
    case 'score-pair-result':
      return { ...withoutPending(s, ev.rid), evaluation: { ...s.evaluation, pair: { ...ev.score, source: ev.source } } };
    case 'score-batch-result':
      return {
        ...withoutPending(s, ev.rid),
        evaluation: { ...s.evaluation, batch: { rows: ev.rows, file: ev.file, errorCount: ev.errorCount, errors: ev.errors, pairs: ev.pairs ?? null }, ...(s.evaluation.pairText?.from === 'batch' ? { pairText: null } : {}) },
      };
    case 'eval-report':
      return { ...withoutPending(s, ev.rid), evaluation: { ...s.evaluation, report: { ...ev.report, source: ev.source }, ...(s.evaluation.pairText?.from !== 'batch' ? { pairText: null } : {}) } };
    case 'eval-pair-text':
      return { ...withoutPending(s, ev.rid), evaluation: { ...s.evaluation, pairText: { index: ev.index, chosen: ev.chosen, rejected: ev.rejected, from: ev.from ?? 'eval' } } };
    case 'best-of-n-report':
      return { ...withoutPending(s, ev.rid), evaluation: { ...s.evaluation, bestOfN: { ...ev.report, source: ev.source } } };
    case 'push-done':
      return { ...withoutPending(s, ev.rid), pushed: { repo: ev.repo, commitUrl: ev.commitUrl, created: ev.created } };
    case 'benchmark-row':
      return { benchmark: { rid: ev.rid, running: true, adapter: ev.adapter, rows: [...(s.benchmark.rid === ev.rid ? s.benchmark.rows : []), ev.row] } };
    case 'benchmark-done':
      return { ...withoutPending(s, ev.rid), benchmark: { ...s.benchmark, running: false } };
    case 'export-files':
      return { ...withoutPending(s, ev.rid), exports: { ...s.exports, [ev.what]: ev.files }, ...(ev.what === 'onnx' ? { onnxVerify: ev.verify ?? null } : {}) };
    case 'error': {
      const req = ev.rid !== undefined ? s.pending[ev.rid] : undefined;
      const patch: Partial<StudioState> = {
        ...withoutPending(s, ev.rid),
        errors: { ...s.errors, [ev.where]: { message: ev.message, fix: ev.fix, request: req?.type } },
      };
      if (ev.rid !== undefined && s.downloads[ev.rid]) {
        patch.downloads = { ...s.downloads, [ev.rid]: { ...s.downloads[ev.rid], status: 'error' } };
      }
      if (ev.where === 'train') patch.train = { ...s.train, state: 'error', message: ev.message };
      if (req?.type === 'inspect') patch.inspect = { ...s.inspect, running: false };
      if (req?.type === 'benchmark') patch.benchmark = { ...s.benchmark, running: false };
      return patch;
    }
  }
}
