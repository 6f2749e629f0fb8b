// What the trainer's parser says about the config: every invalid field with its message, then non-fatal warnings.
import { useConfigCheck } from './useConfigCheck.ts';

export function ConfigProblems() {
  const { issues, warnings } = useConfigCheck();
  if (!issues.length && !warnings.length) return null;
  return (
    <div className={issues.length ? 'error-note' : 'warning-note'} role={issues.length ? 'alert' : 'status'} data-testid="config-problems">
      <div className="error-text">
        {issues.length > 0 && <strong>The trainer would refuse this config:</strong>}
        <ul>
          {issues.map((i) => (
            <li key={i.field}>
              <span className="mono">{i.field}</span>: {i.message}
            </li>
          ))}
          {warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      </div>
    </div>
  );
}
