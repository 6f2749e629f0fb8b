// Presets: TRL defaults, the original Python pipeline's values, a fast LoRA run. Applying one replaces the config.
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { configDiff, PRESETS } from '../../config_fields.ts';

export function Presets() {
  const config = useStudio((s) => s.config);
  const { replaceConfig } = useActions();
  const current = PRESETS.find((p) => JSON.stringify(configDiff(p.config)) === JSON.stringify(configDiff(config)));
  return (
    <Section title="Presets" id="presets">
      <div className="presets">
        {PRESETS.map((p) => (
          <button key={p.id} type="button" className={current?.id === p.id ? 'preset active' : 'preset'} aria-pressed={current?.id === p.id} onClick={() => replaceConfig(p.config)} data-testid={`preset-${p.id}`}>
            <strong>{p.label}</strong>
            <span>{p.description}</span>
          </button>
        ))}
      </div>
    </Section>
  );
}
