// Start, pause, resume, stop — each enabled only in the states where it means something.
import { useActions, useStudio, useStudioHandle } from '../../context.ts';
import { startTraining } from '../../actions.ts';

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
  const { request } = useActions();
  const studio = useStudioHandle();
  const active = state === 'running' || state === 'loading' || state === 'paused' || state === 'stopping';
  return (
    <section className="card controls" aria-label="Training controls">
      <p className="state" data-testid="train-state" data-state={state}>
        {STATE_TEXT[state] ?? state}
      </p>
      {state === 'error' && message && <p className="invalid small">{message}</p>}
      <div className="actions wrap">
        <button type="button" className="primary" disabled={active} onClick={() => startTraining(studio)} data-testid="train-start">
          Start
        </button>
        <button type="button" disabled={state !== 'running'} onClick={() => request({ type: 'train-pause' })} data-testid="train-pause">
          Pause
        </button>
        <button type="button" disabled={state !== 'paused'} onClick={() => request({ type: 'train-resume' })} data-testid="train-resume">
          Resume
        </button>
        <button type="button" className="danger" disabled={!active || state === 'stopping'} onClick={() => request({ type: 'train-stop' })} data-testid="train-stop">
          Stop
        </button>
        {!active && runId && lastCheckpoint !== null && state !== 'done' && (
          <button type="button" onClick={() => startTraining(studio, runId)} data-testid="train-resume-checkpoint">
            Resume from step {lastCheckpoint}
          </button>
        )}
      </div>
    </section>
  );
}
