// The error of one area, shown where it happened: what went wrong and what to do, with a dismiss button; below it
// the area's warnings (things that did not stop anything, e.g. pairs filtered out by max_length).
import { useShallow } from 'zustand/react/shallow';
import type { Area } from '../../worker/protocol.ts';
import { useActions, useStudio } from '../context.ts';

export function ErrorNote({ area }: { area: Area }) {
  const err = useStudio((s) => s.errors[area]);
  const warnings = useStudio(useShallow((s) => s.warnings.filter((w) => w.where === area)));
  const { clearError } = useActions();
  return (
    <>
      {err && (
        <div className="error-note" role="alert" data-testid={`error-${area}`}>
          <div className="error-text">
            <strong>{err.message}</strong>
            <span className="error-fix">What to do: {err.fix}</span>
          </div>
          <button type="button" className="link" onClick={() => clearError(area)} aria-label="Dismiss this error">
            Dismiss
          </button>
        </div>
      )}
      {warnings.length > 0 && (
        <div className="warning-note" role="status">
          {warnings.map((w, i) => (
            <p key={i}>{w.message}</p>
          ))}
        </div>
      )}
    </>
  );
}
