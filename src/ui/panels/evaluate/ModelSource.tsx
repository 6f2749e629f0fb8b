// Which model Evaluate & compare uses: this tab's run (training paused or finished, or a stored run opened in Train),
// or a model folder loaded for evaluation — a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)
// on the model selected in Model & data, or a full reward-model folder (config.json + model.safetensors, with its
// tokenizer files or the selected model's). Chosen with a folder picker or by selecting the folder's files.
import { useId, type InputHTMLAttributes } from 'react';
import { Section } from '../../components/Section.tsx';
import { BaselineButton } from './BaselineButton.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { modelRefName, type LoadedModelInfo, type ModelRef } from '../../../worker/protocol.ts';

/** The directory picker attribute (Chrome, Edge, Firefox, Safari) that React's types do not list. */
const DIRECTORY = { webkitdirectory: '' } as InputHTMLAttributes<HTMLInputElement>;

function modelName(m: ModelRef | null): string {
  return !m ? '' : modelRefName(m);
}

function describe(info: LoadedModelInfo): string {
  if (info.kind === 'base' && info.trainedHead) return `Model ${info.name} with its own trained score head (from its weights), as selected in Model & data.`;
  if (info.kind === 'base') return `Base model ${info.name} with an untrained score head (seeded as a new run): the baseline before training.`;
  const tok = info.tokenizer === 'folder' ? "the folder's tokenizer" : `the tokenizer of ${modelName(info.base) || 'the selected model'}`;
  if (info.kind === 'onnx') return `ONNX reward model from ${info.name}, scored with onnxruntime-web (${info.provider === 'webgpu' ? 'WebGPU' : 'WASM'}); ${tok}.`;
  if (info.kind === 'adapter' && info.lora) return `PEFT adapter from ${info.name}: LoRA r=${info.lora.r}, lora_alpha ${info.lora.lora_alpha} on ${info.lora.target_modules.join(', ')}, loaded on ${modelName(info.base)}; ${tok}.`;
  return `Reward model from ${info.name}; ${tok}.`;
}

export function ModelSource() {
  const source = useStudio((s) => s.evaluation.source);
  const loaded = useStudio((s) => s.evaluation.loaded);
  const runState = useStudio((s) => s.train.state);
  const base = useStudio((s) => s.selection.model);
  const loading = useStudio((s) => Object.values(s.pending).some((p) => p.type === 'load-model'));
  const { request, setEvalSource } = useActions();
  const api = useStudioApi();
  const folderId = useId();
  const filesId = useId();
  const load = (list: FileList | null) => {
    const files = [...(list ?? [])];
    if (files.length === 0) return;
    const rel = (files[0] as File & { webkitRelativePath?: string }).webkitRelativePath;
    const name = rel && rel.includes('/') ? `folder ${rel.split('/')[0]}` : `${files.length} chosen file${files.length === 1 ? '' : 's'}`;
    request({ type: 'load-model', files, name, base: api.getState().selection.model });
  };
  const runText = runState === 'idle' ? 'no run in this tab yet' : runState === 'running' || runState === 'loading' ? 'pause it to score' : runState;
  return (
    <Section title="Model to evaluate" id="eval-model">
      <div className="segmented" role="radiogroup" aria-label="Model to evaluate">
        <label className={source === 'run' ? 'active' : ''}>
          <input type="radio" name="eval-source" value="run" checked={source === 'run'} onChange={() => setEvalSource('run')} data-testid="eval-source-run" />
          This tab's run ({runText})
        </label>
        <label className={source === 'loaded' ? 'active' : ''}>
          <input type="radio" name="eval-source" value="loaded" checked={source === 'loaded'} disabled={!loaded} onChange={() => setEvalSource('loaded')} data-testid="eval-source-loaded" />
          Loaded folder
        </label>
      </div>
      <p className="small muted">
        Load a PEFT adapter folder (adapter_config.json + adapter_model.safetensors; it goes on {modelName(base)}, the model selected in Model & data) a reward-model folder (config.json + model.safetensors), or an ONNX folder (model.onnx [+ model.onnx_data], config.json, tokenizer files) scored with onnxruntime-web.
      </p>
      <div className="actions">
        <label htmlFor={folderId} className="button">
          {loading ? 'Loading…' : 'Choose folder…'}
        </label>
        <input id={folderId} className="visually-hidden" type="file" {...DIRECTORY} disabled={loading} onChange={(e) => load(e.target.files)} data-testid="model-folder-input" />
        <label htmlFor={filesId} className="button">
          Choose its files…
        </label>
        <input id={filesId} className="visually-hidden" type="file" multiple disabled={loading} onChange={(e) => load(e.target.files)} data-testid="model-files-input" />
        <BaselineButton />
        {loaded && (
          <button type="button" className="link danger" onClick={() => request({ type: 'unload-model' })}>
            Unload
          </button>
        )}
      </div>
      {loaded && (
        <p className="ok small" data-testid="loaded-model" data-kind={loaded.kind}>
          {describe(loaded)}
        </p>
      )}
    </Section>
  );
}
