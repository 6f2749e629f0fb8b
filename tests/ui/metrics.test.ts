// The metrics buffer's chart series and its CSV / JSONL exports.
import { describe, expect, it } from 'vitest';
import { MetricsBuffer, metricsToCsv, metricsToJsonl, seriesOf, type MetricsRow } from '../../src/ui/store/metrics.ts';

const rows: MetricsRow[] = [
  { kind: 'train' as const, step: 10, metrics: { loss: 0.7, accuracy: 0.5 } },
  { kind: 'train' as const, step: 20, metrics: { loss: 0.6, accuracy: 0.75 } },
  { kind: 'eval' as const, step: 20, metrics: { eval_loss: 0.65, eval_accuracy: 0.6 } },
];

describe('metrics', () => {
  it('puts train and eval of a metric on one step axis', () => {
    expect(seriesOf(rows, 'loss')).toEqual([
      { step: 10, train: 0.7 },
      { step: 20, train: 0.6, eval: 0.65 },
    ]);
    expect(seriesOf(rows, 'grad_norm')).toEqual([]);
  });
  it('exports CSV with a header and empty cells for missing values', () => {
    expect(metricsToCsv(rows)).toBe('kind,step,loss,accuracy,eval_loss,eval_accuracy\ntrain,10,0.7,0.5,,\ntrain,20,0.6,0.75,,\neval,20,,,0.65,0.6\n');
    // rows from a checkpoint's log_history carry step as a metric too: still one step column (pandas reads it as is)
    const history: MetricsRow[] = [{ kind: 'train', step: 5, metrics: { step: 5, loss: 0.5 } }];
    expect(metricsToCsv(history)).toBe('kind,step,loss\ntrain,5,0.5\n');
  });
  it('exports JSONL like a trainer log_history', () => {
    expect(metricsToJsonl(rows).split('\n').filter(Boolean).map((l) => JSON.parse(l))).toEqual([
      { step: 10, loss: 0.7, accuracy: 0.5 },
      { step: 20, loss: 0.6, accuracy: 0.75 },
      { step: 20, eval_loss: 0.65, eval_accuracy: 0.6 },
    ]);
    expect(metricsToJsonl([])).toBe('');
  });
  it('drops rows past a checkpoint step when a run resumes from it', () => {
    const b = new MetricsBuffer();
    b.reset(rows);
    const v = b.version;
    b.truncateAfter(10);
    expect(b.all().map((r) => r.step)).toEqual([10]);
    expect(b.version).toBe(v + 1);
  });
});
