// The step benchmark's table, as `npm run bench` prints it and the studio shows it (plain text, fixed columns).
import type { StepResult } from './step_bench.ts';

const COLS: [string, number, (r: StepResult & { vs_torch?: Record<string, number> }) => string][] = [
  ['config', 30, (r) => r.name],
  ['ms/step', 10, (r) => `${r.ms.toFixed(1)}${r.timing === 'gpu-timestamps' ? ' gpu' : ''}`],
  ['wall ms', 9, (r) => (r.ms_wall ?? r.ms).toFixed(1)],
  ['tok/s', 10, (r) => r.tokens_per_second.toFixed(0)],
  ['TFLOP/s', 8, (r) => r.tflops.toFixed(3)],
  ['disp/layer', 10, (r) => String(r.dispatches_per_layer)],
  ['disp/step', 9, (r) => String(r.dispatches_per_step)],
  // products on subgroup matrices per micro-step (absent in results written before the column existed)
  ['matrix', 7, (r) => ((r as { matrix_unit_dispatches?: number }).matrix_unit_dispatches ?? '—').toString()],
  ['subm/micro', 10, (r) => String(r.submissions_per_micro_step)],
  ['alloc/step', 10, (r) => String(r.allocations_per_step)],
  ['rows', 7, (r) => String(r.rows_processed)],
  ['real tok', 8, (r) => String(r.real_tokens)],
  ['vs torch', 22, (r) => (r.vs_torch ? Object.entries(r.vs_torch).map(([k, v]) => `${k} ${v.toFixed(2)}×`).join(' ') || 'no match' : '')],
];

export function formatStepTable(rows: (StepResult & { vs_torch?: Record<string, number> })[], header = true): string {
  const lines: string[] = [];
  if (header) lines.push(COLS.map(([h, w], i) => (i === 0 ? h.padEnd(w) : h.padStart(w))).join(' '));
  for (const r of rows) lines.push(COLS.map(([, w, f], i) => (i === 0 ? f(r).padEnd(w) : f(r).padStart(w))).join(' '));
  return lines.join('\n');
}
