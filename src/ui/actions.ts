// Actions that span slices: starting a run (fresh or resumed), and the names used in file exports.
import { budgetBytes } from './store/slices/run.ts';
import type { Studio } from './store/store.ts';

/**
 * Starts training with the current config, model and dataset, or (runId) resumes a stored run from its last
 * checkpoint with that run's own config and data. A fresh run clears the charts first.
 */
export function startTraining(studio: Pick<Studio, 'store' | 'metrics'>, runId?: string): number {
  const s = studio.store.getState();
  if (!runId) studio.metrics.reset();
  studio.store.setState({ train: { ...s.train, state: 'loading', message: null, progress: runId ? s.train.progress : null, lastCheckpoint: runId ? s.train.lastCheckpoint : null }, tab: 'train' });
  return s.request({
    type: 'train-start', config: s.config, model: s.selection.model, dataset: s.selection.dataset, resume: !!runId,
    budgetBytes: budgetBytes(s.gpuBudgetGiB), activationDtype: s.activationDtype, ...(runId ? { runId } : {}),
    ...(!runId && s.continueFrom ? { adapter: s.continueFrom } : {}),
  });
}

/** Loads a stored run's last checkpoint (no training) so Evaluate and Export work on it after a reload. */
export function openStoredRun(studio: Pick<Studio, 'store' | 'metrics'>, runId: string): number {
  const s = studio.store.getState();
  studio.metrics.reset();
  studio.store.setState({ train: { ...s.train, state: 'loading', message: null, progress: null, lastCheckpoint: null } });
  return s.request({ type: 'run-open', runId });
}

/** 'Qwen3-0.6B' for a hub model, 'demo' for the demo: used in exported file names. */
export function modelSlug(studio: Pick<Studio, 'store'>): string {
  const m = studio.store.getState().selection.model;
  return m.kind === 'hub' ? m.repo.split('/').pop()! : 'demo';
}
