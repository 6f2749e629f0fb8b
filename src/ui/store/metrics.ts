// The metrics buffer: every `log` and `eval` row of the current run, outside React and outside the zustand store.
// Charts and the metrics table subscribe to it and re-read at most once per animation frame, so a training step
// re-renders only the charts, never the whole tree. Rows keep TRL's metric names (eval rows with the eval_ prefix,
// as TRL logs them).

export type MetricsKind = 'train' | 'eval';

export interface MetricsRow {
  kind: MetricsKind;
  step: number;
  /** TRL names: loss, accuracy, margin, learning_rate, grad_norm, epoch, ... (eval_loss, eval_accuracy, ...). */
  metrics: Record<string, number>;
}

export class MetricsBuffer {
  private rows: MetricsRow[] = [];
  private listeners = new Set<() => void>();
  /** Increments on every change; a cheap snapshot key for useSyncExternalStore. */
  version = 0;

  push(row: MetricsRow): void {
    this.rows.push(row);
    this.changed();
  }

  /** Replaces everything (e.g. the log history restored with a checkpoint). */
  reset(rows: MetricsRow[] = []): void {
    this.rows = rows.slice();
    this.changed();
  }

  all(): readonly MetricsRow[] {
    return this.rows;
  }

  /** Drops rows past `step` (a run resumed from an earlier checkpoint logs those steps again). */
  truncateAfter(step: number): void {
    const kept = this.rows.filter((r) => r.step <= step);
    if (kept.length !== this.rows.length) {
      this.rows = kept;
      this.changed();
    }
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  };

  getVersion = (): number => this.version;

  private changed(): void {
    this.version++;
    for (const fn of this.listeners) fn();
  }
}

/** The base name of a metric: eval rows store 'eval_loss', charts plot it on the 'loss' axes. */
export function baseName(key: string): string {
  return key.startsWith('eval_') ? key.slice(5) : key;
}

/** Points of one metric for a chart: train and eval on the same step axis. */
export function seriesOf(rows: readonly MetricsRow[], metric: string): { step: number; train?: number; eval?: number }[] {
  const byStep = new Map<number, { step: number; train?: number; eval?: number }>();
  for (const r of rows) {
    const key = r.kind === 'eval' ? `eval_${metric}` : metric;
    const v = r.metrics[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    let p = byStep.get(r.step);
    if (!p) byStep.set(r.step, (p = { step: r.step }));
    p[r.kind] = v;
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** All metric names present, in first-seen order, with `step` and `kind` as the leading columns of exports. */
export function metricColumns(rows: readonly MetricsRow[]): string[] {
  const seen = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r.metrics)) seen.add(k);
  // the step is the row's own column (a resumed run's log_history rows also carry it as a metric)
  seen.delete('step');
  return [...seen];
}

function csvCell(v: string | number | undefined): string {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV with a header `kind,step,<metrics...>`; missing values are empty cells. */
export function metricsToCsv(rows: readonly MetricsRow[]): string {
  const cols = metricColumns(rows);
  const lines = [['kind', 'step', ...cols].map(csvCell).join(',')];
  for (const r of rows) lines.push([r.kind, r.step, ...cols.map((c) => r.metrics[c])].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}

/** One JSON object per line, like the `log_history` entries of a transformers trainer_state.json. */
export function metricsToJsonl(rows: readonly MetricsRow[]): string {
  return rows.map((r) => JSON.stringify({ step: r.step, ...r.metrics })).join('\n') + (rows.length ? '\n' : '');
}
