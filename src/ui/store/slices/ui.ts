// Page slice: the open panel, requests in flight (by rid) and the last error of each area, shown where it happened.
import type { StateCreator } from 'zustand/vanilla';
import type { Area, RequestType } from '../../../worker/protocol.ts';
import type { NewRequest, StudioState } from '../store.ts';

export const PANELS = [
  { id: 'model-data', label: 'Model & data' },
  { id: 'inspect', label: 'Inspect' },
  { id: 'configure', label: 'Configure' },
  { id: 'train', label: 'Train' },
  { id: 'evaluate', label: 'Evaluate & compare' },
  { id: 'export', label: 'Export' },
] as const;

export type PanelId = (typeof PANELS)[number]['id'];

export interface UiError {
  message: string;
  fix: string;
  /** Which request type it answered, when known (lets a component show it beside the right control). */
  request?: RequestType;
}

export interface UiSlice {
  tab: PanelId;
  /** Requests in flight by rid (the request itself, without any token). */
  pending: Record<number, { type: RequestType; area: Area; req: NewRequest }>;
  errors: Partial<Record<Area, UiError>>;
  /** The last warnings (at most 20), shown in their area until dismissed. */
  warnings: { where: Area; message: string }[];
  setTab: (tab: PanelId) => void;
  /** Shows an error raised on the page itself (bad JSON file, invalid field). */
  showError: (area: Area, message: string, fix: string) => void;
  clearError: (area: Area) => void;
}

export const createUiSlice: StateCreator<StudioState, [], [], UiSlice> = (set) => ({
  tab: 'model-data',
  pending: {},
  errors: {},
  warnings: [],
  setTab: (tab) => set({ tab }),
  showError: (area, message, fix) => set((s) => ({ errors: { ...s.errors, [area]: { message, fix } } })),
  clearError: (area) =>
    set((s) => {
      if (!s.errors[area]) return {};
      const errors = { ...s.errors };
      delete errors[area];
      return { errors };
    }),
});
