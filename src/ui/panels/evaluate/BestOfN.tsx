// Best-of-N evaluation: a JSONL in RewardBench 2's format (prompt, chosen, rejected as a list, optional subset) →
// the share of records whose chosen response outscores every rejected one, overall and per subset.
import { useId } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { isJsonl } from '../../shell/DropZone.tsx';

const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');

export function BestOfN() {
  const result = useStudio((s) => s.evaluation.bestOfN);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'best-of-n'));
  const { request, showError } = useActions();
  const api = useStudioApi();
  const inputId = useId();
  const run = (file: File | undefined) => {
    if (!file) return;
    if (!isJsonl(file)) return showError('evaluate', `${file.name}: not a JSONL file.`, 'Use a .jsonl file with one {"prompt", "chosen", "rejected": [...]} record per line.');
    const s = api.getState();
    const maxLength = typeof s.config.max_length === 'number' ? s.config.max_length : undefined;
    request({ type: 'best-of-n', file, source: s.evaluation.source, ...(maxLength ? { maxLength } : {}) });
  };
  return (
    <Section title="Best-of-N accuracy" id="best-of-n">
      <p className="small muted">
        One record per line, RewardBench 2's format: <code>{'{"prompt": "...", "chosen": ["..."], "rejected": ["...", "...", "..."], "subset": "..."}'}</code>. A
        record counts as correct when every chosen response outscores every rejected one.
      </p>
      <label htmlFor={inputId} className="button">
        {pending ? 'Scoring…' : 'Choose JSONL…'}
      </label>
      <input id={inputId} className="visually-hidden" type="file" accept=".jsonl,application/jsonl" disabled={pending} onChange={(e) => run(e.target.files?.[0])} data-testid="best-of-n-input" />
      {result && (
        <div data-testid="best-of-n-result">
          <p>
            {result.file}: <strong>{pct(result.accuracy)}</strong> of {result.records} records
            {result.filtered ? ` (${result.filtered} longer than max_length not scored)` : ''}; mean over subsets {pct(result.subset_mean_accuracy)} ·{' '}
            {result.step === null ? 'loaded folder' : `run at step ${result.step}`}
          </p>
          <table className="metrics-table">
            <thead>
              <tr>
                <th>subset</th>
                <th>records</th>
                <th>correct</th>
                <th>accuracy</th>
              </tr>
            </thead>
            <tbody>
              {result.subsets.map((s) => (
                <tr key={s.subset}>
                  <td>{s.subset}</td>
                  <td>{s.records}</td>
                  <td>{s.correct}</td>
                  <td>{pct(s.accuracy)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
