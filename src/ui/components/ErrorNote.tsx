// The error of one area, shown where it happened: what went wrong and what to do, with a dismiss button; below it
// the area's warnings (things that did not stop anything, e.g. pairs filtered out by max_length). A card can show the
// errors of its own requests (`requests`), which the panel's note then leaves out (`except`).
import { useShallow } from 'zustand/react/shallow';
import type { Area, RequestType } from '../../worker/protocol.ts';
import { useActions, useStudio } from '../context.ts';

export function ErrorNote({ area, requests, except }: { area: Area; requests?: RequestType[]; except?: RequestType[] }) {
  const err = useStudio((s) => {
    const e = s.errors[area];
    if (!e) return undefined;
    if (requests) return e.request && requests.includes(e.request) ? e : undefined;
    return e.request && except?.includes(e.request) ? undefined : e;
  });
  const warnings = useStudio(useShallow((s) => (requests ? [] : s.warnings.filter((w) => w.where === area))));
  const { clearError } = useActions();
  return (
    <>
      {err && (
        <div className="error-note" role="alert" data-testid={requests ? `error-${requests[0]}` : `error-${area}`}>
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
