// Labelled form controls: every input has a visible <label> tied to it, and an optional hint read by screen readers.
import { useId, type ReactNode } from 'react';

interface Common {
  label: string;
  hint?: ReactNode;
  name?: string;
  disabled?: boolean;
}

function Hint({ id, hint }: { id: string; hint?: ReactNode }) {
  return hint ? (
    <small id={id} className="hint">
      {hint}
    </small>
  ) : null;
}

export function TextField(p: Common & { value: string; onChange: (v: string) => void; type?: 'text' | 'password' | 'url'; placeholder?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type={p.type ?? 'text'}
        value={p.value}
        placeholder={p.placeholder}
        disabled={p.disabled}
        autoComplete="off"
        spellCheck={false}
        aria-describedby={p.hint ? `${id}-hint` : undefined}
        onChange={(e) => p.onChange(e.target.value)}
      />
      <Hint id={`${id}-hint`} hint={p.hint} />
    </div>
  );
}

/**
 * A number input that keeps what the user typed while it is not a number yet ('1e-', '') and reports only
 * numbers; `nullable` allows an empty field meaning null (TRL's None).
 */
export function NumberField(
  p: Common & { value: number | null; onChange: (v: number | null) => void; step?: number | 'any'; min?: number; max?: number; nullable?: boolean; invalid?: string },
) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <input
        id={id}
        name={p.name}
        type="text"
        inputMode="decimal"
        defaultValue={p.value === null ? '' : String(p.value)}
        key={p.value === null ? 'null' : String(p.value)}
        disabled={p.disabled}
        aria-invalid={p.invalid ? true : undefined}
        aria-describedby={p.hint || p.invalid ? `${id}-hint` : undefined}
        placeholder={p.nullable ? 'None' : undefined}
        onBlur={(e) => {
          const t = e.target.value.trim();
          if (t === '' && p.nullable) return p.onChange(null);
          const v = Number(t);
          if (t !== '' && Number.isFinite(v)) p.onChange(v);
          else e.target.value = p.value === null ? '' : String(p.value);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        }}
      />
      {p.invalid ? (
        <small id={`${id}-hint`} className="hint invalid">
          {p.invalid}
        </small>
      ) : (
        <Hint id={`${id}-hint`} hint={p.hint} />
      )}
    </div>
  );
}

export function CheckboxField(p: Common & { checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <div className="field checkbox">
      <input id={id} name={p.name} type="checkbox" checked={p.checked} disabled={p.disabled} onChange={(e) => p.onChange(e.target.checked)} aria-describedby={p.hint ? `${id}-hint` : undefined} />
      <label htmlFor={id}>{p.label}</label>
      <Hint id={`${id}-hint`} hint={p.hint} />
    </div>
  );
}

export function SelectField(p: Common & { value: string; options: readonly (string | { value: string; label: string })[]; onChange: (v: string) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{p.label}</label>
      <select id={id} name={p.name} value={p.value} disabled={p.disabled} onChange={(e) => p.onChange(e.target.value)} aria-describedby={p.hint ? `${id}-hint` : undefined}>
        {p.options.map((o) => {
          const { value, label } = typeof o === 'string' ? { value: o, label: o } : o;
          return (
            <option key={value} value={value}>
              {label}
            </option>
          );
        })}
      </select>
      <Hint id={`${id}-hint`} hint={p.hint} />
    </div>
  );
}
