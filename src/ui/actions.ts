// Actions that span slices: starting a run (fresh or resumed), and the names used in file exports.
import type { Studio } from './store/store.ts';

/** Starts training with the current config, model and dataset. A fresh run clears the charts first. */
export function startTraining(studio: Pick<Studio, 'store' | 'metrics'>, resume = false): number {
  const s = studio.store.getState();
  if (!resume) studio.metrics.reset();
  studio.store.setState({ train: { ...s.train, state: 'loading', message: null, progress: resume ? s.train.progress : null }, tab: 'train' });
  return s.request({ type: 'train-start', config: s.config, model: s.selection.model, dataset: s.selection.dataset, resume });
}

/** 'Qwen3-0.6B' for a hub model, 'demo' for the demo: used in exported file names. */
export function modelSlug(studio: Pick<Studio, 'store'>): string {
  const m = studio.store.getState().selection.model;
  return m.kind === 'hub' ? m.repo.split('/').pop()! : 'demo';
}
