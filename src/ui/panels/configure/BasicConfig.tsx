// Basic mode: what will run, in one sentence, and one Train button.
import { Section } from '../../components/Section.tsx';
import { useStudio, useStudioHandle } from '../../context.ts';
import { startTraining } from '../../actions.ts';
import { refKey } from '../model_data/SelectionPicker.tsx';
import { ConfigProblems } from './ConfigProblems.tsx';
import { dataLabel } from '../../run_context.ts';
import { localModelName } from '../../../worker/protocol.ts';
import { useConfigCheck } from './useConfigCheck.ts';

export function BasicConfig() {
  const model = useStudio((s) => s.selection.model);
  // the file's name (or the repo), never an internal import id
  const dataName = useStudio((s) => (s.selection.dataset.kind === 'demo' ? 'the bundled demo preferences' : dataLabel(s, s.selection.dataset)));
  const trainState = useStudio((s) => s.train.state);
  const studio = useStudioHandle();
  const { config, issues } = useConfigCheck();
  const busy = trainState === 'running' || trainState === 'loading' || trainState === 'paused';
  return (
    <Section title="Train with sensible defaults" id="basic">
      {config && (
        <p>
          Trains <strong>{model.kind === 'demo' ? 'the tiny demo model' : localModelName(model) !== null ? `folder ${localModelName(model)}` : refKey(model).slice(4)}</strong> as a reward model on{' '}
          <strong data-testid="basic-data">{dataName}</strong> with learning rate {config.learning_rate}, batch {config.per_device_train_batch_size},{' '}
          {config.max_steps > 0 ? `${config.max_steps} steps` : `${config.num_train_epochs} epoch(s)`}, {config.peft ? `LoRA r ${config.peft.r}` : 'full fine-tuning'}, max_length {config.max_length ?? 'none'}.
        </p>
      )}
      <ConfigProblems />
      <button type="button" className="primary big" disabled={busy || issues.length > 0} onClick={() => startTraining(studio)} data-testid="basic-train">
        {busy ? 'Training…' : 'Train'}
      </button>
    </Section>
  );
}
