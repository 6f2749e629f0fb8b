// A labelled progress bar; `value` null means indeterminate.
export function ProgressBar({ label, value, detail }: { label: string; value: number | null; detail?: string }) {
  return (
    <div className="progress">
      <div className="progress-label">
        <span>{label}</span>
        <span className="muted">{detail ?? (value === null ? '' : `${value.toFixed(0)}%`)}</span>
      </div>
      <progress aria-label={label} max={100} value={value ?? undefined} />
    </div>
  );
}
