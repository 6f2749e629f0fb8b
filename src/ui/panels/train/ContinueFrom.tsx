// Continue training from an exported PEFT adapter folder (the Python recipe's "fine-tune further on your own data"):
// the next new run starts from the adapter's LoRA and score weights, with its r / lora_alpha / target_modules, on the
// model and data chosen in Model & data. A trained model folder (a full fine-tune the studio or save_pretrained
// exported: config.json, model.safetensors with its score head, tokenizer files) is copied into the browser like a
// model folder from disk and becomes the model: the next run starts from its weights and trained score head.
import { useId, type InputHTMLAttributes } from 'react';
import { useActions, useStudio } from '../../context.ts';
import { localModelName } from '../../../worker/protocol.ts';
import { ModelFolderButton } from '../model_data/ModelFolderButton.tsx';

const DIRECTORY = { webkitdirectory: '' } as InputHTMLAttributes<HTMLInputElement>;

export function ContinueFrom() {
  const from = useStudio((s) => s.continueFrom);
  const folder = useStudio((s) => localModelName(s.selection.model));
  const { setContinueFrom } = useActions();
  const id = useId();
  const choose = (list: FileList | null) => {
    const files = [...(list ?? [])];
    if (!files.length) return;
    const rel = (files[0] as File & { webkitRelativePath?: string }).webkitRelativePath;
    setContinueFrom({ name: rel && rel.includes('/') ? rel.split('/')[0] : files[0].name, files });
  };
  return (
    <p className="small" data-testid="continue-from">
      {from ? (
        <>
          The next run continues from adapter <strong>{from.name}</strong>.{' '}
          <button type="button" className="link" onClick={() => setContinueFrom(null)}>
            Start fresh instead
          </button>
        </>
      ) : (
        <>
          <label htmlFor={id} className="link">
            Continue from an adapter folder…
          </label>
          <input id={id} className="visually-hidden" type="file" {...DIRECTORY} onChange={(e) => choose(e.target.files)} data-testid="continue-from-input" />{' '}
          <ModelFolderButton label="Continue from a trained model folder…" testId="continue-model" className="link" />
          {folder !== null && (
            <span data-testid="continue-model-note">
              {' '}The next run starts from model folder <strong>{folder}</strong> (its weights, and its score head when it has one).
            </span>
          )}
        </>
      )}
    </p>
  );
}
