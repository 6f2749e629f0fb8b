// Export of the adapter or the merged model: ask the train worker for the files, then save each or a zip.
import { useState } from 'react';
import { SelectField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio } from '../../context.ts';
import { runContext } from '../../run_context.ts';
import { formatBytes } from '../../format.ts';
import { saveFile } from '../../save_file.ts';
import { withFolder, zipFiles } from './zip.ts';

export function ExportArtifact({ what }: { what: 'adapter' | 'model' }) {
  const files = useStudio((s) => s.exports[what]);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.req.type === 'export' && p.req.what === what));
  // the run's own config says whether it trained LoRA (not what Configure shows now)
  const lora = useStudio((s) => runContext(s).config.peft);
  const runId = useStudio((s) => s.train.runId);
  const { request } = useActions();
  const [dtype, setDtype] = useState<'bf16' | 'f32'>('bf16');
  // the engine writes the README (src/train/readme.ts) beside the files
  const all = () => files ?? [];
  return (
    <Section title={what === 'adapter' ? 'LoRA adapter (PEFT)' : 'Merged model'} id={`export-${what}`}>
      <p className="muted">
        {what === 'adapter'
          ? 'adapter_config.json + adapter_model.safetensors + a README on loading it with PEFT.'
          : 'The full model folder (config.json, model.safetensors with the LoRA merged in and the score head, the tokenizer files) for transformers.'}
      </p>
      {what === 'adapter' && !lora && <p className="invalid">This run is full fine-tuning (LoRA off): export the merged model instead.</p>}
      <div className="actions wrap">
        {what === 'model' && <SelectField label="dtype" value={dtype} options={['bf16', 'f32']} onChange={(v) => setDtype(v as 'bf16' | 'f32')} />}
        <button type="button" className="primary" disabled={pending || (what === 'adapter' && !lora)} onClick={() => request({ type: 'export', what, dtype: what === 'model' ? dtype : undefined, ...(runId ? { runId } : {}) })} data-testid={`export-${what}`}>
          {pending ? 'Exporting…' : `Export ${what}`}
        </button>
      </div>
      {files && (
        <>
          <ul className="plain files" data-testid={`export-${what}-files`}>
            {all().map((f) => (
              <li key={f.name}>
                <button type="button" className="link" onClick={() => saveFile(f.name, f.data)}>
                  {f.name}
                </button>{' '}
                <span className="muted">{formatBytes(f.data.byteLength)}</span>
              </li>
            ))}
          </ul>
          <button type="button" onClick={() => saveFile(`${what}.zip`, zipFiles(withFolder(what, all())), 'application/zip')} data-testid={`export-${what}-zip`}>
            Download all as {what}.zip
          </button>
        </>
      )}
    </Section>
  );
}
