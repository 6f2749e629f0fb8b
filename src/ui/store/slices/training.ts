// Training slice: the run's state and progress (per-step metrics go to the MetricsBuffer, not here), the
// evaluation and scoring results, and the exported files.
import type { StateCreator } from 'zustand/vanilla';
import type { BatchPairs, BestOfNResult, EvalFlips, ImportError, EvalReport, EvalSource, ExportWhat, LoadedModelInfo, OnnxVerify, OutFile, PairScore, RunSummary, TrainState } from '../../../worker/protocol.ts';
import type { StudioState } from '../store.ts';

export interface Progress {
  step: number;
  maxSteps: number;
  epoch: number;
  tokensPerSecond: number;
  /** Seconds left at the recent rate, or null before two progress events. */
  etaSeconds: number | null;
}

export interface TrainingSlice {
  train: {
    state: TrainState;
    message: string | null;
    progress: Progress | null;
    lastCheckpoint: number | null;
    /** True when lastCheckpoint is a recovery checkpoint (time interval / page hidden), not a save_steps one. */
    lastCheckpointRecovery: boolean;
    tokenize: { split: string; done: number; total: number | null; filtered: number } | null;
    /** The splits whose token ids are ready for this run; cached: read from IndexedDB, not tokenized again. */
    tokenized: { split: string; pairs: number; filtered: number; cached: boolean }[];
    /** The run this tab trains (its id in the browser's run store). */
    runId: string | null;
    /** Eval pairs that flipped between the last two evals of this run. */
    flips: EvalFlips | null;
  };
  /** Runs stored in this browser, newest first (resumable after a reload). */
  runs: RunSummary[];
  /** Stored runs' histories and configs, for the side-by-side view. */
  runsCompare: { id: string; createdAt: number; config: Record<string, unknown>; history: Record<string, number>[] }[] | null;
  evaluation: {
    /** Which model scores: this tab's run, or the loaded adapter/model folder. */
    source: EvalSource;
    /** The folder loaded for evaluation (in the train worker). */
    loaded: LoadedModelInfo | null;
    pair: (PairScore & { source: EvalSource }) | null;
    report: (EvalReport & { source: EvalSource }) | null;
    /** The last batch scoring: records (or pairs) scored, the output file, the skipped lines; pair metrics for pairs. */
    batch: { rows: number; file: OutFile; errorCount: number; errors: ImportError[]; pairs: BatchPairs | null } | null;
    /** Best-of-N accuracy of a RewardBench 2-style file. */
    bestOfN: (BestOfNResult & { source: EvalSource }) | null;
    /** The text of one pair of the report (clicked in the per-pair table). */
    pairText: { index: number; chosen: string; rejected: string; from: 'eval' | 'batch' } | null;
  };
  exports: Partial<Record<ExportWhat | 'data', OutFile[]>>;
  /** The last ONNX export's verification (onnxruntime-web vs the engine). */
  onnxVerify: OnnxVerify | null;
  /** The last push to the Hub. */
  pushed: { repo: string; commitUrl: string; created: boolean } | null;
  /** A PEFT adapter folder the next new run continues from (its weights are the starting point). */
  continueFrom: { name: string; files: File[] } | null;
  setEvalSource: (source: EvalSource) => void;
  setContinueFrom: (c: { name: string; files: File[] } | null) => void;
}

export const createTrainingSlice: StateCreator<StudioState, [], [], TrainingSlice> = (set) => ({
  train: { state: 'idle', message: null, progress: null, lastCheckpoint: null, lastCheckpointRecovery: false, tokenize: null, tokenized: [], runId: null, flips: null },
  runs: [],
  runsCompare: null,
  evaluation: { source: 'run', loaded: null, pair: null, report: null, batch: null, bestOfN: null, pairText: null },
  exports: {},
  onnxVerify: null,
  pushed: null,
  continueFrom: null,
  setEvalSource: (source) => set((s) => ({ evaluation: { ...s.evaluation, source } })),
  setContinueFrom: (continueFrom) => set({ continueFrom }),
});
