// Runs stored in this browser (their checkpoints live in IndexedDB): after a reload or a crashed tab, resume one from
// its last checkpoint, open it (its last checkpoint, no training) to evaluate or export a finished run, or delete it.
// A run whose imported data or downloaded model was deleted says so instead.
import { useEffect } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioHandle } from '../../context.ts';
import { openStoredRun, startTraining } from '../../actions.ts';
import type { RunSummary, StoredImport } from '../../../worker/protocol.ts';

function label(r: RunSummary, imports: StoredImport[]): string {
  const m = r.model.kind === 'hub' ? r.model.repo : 'demo model';
  const d = r.dataset;
  const data = d.kind === 'hub' ? d.repo : d.kind === 'demo' ? 'demo preferences' : `${imports.find((i) => i.id === d.id)?.name ?? 'an imported file'} (imported)`;
  return `${m} on ${data}`;
}

export function StoredRuns() {
  const runs = useStudio((s) => s.runs);
  const state = useStudio((s) => s.train.state);
  const current = useStudio((s) => s.train.runId);
  const imports = useStudio((s) => s.storedImports);
  const { request } = useActions();
  const studio = useStudioHandle();
  useEffect(() => {
    if (state === 'idle' || state === 'done' || state === 'stopped' || state === 'error') request({ type: 'runs-list' });
  }, [request, state]);
  const active = state === 'running' || state === 'loading' || state === 'paused' || state === 'stopping';
  const shown = runs.filter((r) => r.id !== current || !active);
  if (shown.length === 0) return null;
  return (
    <Section title="Runs stored in this browser" id="runs">
      <table className="table compact" data-testid="stored-runs">
        <tbody>
          {shown.map((r) => (
            <tr key={r.id} data-run-id={r.id}>
              <td>
                {label(r, imports)} <span className="muted">{new Date(r.createdAt).toLocaleString()}</span>
              </td>
              <td>
                {r.state} · checkpoint {r.lastCheckpoint === null ? 'none' : `step ${r.lastCheckpoint}`}
                {r.maxSteps ? ` of ${r.maxSteps}` : ''}
                {r.missing && <span className="invalid small"> · cannot continue: {r.missing}</span>}
              </td>
              <td className="actions">
                {r.resumable && (
                  <button type="button" disabled={active} onClick={() => startTraining(studio, r.id)} data-testid="run-resume">
                    Resume from step {r.lastCheckpoint}
                  </button>
                )}
                {r.openable && !(r.id === current && (state === 'done' || state === 'stopped')) && (
                  <button type="button" disabled={active} onClick={() => openStoredRun(studio, r.id)} data-testid="run-open" title="Load its last checkpoint to evaluate or export it (no training)">
                    Open
                  </button>
                )}
                <button type="button" className="link danger" disabled={active && r.id === current} onClick={() => request({ type: 'run-delete', runId: r.id })}>
                  Delete
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}
