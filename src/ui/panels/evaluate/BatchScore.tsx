// Batch scoring: drop (or choose) a JSONL of records (messages | text per line), get a JSONL with a reward per line.
import { useId, useState } from 'react';
import { Section } from '../../components/Section.tsx';
import { evalTarget } from '../../run_context.ts';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { saveFile } from '../../save_file.ts';
import { isJsonl } from '../../shell/DropZone.tsx';

export function BatchScore() {
  const batch = useStudio((s) => s.evaluation.batch);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'score-batch'));
  const { request, showError } = useActions();
  const api = useStudioApi();
  const [over, setOver] = useState(false);
  const inputId = useId();
  const score = (file: File | undefined) => {
    if (!file) return;
    if (!isJsonl(file)) return showError('evaluate', `${file.name}: not a JSONL file.`, 'Use a .jsonl file with one {"messages": [...]} or {"text": "..."} per line.');
    request({ type: 'score-batch', file, ...evalTarget(api.getState()) });
  };
  return (
    <Section title="Score a JSONL file" id="batch">
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
          Drop a JSONL here, one record per line: <code>{'{"messages": [...]}'}</code> or <code>{'{"text": "..."}'}</code>.
        </p>
        <label htmlFor={inputId} className="button">
          {pending ? 'Scoring…' : 'Choose JSONL…'}
        </label>
        <input id={inputId} className="visually-hidden" type="file" accept=".jsonl,application/jsonl" disabled={pending} onChange={(e) => score(e.target.files?.[0])} data-testid="batch-input" />
      </div>
      {batch && (
        <p data-testid="batch-result">
          Scored {batch.rows} records{batch.errorCount ? ` (${batch.errorCount} lines skipped, see the file)` : ''}.{' '}
          <button type="button" className="link" onClick={() => saveFile(batch.file.name, batch.file.data, 'application/jsonl')}>
            Download {batch.file.name}
          </button>
        </p>
      )}
    </Section>
  );
}
