// What differs between stored runs, for the run list: the settings a practitioner compares (learning rate, LoRA r
// or full fine-tuning, data, steps, batch size, max_length, seed), shown only where the runs differ (all of them when
// there is one run).
import type { RunSummary } from '../../../worker/protocol.ts';

interface Column {
  label: string;
  value: (r: RunSummary) => string;
}

const num = (v: unknown) => (typeof v === 'number' ? String(v) : v === null || v === undefined ? '–' : String(v));

export const RUN_COLUMNS: Column[] = [
  { label: 'data', value: (r) => r.dataName },
  { label: 'lr', value: (r) => num(r.config.learning_rate) },
  { label: 'LoRA', value: (r) => (r.config.peft && typeof r.config.peft === 'object' ? `r ${num((r.config.peft as Record<string, unknown>).r)}` : 'full') },
  { label: 'steps', value: (r) => (r.maxSteps === null ? '–' : String(r.maxSteps)) },
  { label: 'batch', value: (r) => num(r.config.per_device_train_batch_size) },
  { label: 'max_length', value: (r) => num(r.config.max_length) },
  { label: 'seed', value: (r) => num(r.config.seed) },
];

/** Per run, "label value" for each column where the runs differ (every column for a single run). */
export function runDifferences(runs: RunSummary[]): Map<string, string[]> {
  const cols = runs.length < 2 ? RUN_COLUMNS : RUN_COLUMNS.filter((c) => new Set(runs.map(c.value)).size > 1);
  return new Map(runs.map((r) => [r.id, cols.map((c) => `${c.label} ${c.value(r)}`)]));
}
