// A run's data as the files its exported TRL script loads: the train and test splits the studio trained and
// evaluated on, written as JSONL beside the script (an import's valid pairs after its seeded split, or the demo
// set). The names come from the imported file's own name, so a reload (or another tab) writes the same names.
// A Hub dataset needs no files: the script loads the repo.
import type { DatasetRef, ImportSplit } from './protocol.ts';

export interface RunDataNames {
  train: string;
  /** null when the run has no evaluation split (an import kept whole). */
  eval: string | null;
}

/** "my-prefs.jsonl" → "my-prefs". */
function stemOf(name: string): string {
  const base = name.replace(/\\/g, '/').split('/').pop() || 'data';
  return base.replace(/\.(jsonl|json|parquet)$/i, '') || 'data';
}

/**
 * The file names of a run's splits: "<stem>.train.jsonl" + "<stem>.test.jsonl" for a split import or the demo set,
 * the file's own name for an import kept whole, null for a Hub dataset.
 */
export function runDataNames(ref: DatasetRef, importName: string | undefined, split: ImportSplit | null): RunDataNames | null {
  if (ref.kind === 'hub') return null;
  if (ref.kind === 'demo') return { train: 'demo-preferences.train.jsonl', eval: 'demo-preferences.test.jsonl' };
  const stem = stemOf(importName ?? 'imported');
  if (split?.kind === 'whole') return { train: `${stem}.jsonl`, eval: null };
  return { train: `${stem}.train.jsonl`, eval: `${stem}.test.jsonl` };
}
