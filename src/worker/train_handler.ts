// The train worker's logic, separate from the worker globals so Node tests can drive it: it owns the GPU device
// (requested once through src/gpu/device.ts), the trainer of the current run, and answers every 'train' request of
// the protocol with events.
import { requestGpu, type Gpu } from '../gpu/device.ts';
import { ENGINE_MISSING, loadEngine, type EngineTrainer } from './engine.ts';
import { errorEvent, pairScore, type Request, type WorkerEvent } from './protocol.ts';

export interface TrainHandlerDeps {
  post: (ev: WorkerEvent) => void;
  /** navigator.gpu of the worker (undefined where WebGPU is missing). */
  gpuApi: GPU | undefined;
}

export function createTrainHandler({ post, gpuApi }: TrainHandlerDeps): (req: Request) => Promise<void> {
  let gpuPromise: Promise<Gpu> | null = null;
  // The run in this tab (set by train-start once the engine is wired).
  const run: { trainer: EngineTrainer | null } = { trainer: null };
  const logs: { kind: 'train' | 'eval'; step: number; metrics: Record<string, number> }[] = [];

  const getGpu = () => {
    gpuPromise ??= requestGpu(gpuApi, {
      onLost: (err) => post(errorEvent('gpu', err)),
    });
    // a failed request may be retried later (e.g. after the user enabled WebGPU and the worker restarted)
    gpuPromise.catch(() => (gpuPromise = null));
    return gpuPromise;
  };

  const needTrainer = (rid: number, where: 'evaluate' | 'export'): EngineTrainer | null => {
    if (run.trainer) return run.trainer;
    post({
      type: 'error',
      rid,
      where,
      message: 'No trained model is loaded in this tab.',
      fix: 'Start a run in Train (or resume it from its checkpoint) first; scoring and export use that model.',
    });
    return null;
  };

  return async (req: Request) => {
    switch (req.type) {
      case 'gpu-info': {
        try {
          const gpu = await getGpu();
          post({ type: 'gpu-info', rid: req.rid, info: gpu.info });
        } catch (e) {
          post({ type: 'gpu-info', rid: req.rid, info: null, message: (e as Error).message });
        }
        return;
      }
      case 'plan':
      case 'train-start': {
        const engine = await loadEngine();
        if (!engine) {
          post({ type: 'error', rid: req.rid, where: req.type === 'plan' ? 'configure' : 'train', ...ENGINE_MISSING });
          if (req.type === 'train-start') post({ type: 'train-state', state: 'error', message: ENGINE_MISSING.message });
          return;
        }
        // TODO(session.ts): load the model files from storage, tokenize (or read the tokenized pairs), call
        // engine.createTrainer and forward its events; the memory plan needs the engine's plan function.
        post({
          type: 'error',
          rid: req.rid,
          where: req.type === 'plan' ? 'configure' : 'train',
          message: `"${req.type}" is not wired to the engine in this build yet.`,
          fix: 'Update to a build where the studio drives src/train/session.ts.',
        });
        if (req.type === 'train-start') post({ type: 'train-state', state: 'error', message: 'not wired yet' });
        return;
      }
      case 'train-pause':
        if (run.trainer) {
          run.trainer.pause();
          post({ type: 'train-state', state: 'paused' });
        }
        return;
      case 'train-resume':
        if (run.trainer) {
          run.trainer.resume();
          post({ type: 'train-state', state: 'running' });
        }
        return;
      case 'train-stop':
        if (run.trainer) {
          run.trainer.stop();
          post({ type: 'train-state', state: 'stopping' });
        }
        return;
      case 'score-pair': {
        const t = needTrainer(req.rid, 'evaluate');
        if (!t) return;
        // TODO(tokenizer): render conversation + each response with the Qwen3 chat template, then score.
        post({ type: 'error', rid: req.rid, where: 'evaluate', message: 'Scoring needs the tokenizer module, not in this build yet.', fix: 'Update to a build with src/data tokenization.' });
        void pairScore;
        return;
      }
      case 'score-batch':
      case 'evaluate': {
        const t = needTrainer(req.rid, 'evaluate');
        if (!t) return;
        post({ type: 'error', rid: req.rid, where: 'evaluate', message: `"${req.type}" is not wired to the engine in this build yet.`, fix: 'Update to a build where the studio drives src/train/session.ts.' });
        return;
      }
      case 'export': {
        if (req.what === 'metrics') {
          const text = logs.map((r) => JSON.stringify({ step: r.step, ...r.metrics })).join('\n') + (logs.length ? '\n' : '');
          post({ type: 'export-files', rid: req.rid, what: 'metrics', files: [{ name: 'metrics.jsonl', data: new TextEncoder().encode(text) }] });
          return;
        }
        const t = needTrainer(req.rid, 'export');
        if (!t) return;
        try {
          const files = req.what === 'adapter' ? await t.exportAdapter() : await t.exportModel(req.dtype ?? 'bf16');
          post({ type: 'export-files', rid: req.rid, what: req.what, files });
        } catch (e) {
          post(errorEvent('export', e, req.rid));
        }
        return;
      }
      default:
        post({ type: 'error', rid: req.rid, where: 'worker', message: `The train worker does not handle "${req.type}".`, fix: 'This is a bug in the studio: reload the page and report it.' });
    }
  };
}
