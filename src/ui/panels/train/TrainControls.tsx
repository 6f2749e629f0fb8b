// Start, pause, resume, stop — each enabled only in the states where it means something. There is one Resume
// button: it continues a paused run, or (after a reload, a stop or a dead tab) the run the page follows from its
// last checkpoint (a save_steps one or a recovery one).
import { useActions, useStudio, useStudioHandle } from '../../context.ts';
import { startTraining } from '../../actions.ts';
import { selectedRun } from '../../run_context.ts';

const STATE_TEXT: Record<string, string> = {
  idle: 'Not started',
  loading: 'Loading model and data…',
  running: 'Training',
  paused: 'Paused',
  stopping: 'Stopping after this step…',
  stopped: 'Stopped',
  done: 'Finished',
  error: 'Stopped by an error',
};

export function TrainControls() {
  const state = useStudio((s) => s.train.state);
  const lastCheckpoint = useStudio((s) => s.train.lastCheckpoint);
  const runId = useStudio((s) => s.train.runId);
  const message = useStudio((s) => s.train.message);
  const stored = useStudio(selectedRun);
  const { request } = useActions();
  const studio = useStudioHandle();
  const active = state === 'running' || state === 'loading' || state === 'paused' || state === 'stopping';
  // after a reload this tab knows the run only from its stored record
  const interrupted = state === 'idle' && stored?.state === 'interrupted';
  const checkpoint = lastCheckpoint ?? stored?.lastCheckpoint ?? null;
  const canContinue = !active && runId !== null && state !== 'done' && (stored ? stored.resumable : checkpoint !== null);
  const resume = () => (state === 'paused' ? request({ type: 'train-resume' }) : startTraining(studio, runId!));
  return (
    <section className="card controls" aria-label="Training controls">
      <p className="state" data-testid="train-state" data-state={interrupted ? 'interrupted' : state}>
        {interrupted ? `Interrupted (its tab was closed or reloaded while training)${stored?.lastCheckpoint !== null ? `: resumes from step ${stored?.lastCheckpoint}` : ': no checkpoint yet, resumes from step 0'}` : (STATE_TEXT[state] ?? state)}
      </p>
      {state === 'error' && message && <p className="invalid small">{message}</p>}
      <div className="actions wrap">
        <button type="button" className="primary" disabled={active} onClick={() => startTraining(studio)} data-testid="train-start">
          Start
        </button>
        <button type="button" disabled={state !== 'running'} onClick={() => request({ type: 'train-pause' })} data-testid="train-pause">
          Pause
        </button>
        <button type="button" disabled={state !== 'paused' && !canContinue} onClick={resume} data-testid="train-resume" title={canContinue ? `Continue the run from its checkpoint at step ${checkpoint ?? 0}` : undefined}>
          {canContinue ? `Resume from step ${checkpoint ?? 0}` : 'Resume'}
        </button>
        <button type="button" className="danger" disabled={!active || state === 'stopping'} onClick={() => request({ type: 'train-stop' })} data-testid="train-stop">
          Stop
        </button>
      </div>
    </section>
  );
}
