// Runs stored in this browser (their checkpoints live in IndexedDB), with what differs between them (data, lr, LoRA
// r, steps, …). The run the page follows (Evaluate, Export) is marked; another one is followed with "Open" (its last
// checkpoint, no training). A run whose tab died is "interrupted" and resumes from its last checkpoint (a save_steps
// or a recovery one) with Train's Resume button (the followed run) or its own. Runs can be renamed and deleted. A run
// whose imported data or downloaded model was deleted says so instead.
import { useEffect } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioHandle } from '../../context.ts';
import { openStoredRun, startTraining } from '../../actions.ts';
import type { RunSummary } from '../../../worker/protocol.ts';
import { modelLabel } from '../../run_context.ts';
import { runDifferences } from './run_diff.ts';

function label(r: RunSummary): string {
  return `${modelLabel(r.model)} on ${r.dataName}${r.dataset.kind === 'import' ? ' (imported)' : ''}`;
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
  if (runs.length === 0) return null;
  const diffs = runDifferences(runs);
  const rename = (r: RunSummary) => {
    const name = window.prompt('Name of this run', r.name ?? '');
    if (name !== null) request({ type: 'run-rename', runId: r.id, name });
  };
  return (
    <Section title="Runs stored in this browser" id="runs">
      <table className="table compact" data-testid="stored-runs">
        <tbody>
          {runs.map((r) => {
            const mine = r.id === current;
            const stateText = mine && active ? state : r.state;
            return (
              <tr key={r.id} data-run-id={r.id} data-state={stateText} className={mine ? 'selected' : undefined} aria-current={mine ? 'true' : undefined}>
                <td>
                  {r.name ? <strong>{r.name}</strong> : null} {label(r)} <span className="muted">{new Date(r.createdAt).toLocaleString()}</span>
                  {mine && <span className="badge"> followed by Evaluate and Export</span>}
                  <div className="small muted" data-testid="run-diff">
                    {diffs.get(r.id)!.join(' · ')}
                  </div>
                </td>
                <td data-testid="run-state">
                  {stateText} · checkpoint {r.lastCheckpoint === null ? 'none' : `step ${r.lastCheckpoint}${r.lastCheckpointRecovery ? ' (recovery)' : ''}`}
                  {r.maxSteps ? ` of ${r.maxSteps}` : ''}
                  {r.missing && <span className="invalid small"> · cannot continue: {r.missing}</span>}
                </td>
                <td className="actions">
                  {r.resumable && !mine && (
                    <button type="button" disabled={active} onClick={() => startTraining(studio, r.id)} data-testid="run-resume">
                      Resume from step {r.lastCheckpoint ?? 0}
                    </button>
                  )}
                  {r.openable && !(mine && (state === 'done' || state === 'stopped' || active)) && (
                    <button type="button" disabled={active} onClick={() => openStoredRun(studio, r.id)} data-testid="run-open" title="Load its last checkpoint to evaluate or export it (no training)">
                      Open
                    </button>
                  )}
                  <button type="button" className="link" onClick={() => rename(r)} data-testid="run-rename">
                    Rename
                  </button>
                  <button type="button" className="link danger" disabled={active && mine} onClick={() => request({ type: 'run-delete', runId: r.id })}>
                    Delete
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}
