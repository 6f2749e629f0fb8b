// Runs stored in this browser (their checkpoints live in IndexedDB): after a reload or a crashed tab, resume one from
// its last checkpoint, or delete it.
import { useEffect } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioHandle } from '../../context.ts';
import { startTraining } from '../../actions.ts';
import type { RunSummary } from '../../../worker/protocol.ts';

function label(r: RunSummary): string {
  const m = r.model.kind === 'hub' ? r.model.repo : 'demo model';
  const d = r.dataset.kind === 'hub' ? r.dataset.repo : r.dataset.kind === 'demo' ? 'demo preferences' : 'imported file';
  return `${m} on ${d}`;
}

export function StoredRuns() {
  const runs = useStudio((s) => s.runs);
  const state = useStudio((s) => s.train.state);
  const current = useStudio((s) => s.train.runId);
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
            <tr key={r.id}>
              <td>
                {label(r)} <span className="muted">{new Date(r.createdAt).toLocaleString()}</span>
              </td>
              <td>
                {r.state} · checkpoint {r.lastCheckpoint === null ? 'none' : `step ${r.lastCheckpoint}`}
                {r.maxSteps ? ` of ${r.maxSteps}` : ''}
              </td>
              <td className="actions">
                {r.resumable && (
                  <button type="button" disabled={active} onClick={() => startTraining(studio, r.id)} data-testid="run-resume">
                    Resume from step {r.lastCheckpoint}
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
