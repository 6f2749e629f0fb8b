// One config field, drawn from its FieldSpec with the control that fits its kind, marked when its value is invalid.
import { CheckboxField, NumberField, SelectField } from '../../components/fields.tsx';
import { checkField, type FieldSpec } from '../../config_fields.ts';

export function ConfigField({ spec, value, onChange }: { spec: FieldSpec; value: unknown; onChange: (v: unknown) => void }) {
  const invalid = checkField(spec, value) ?? undefined;
  switch (spec.kind) {
    case 'bool':
      return <CheckboxField label={spec.label} name={spec.name} checked={value === true} onChange={onChange} hint={spec.help} />;
    case 'select':
      return <SelectField label={spec.label} name={spec.name} value={String(value)} options={spec.options!} onChange={onChange} hint={spec.help} />;
    case 'list': {
      const list = Array.isArray(value) ? (value as string[]) : [];
      return (
        <fieldset className="field list">
          <legend>{spec.label}</legend>
          <div className="checks">
            {spec.options!.map((o) => (
              <label key={o}>
                <input type="checkbox" name={`${spec.name}.${o}`} checked={list.includes(o)} onChange={(e) => onChange(e.target.checked ? [...list, o] : list.filter((x) => x !== o))} />
                <span className="mono">{o}</span>
              </label>
            ))}
          </div>
          <small className={invalid ? 'hint invalid' : 'hint'}>{invalid ?? spec.help}</small>
        </fieldset>
      );
    }
    default:
      return (
        <NumberField
          label={spec.label}
          name={spec.name}
          value={typeof value === 'number' ? value : null}
          nullable={spec.kind.startsWith('nullable')}
          onChange={onChange}
          hint={spec.help}
          invalid={invalid}
        />
      );
  }
}
