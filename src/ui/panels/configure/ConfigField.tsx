// One config field, drawn from its FieldSpec with the control that fits its kind; `invalid` is the trainer's own
// message for it (from parseRewardConfig), shown under the control.
import { CheckboxField, NumberField, SelectField } from '../../components/fields.tsx';
import type { FieldSpec } from '../../config_fields.ts';

export function ConfigField({ spec, value, onChange, invalid }: { spec: FieldSpec; value: unknown; onChange: (v: unknown) => void; invalid?: string }) {
  switch (spec.kind) {
    case 'bool':
      return <CheckboxField label={spec.name} name={spec.name} checked={value === true} onChange={onChange} hint={invalid ?? spec.help} />;
    case 'auto-bool':
      return (
        <SelectField label={spec.name} name={spec.name} value={value === true ? 'true' : value === false ? 'false' : 'auto'}
          options={[{ value: 'auto', label: 'auto (memory plan)' }, { value: 'true', label: 'true' }, { value: 'false', label: 'false' }]}
          onChange={(v) => onChange(v === 'auto' ? null : v === 'true')} hint={invalid ?? spec.help} />
      );
    case 'select':
      return <SelectField label={spec.name} name={spec.name} value={String(value)} options={spec.options!} onChange={onChange} hint={invalid ?? spec.help} />;
    case 'list': {
      const list = Array.isArray(value) ? (value as string[]) : [];
      return (
        <fieldset className="field list">
          <legend>{spec.name}</legend>
          <div className="checks">
            {spec.options!.map((o) => (
              <label key={o}>
                <input type="checkbox" name={`${spec.name}.${o}`} checked={list.includes(o)} onChange={(e) => onChange(e.target.checked ? spec.options!.filter((x) => x === o || list.includes(x)) : list.filter((x) => x !== o))} />
                <span className="mono">{o}</span>
              </label>
            ))}
          </div>
          <small className={invalid ? 'hint invalid' : 'hint'}>{invalid ?? spec.help}</small>
        </fieldset>
      );
    }
    default:
      return <NumberField label={spec.name} name={spec.name} value={typeof value === 'number' ? value : null} nullable={spec.kind === 'nullable-number'} onChange={onChange} hint={spec.help} invalid={invalid} />;
  }
}
