// React access to the studio: the store (through selectors) and the metrics buffer. Actions are stable functions on
// the store's state, so `useActions()` never re-renders.
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import type { MetricsBuffer } from './store/metrics.ts';
import type { Studio, StudioState } from './store/store.ts';

export const StudioContext = createContext<Studio | null>(null);

function useStudioContext(): Studio {
  const s = useContext(StudioContext);
  if (!s) throw new Error('StudioContext is missing: render the app inside <StudioContext value={studio}>.');
  return s;
}

/** Subscribes to one slice of the state. Return primitives or stable references (or wrap with useShallow). */
export function useStudio<T>(selector: (s: StudioState) => T): T {
  return useStore(useStudioContext().store, selector);
}

export function useActions(): StudioState {
  return useStudioContext().store.getState();
}

export function useMetricsBuffer(): MetricsBuffer {
  return useStudioContext().metrics;
}

/** The store itself, for event handlers that read the current state at the moment they run. */
export function useStudioApi(): Studio['store'] {
  return useStudioContext().store;
}

/** The whole studio (store + metrics), for actions that span both (starting a run). */
export function useStudioHandle(): Studio {
  return useStudioContext();
}
