// How an import's split reads on the page: "train 225 · test 25 (test_size 0.1, seed 42)".
import type { ImportSplit, StoredImport } from '../../../worker/protocol.ts';

export function splitText(split: ImportSplit): string {
  return split.kind === 'whole' ? `the whole file as ${split.split}` : `test_size ${split.test_size}, seed ${split.seed}`;
}

export function splitCountsText(s: Pick<StoredImport, 'splits' | 'split'>): string {
  const parts = (['train', 'test'] as const).filter((k) => s.splits[k] > 0 || s.split.kind === 'seeded').map((k) => `${k} ${s.splits[k]}`);
  return `${parts.join(' · ')} (${splitText(s.split)})`;
}

/** TRL's format name of a file, with "+ prompt" for the explicit-prompt variant (as Inspect shows it). */
export function formatLabel(format: string, explicitPrompt?: boolean): string {
  return explicitPrompt ? `${format} + explicit prompt` : format;
}
