// Model & data slice: Hub settings (base URL, token), the chosen repos, downloads in flight, what is stored, and
// imported JSONL files (this tab's validation summaries, and the imports stored in the browser with their split).
// The token lives only in memory unless the user ticks "remember for this tab" (sessionStorage, handled by
// src/ui/store/persist.ts).
import type { StateCreator } from 'zustand/vanilla';
import type { DownloadFileProgress, DownloadOverall, ImportSplit, StoredFile, StoredImport, WorkerEvent } from '../../../worker/protocol.ts';
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

/** The split new imports get (datasets' train_test_split: test_size a fraction or a row count). */
export interface ImportSplitSetting {
  test_size: number;
  seed: number;
}

export const DEFAULT_IMPORT_SPLIT: ImportSplitSetting = { test_size: 0.1, seed: 42 };

/**
 * The split for a dropped file: a file named like "test"/"eval" is an eval set as a whole; others are split by the
 * setting (test_size 0: no test split).
 */
export function importSplitFor(fileName: string, setting: ImportSplitSetting): ImportSplit {
  if (/test|eval/i.test(fileName)) return { kind: 'whole', split: 'test' };
  return setting.test_size === 0 ? { kind: 'whole', split: 'train' } : { kind: 'seeded', ...setting };
}

/** This tab's validation summary of a dropped file: the worker's import-summary event (its `rid` is the
 *  import-jsonl request it answered), plus the pairs imported once stored. */
export type ImportSummary = Omit<Extract<WorkerEvent, { type: 'import-summary' }>, 'type'> & {
  pairs: number | null;
};

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
  /** Imports stored in this browser (IndexedDB), newest first. */
  storedImports: StoredImport[];
  /** The split new imports get. */
  importSplit: ImportSplitSetting;
  /** .json files holding a JSON array, waiting for "convert to JSONL" (import_files.ts). */
  jsonArrays: File[];
  setHub: (patch: Partial<HubSlice['hub']>) => void;
  setImportSplit: (patch: Partial<ImportSplitSetting>) => void;
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
  storedImports: [],
  importSplit: { ...DEFAULT_IMPORT_SPLIT },
  jsonArrays: [],
  setHub: (patch) => set((s) => ({ hub: { ...s.hub, ...patch } })),
  setImportSplit: (patch) => set((s) => ({ importSplit: { ...s.importSplit, ...patch } })),
});
