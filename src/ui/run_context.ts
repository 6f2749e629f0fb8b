// The run the results follow: the run this tab trains or opened, or (after a reload) the run it last had, kept in
// localStorage. Evaluate, Export and the exported TRL script use its own model, data (with its split) and config;
// without a run they use the current selection in Model & data and Configure.
import { modelRefName, type ConfigJson, type DatasetRef, type ImportSplit, type ModelRef, type RunSummary } from '../worker/protocol.ts';
import type { ScriptContext } from './panels/configure/trl_script.ts';
import type { StudioState } from './store/store.ts';

export function selectedRun(s: Pick<StudioState, 'runs' | 'train'>): RunSummary | null {
  const id = s.train.runId;
  return id ? (s.runs.find((r) => r.id === id) ?? null) : null;
}

/** The stored import's name and split (from IndexedDB, so it survives a reload). */
export function importInfo(s: Pick<StudioState, 'storedImports' | 'imports'>, ref: DatasetRef): { name?: string; split: ImportSplit | null } {
  if (ref.kind !== 'import') return { split: null };
  const stored = s.storedImports.find((i) => i.id === ref.id);
  return { name: stored?.name ?? s.imports.find((i) => i.id === ref.id)?.name, split: stored?.split ?? null };
}

export interface RunContext {
  config: ConfigJson;
  model: ModelRef;
  dataset: DatasetRef;
  run: RunSummary | null;
}

/** What the results follow: the selected run's own config, model and data, or the current selection. */
export function runContext(s: StudioState): RunContext {
  const run = selectedRun(s);
  if (run) return { config: run.config, model: run.model, dataset: run.dataset, run };
  return { config: s.config, model: s.selection.model, dataset: s.selection.dataset, run: null };
}

/** The TRL script's context for the run (or the selection). */
export function scriptContextOf(s: StudioState, ctx: RunContext = runContext(s)): ScriptContext {
  const info = importInfo(s, ctx.dataset);
  return { config: ctx.config, model: ctx.model, dataset: ctx.dataset, importName: info.name ?? ctx.run?.dataName, split: info.split ?? ctx.run?.split ?? null };
}

/** The data in words, for labels: an import's file name, a Hub repo, or the demo set. */
export function dataLabel(s: Pick<StudioState, 'storedImports' | 'imports'>, ref: DatasetRef): string {
  if (ref.kind === 'demo') return 'demo preferences';
  if (ref.kind === 'hub') return ref.repo;
  return importInfo(s, ref).name ?? 'an imported file';
}

export function modelLabel(m: ModelRef): string {
  return modelRefName(m, 'demo model');
}

/** Who scores in Evaluate & compare: the loaded folder, or the run the page follows (opened by the worker if needed). */
export function evalTarget(s: StudioState): { source: 'run' | 'loaded'; runId?: string } {
  const source = s.evaluation.source;
  return source === 'run' && s.train.runId ? { source, runId: s.train.runId } : { source };
}
