// Batch scoring: drop (or choose) a JSONL and get a JSONL of rewards. Single responses (messages | text | input_ids
// per line) get a reward each; a file of TRL preference pairs (prompt/chosen/rejected, conversational or text,
// explicit or implicit prompt, or chosen_ids/rejected_ids) gets both rewards per pair, TRL's accuracy and margin,
// and the per-pair table. Skipped lines and errors (file line and field) show on this card.
import { useId, useState } from 'react';
import { ErrorNote } from '../../components/ErrorNote.tsx';
import { Section } from '../../components/Section.tsx';
import { evalTarget } from '../../run_context.ts';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatMetric } from '../../format.ts';
import { saveFile } from '../../save_file.ts';
import { isJsonl } from '../../shell/DropZone.tsx';
import { PairTableView } from './PairTable.tsx';

/** Skipped lines listed on the card (all are counted). */
const SHOWN_ERRORS = 10;

export function BatchScore() {
  const batch = useStudio((s) => s.evaluation.batch);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'score-batch'));
  const { request } = useActions();
  const api = useStudioApi();
  const [over, setOver] = useState(false);
  const [notJsonl, setNotJsonl] = useState<string | null>(null);
  const inputId = useId();
  const score = (file: File | undefined) => {
    if (!file) return;
    if (!isJsonl(file)) return setNotJsonl(`${file.name}: not a JSONL file. Use a .jsonl file with one record or one preference pair per line.`);
    setNotJsonl(null);
    request({ type: 'score-batch', file, ...evalTarget(api.getState()) });
  };
  const pairs = batch?.pairs ?? null;
  return (
    <Section title="Score a JSONL file" id="batch">
      <ErrorNote area="evaluate" requests={['score-batch']} />
      {notJsonl && (
        <p className="invalid" role="alert">
          {notJsonl}
        </p>
      )}
      <div
        className={over ? 'drop-target over' : 'drop-target'}
        data-drop-target="score-batch"
        onDragOver={(e) => {
          e.preventDefault();
          setOver(true);
        }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          score(e.dataTransfer.files[0]);
        }}
      >
        <p>
          Drop a JSONL here, one record per line: <code>{'{"messages": [...]}'}</code> or <code>{'{"text": "..."}'}</code> — or TRL preference pairs (
          <code>prompt</code>/<code>chosen</code>/<code>rejected</code>, or <code>chosen_ids</code>/<code>rejected_ids</code>) for accuracy and margins.
        </p>
        <label htmlFor={inputId} className="button">
          {pending ? 'Scoring…' : 'Choose JSONL…'}
        </label>
        <input id={inputId} className="visually-hidden" type="file" accept=".jsonl,application/jsonl" disabled={pending} onChange={(e) => score(e.target.files?.[0])} data-testid="batch-input" />
      </div>
      {batch && (
        <p data-testid="batch-result">
          Scored {batch.rows} {pairs ? 'pairs' : 'records'}
          {batch.errorCount ? ` (${batch.errorCount} invalid line${batch.errorCount === 1 ? '' : 's'} skipped, listed below)` : ''}.{' '}
          <button type="button" className="link" onClick={() => saveFile(batch.file.name, batch.file.data, 'application/jsonl')}>
            Download {batch.file.name}
          </button>
        </p>
      )}
      {pairs && (
        <dl className="stats" data-testid="batch-pair-metrics">
          <div>
            <dt>accuracy</dt>
            <dd data-testid="batch-accuracy" data-value={pairs.metrics.accuracy}>{(100 * pairs.metrics.accuracy).toFixed(1)}%</dd>
          </div>
          <div>
            <dt>mean margin</dt>
            <dd data-testid="batch-margin">{formatMetric(pairs.metrics.margin)}</dd>
          </div>
          <div>
            <dt>loss</dt>
            <dd>{formatMetric(pairs.metrics.loss)}</dd>
          </div>
        </dl>
      )}
      {batch && batch.errors.length > 0 && (
        <ul className="small invalid" data-testid="batch-errors">
          {batch.errors.slice(0, SHOWN_ERRORS).map((e, i) => (
            <li key={i}>
              line {e.line}
              {e.field ? `, ${e.field}` : ''}: {e.message}
            </li>
          ))}
          {batch.errorCount > SHOWN_ERRORS && <li>… {batch.errorCount - SHOWN_ERRORS} more</li>}
        </ul>
      )}
      {pairs && <PairTableView data={pairs} from="batch" testId="batch-pair-table" />}
    </Section>
  );
}
