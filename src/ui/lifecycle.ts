// The page's lifecycle while a run trains: leaving the page (reload, close, navigate) asks first (beforeunload),
// and hiding or closing it asks the train worker for a recovery checkpoint after the step in progress
// (visibilitychange → hidden, pagehide), beside the worker's own time interval (train_handler.ts). A reload then
// finds the run "interrupted" with that checkpoint to resume from.
import type { StoreApi } from 'zustand/vanilla';
import type { StudioState } from './store/store.ts';

/** States in which leaving the page loses training in progress. */
export function runInProgress(s: Pick<StudioState, 'train'>): boolean {
  return s.train.state === 'running' || s.train.state === 'paused' || s.train.state === 'loading' || s.train.state === 'stopping';
}

/** Wires the listeners to `target` (window) and `doc` (document); returns a function that removes them. */
export function watchLifecycle(store: StoreApi<StudioState>, target: Pick<Window, 'addEventListener' | 'removeEventListener'> = window, doc: Pick<Document, 'addEventListener' | 'removeEventListener' | 'visibilityState'> = document): () => void {
  const snapshot = () => {
    const s = store.getState();
    if (s.train.state === 'running' || s.train.state === 'paused') s.request({ type: 'train-snapshot' });
  };
  const onBeforeUnload = (e: BeforeUnloadEvent) => {
    if (!runInProgress(store.getState())) return;
    snapshot();
    e.preventDefault();
    e.returnValue = ''; // older Chrome needs it to show the prompt
  };
  const onVisibility = () => {
    if (doc.visibilityState === 'hidden') snapshot();
  };
  target.addEventListener('beforeunload', onBeforeUnload);
  target.addEventListener('pagehide', snapshot);
  doc.addEventListener('visibilitychange', onVisibility);
  return () => {
    target.removeEventListener('beforeunload', onBeforeUnload);
    target.removeEventListener('pagehide', snapshot);
    doc.removeEventListener('visibilitychange', onVisibility);
  };
}

/**
 * After a reload the followed run's charts and progress load from its record (no Open, no GPU): once the stored
 * runs are listed, if this tab runs nothing yet.
 */
export function loadFollowedRunHistory(store: StoreApi<StudioState>): () => void {
  let asked: string | null = null;
  return store.subscribe((s, prev) => {
    const id = s.train.runId;
    if (s.runs === prev.runs || !id || asked === id || s.train.state !== 'idle' || !s.runs.some((r) => r.id === id)) return;
    asked = id;
    s.request({ type: 'run-history', runId: id });
  });
}
