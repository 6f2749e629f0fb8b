// A model folder from disk (a Hugging Face model folder, or a full fine-tune the studio exported): chosen or dropped,
// checked like a download, copied once into this browser's storage and selected as the model.
import { Section } from '../../components/Section.tsx';
import { useStudio } from '../../context.ts';
import { localModelName } from '../../../worker/protocol.ts';
import { ModelFolderButton } from './ModelFolderButton.tsx';

export function LocalModelFolder() {
  const busy = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'import-model-folder'));
  const local = useStudio((s) => localModelName(s.selection.model));
  return (
    <Section title="Model folder on disk" id="local-model">
      <p className="small">
        A Hugging Face model folder (config.json, safetensors weights, tokenizer files) — or a trained model the studio exported — is checked
        and copied into this browser once; you can also drop the folder on the page.
      </p>
      <ModelFolderButton label={busy ? 'Copying the folder…' : 'Choose a model folder…'} testId="local-model-folder" />
      {local !== null && (
        <p className="small" data-testid="model-folder-selected">
          Selected: folder <strong>{local}</strong> (stored in this browser).
        </p>
      )}
    </Section>
  );
}
