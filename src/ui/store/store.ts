// The studio's state: one zustand vanilla store made of slices, living outside React. Components read it with
// `useStore(store, selector)`; workers' events come in through `handleEvent`; requests go out through `request`,
// which gives each a rid so its progress and errors land where it was made. Per-step metrics bypass the store
// and go to `metrics` (a MetricsBuffer the charts subscribe to).
import { createStore, type StoreApi } from 'zustand/vanilla';
import { REQUEST_AREA, type Request, type WorkerEvent } from '../../worker/protocol.ts';
import { applyEvent } from './events.ts';
import { MetricsBuffer } from './metrics.ts';
import { createGpuSlice, type GpuSlice } from './slices/gpu.ts';
import { createHubSlice, type HubSlice } from './slices/hub.ts';
import { createRunSlice, type RunSlice } from './slices/run.ts';
import { createTrainingSlice, type TrainingSlice } from './slices/training.ts';
import { createUiSlice, type UiSlice } from './slices/ui.ts';

/** Omit that distributes over a union (each request keeps its own fields). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type NewRequest = DistributiveOmit<Request, 'rid'>;

/** Where requests go: the page wires this to the two workers (src/ui/workers.ts); tests record them. */
export interface Transport {
  post(req: Request): void;
}

/** Requests no event answers by rid (their effect arrives as train-state / download-cancelled): not tracked. */
const FIRE_AND_FORGET = new Set<Request['type']>(['cancel', 'train-pause', 'train-resume', 'train-stop', 'train-snapshot', 'run-history']);

export interface ActionsSlice {
  /** Sends a request to the worker that serves it; returns its rid. Clears the old error of its area. */
  request: (req: NewRequest) => number;
  handleEvent: (ev: WorkerEvent) => void;
}

export type StudioState = GpuSlice & HubSlice & RunSlice & TrainingSlice & UiSlice & ActionsSlice;

export interface Studio {
  store: StoreApi<StudioState>;
  metrics: MetricsBuffer;
  /** Replaces the transport (the page connects the workers after creating the store). */
  connect(t: Transport): void;
}

export function createStudio(transport?: Transport): Studio {
  const metrics = new MetricsBuffer();
  let t: Transport | undefined = transport;
  let nextRid = 1;
  const store = createStore<StudioState>()((set, get, api) => ({
    ...createGpuSlice(set, get, api),
    ...createHubSlice(set, get, api),
    ...createRunSlice(set, get, api),
    ...createTrainingSlice(set, get, api),
    ...createUiSlice(set, get, api),
    request: (req) => {
      const rid = nextRid++;
      const area = REQUEST_AREA[req.type];
      set((s) => {
        const errors = { ...s.errors };
        delete errors[area];
        if (FIRE_AND_FORGET.has(req.type)) return { errors };
        const kept = req.type === 'download' ? { ...req, token: undefined } : req.type === 'push-to-hub' ? { ...req, token: '' } : req;
        return { pending: { ...s.pending, [rid]: { type: req.type, area, req: kept } }, errors };
      });
      const full = { ...req, rid } as Request;
      if (!t) throw new Error('The studio store has no transport: call connect() before request().');
      t.post(full);
      return rid;
    },
    handleEvent: (ev) => {
      const patch = applyEvent(get(), ev, metrics);
      if (patch) set(patch);
    },
  }));
  return { store, metrics, connect: (nt) => (t = nt) };
}
