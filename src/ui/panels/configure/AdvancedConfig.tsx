// Advanced mode: presets, every trainer field by group (TRL names), LoRA, and the trainer's verdict on the config.
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { GROUP_LABELS, TRAINER_FIELDS, type FieldGroup } from '../../config_fields.ts';
import { ConfigField } from './ConfigField.tsx';
import { ConfigProblems } from './ConfigProblems.tsx';
import { LoraFields } from './LoraFields.tsx';
import { Presets } from './Presets.tsx';
import { useConfigCheck } from './useConfigCheck.ts';

const GROUPS = (Object.keys(GROUP_LABELS) as FieldGroup[]).filter((g) => g !== 'lora');

function FieldGroupView({ group, issueOf }: { group: FieldGroup; issueOf: (f: string) => string | undefined }) {
  const config = useStudio((s) => s.config);
  const { setConfig } = useActions();
  return (
    <Section title={GROUP_LABELS[group]} id={`group-${group}`}>
      <div className="field-grid">
        {TRAINER_FIELDS.filter((f) => f.group === group).map((f) => (
          <ConfigField key={f.name} spec={f} value={config[f.name]} invalid={issueOf(f.name)} onChange={(v) => setConfig({ [f.name]: v })} />
        ))}
      </div>
    </Section>
  );
}

export function AdvancedConfig() {
  const { issueOf } = useConfigCheck();
  return (
    <>
      <Presets />
      <ConfigProblems />
      {GROUPS.map((g) => (
        <FieldGroupView key={g} group={g} issueOf={issueOf} />
      ))}
      <LoraFields issueOf={issueOf} />
    </>
  );
}
