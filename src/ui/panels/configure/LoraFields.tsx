// LoRA on/off and PEFT LoraConfig's fields under "peft" (task_type SEQ_CLS; the score head always trains in full).
import { CheckboxField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { defaultLora, LORA_FIELDS } from '../../config_fields.ts';
import { ConfigField } from './ConfigField.tsx';

export function LoraFields({ issueOf }: { issueOf: (f: string) => string | undefined }) {
  const peft = useStudio((s) => s.config.peft as Record<string, unknown> | null);
  const { setConfig } = useActions();
  return (
    <Section title="LoRA (PEFT)" id="lora">
      <CheckboxField label="Train a LoRA adapter (off: full fine-tuning)" name="use_lora" checked={!!peft} onChange={(on) => setConfig({ peft: on ? defaultLora() : null })} hint="The score head is trained in full either way (PEFT's modules_to_save for SEQ_CLS)." />
      {peft && (
        <div className="field-grid">
          {LORA_FIELDS.map((f) => (
            <ConfigField key={f.name} spec={f} value={peft[f.name]} invalid={issueOf(`peft.${f.name}`)} onChange={(v) => setConfig({ peft: { ...peft, [f.name]: v } })} />
          ))}
        </div>
      )}
    </Section>
  );
}
