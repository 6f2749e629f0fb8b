// Basic mode: what will run, in one sentence, and one Train button.
import { Section } from '../../components/Section.tsx';
import { useStudio, useStudioHandle } from '../../context.ts';
import { startTraining } from '../../actions.ts';
import { validateConfigJson } from '../../config_fields.ts';
import { refKey } from '../model_data/SelectionPicker.tsx';

export function BasicConfig() {
  const config = useStudio((s) => s.config);
  const model = useStudio((s) => s.selection.model);
  const dataset = useStudio((s) => s.selection.dataset);
  const trainState = useStudio((s) => s.train.state);
  const studio = useStudioHandle();
  const problems = validateConfigJson(config);
  const busy = trainState === 'running' || trainState === 'loading' || trainState === 'paused';
  const lora = config.lora as Record<string, unknown> | null;
  return (
    <Section title="Train with sensible defaults" id="basic">
      <p>
        Trains <strong>{refKey(model) === 'demo' ? 'the tiny demo model' : refKey(model).slice(4)}</strong> as a reward model on{' '}
        <strong>{refKey(dataset) === 'demo' ? 'the bundled demo preferences' : refKey(dataset).replace(/^\w+:/, '')}</strong> with learning rate {String(config.learning_rate)}, batch {String(config.per_device_train_batch_size)}, {String(config.num_train_epochs)} epoch(s),{' '}
        {lora ? `LoRA r ${String(lora.r)}` : 'full fine-tuning'}, max_length {String(config.max_length)}.
      </p>
      {problems.length > 0 && (
        <p className="invalid" role="alert">
          The config has invalid fields: {problems.join('; ')}. Fix them in Advanced.
        </p>
      )}
      <button type="button" className="primary big" disabled={busy || problems.length > 0} onClick={() => startTraining(studio)} data-testid="basic-train">
        {busy ? 'Training…' : 'Train'}
      </button>
    </Section>
  );
}
