// LoRA on/off and PEFT LoraConfig's fields (task_type SEQ_CLS; the score head is always trained in full).
import { CheckboxField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { defaultLora, LORA_FIELDS } from '../../config_fields.ts';
import { ConfigField } from './ConfigField.tsx';

export function LoraFields() {
  const lora = useStudio((s) => s.config.lora as Record<string, unknown> | null);
  const { setConfig } = useActions();
  return (
    <Section title="LoRA (PEFT)" id="lora">
      <CheckboxField label="Train a LoRA adapter (off: full fine-tuning)" name="use_lora" checked={!!lora} onChange={(on) => setConfig({ lora: on ? defaultLora() : null })} hint="The score head is trained in full either way (PEFT's modules_to_save for SEQ_CLS)." />
      {lora && (
        <div className="field-grid">
          {LORA_FIELDS.map((f) => (
            <ConfigField key={f.name} spec={f} value={lora[f.name]} onChange={(v) => setConfig({ lora: { ...lora, [f.name]: v } })} />
          ))}
        </div>
      )}
    </Section>
  );
}
