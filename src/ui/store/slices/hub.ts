// Model & data slice: Hub settings (base URL, token), the chosen repos, downloads in flight, what is stored, and
// imported JSONL files. The token lives only in memory unless the user ticks "remember for this tab"
// (sessionStorage, handled by src/ui/store/persist.ts).
import type { StateCreator } from 'zustand/vanilla';
import type { DownloadFileProgress, DownloadOverall, ImportError, Split, StoredFile } from '../../../worker/protocol.ts';
import type { StudioState } from '../store.ts';

export const DEFAULT_HUB_URL = 'https://huggingface.co';
export const DEFAULT_MODEL_REPO = 'Qwen/Qwen3-0.6B';
export const DEFAULT_DATASET_REPO = 'trl-lib/ultrafeedback_binarized';

export interface DownloadState {
  rid: number;
  what: 'model' | 'dataset';
  repo: string;
  revision: string;
  files: DownloadFileProgress[];
  overall: DownloadOverall;
  status: 'running' | 'done' | 'error' | 'cancelled';
}

export interface ImportSummary {
  id: string;
  name: string;
  split: Split;
  lines: number;
  valid: number;
  format: 'conversational' | 'standard' | 'unknown';
  errors: ImportError[];
  errorCount: number;
  blankLines: number;
  duplicates: number;
  /** Usable for training: all lines were valid, or the user accepted the valid ones. */
  accepted: boolean;
  /** Pairs imported once accepted. */
  pairs: number | null;
}

export interface HubSlice {
  hub: {
    hubUrl: string;
    token: string;
    rememberToken: boolean;
    modelRepo: string;
    modelRevision: string;
    datasetRepo: string;
    datasetRevision: string;
  };
  downloads: Record<number, DownloadState>;
  storage: { files: StoredFile[]; usage: number | null; quota: number | null; loaded: boolean };
  imports: ImportSummary[];
  setHub: (patch: Partial<HubSlice['hub']>) => void;
}

export const createHubSlice: StateCreator<StudioState, [], [], HubSlice> = (set) => ({
  hub: {
    hubUrl: DEFAULT_HUB_URL,
    token: '',
    rememberToken: false,
    modelRepo: DEFAULT_MODEL_REPO,
    modelRevision: 'main',
    datasetRepo: DEFAULT_DATASET_REPO,
    datasetRevision: 'main',
  },
  downloads: {},
  storage: { files: [], usage: null, quota: null, loaded: false },
  imports: [],
  setHub: (patch) => set((s) => ({ hub: { ...s.hub, ...patch } })),
});
