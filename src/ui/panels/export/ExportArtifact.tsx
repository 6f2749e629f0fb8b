// Export of the adapter or the merged model: ask the train worker for the files, then save each or a zip.
import { useState } from 'react';
import { SelectField } from '../../components/fields.tsx';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudio, useStudioApi } from '../../context.ts';
import { formatBytes } from '../../format.ts';
import { saveFile } from '../../save_file.ts';
import { adapterReadme, modelReadme } from './readme.ts';
import type { OnnxVerify } from '../../../worker/protocol.ts';
import { withFolder, zipFiles } from './zip.ts';

const TITLES = { adapter: 'LoRA adapter (PEFT)', model: 'Merged model', onnx: 'ONNX (onnxruntime)' } as const;
const BLURBS = {
  adapter: 'adapter_config.json + adapter_model.safetensors + a README on loading it with PEFT.',
  model: 'The full model folder (config.json, model.safetensors with the LoRA merged in and the score head) for transformers.',
  onnx: 'One ONNX graph of the reward model (LoRA merged; opset 17) beside config.json and the tokenizer files, as Optimum lays it out: runs in onnxruntime (Python, web, Node, mobile). Checked with onnxruntime-web against this engine before it is offered.',
} as const;
const DTYPES = { adapter: [], model: ['bf16', 'f32'], onnx: ['f32', 'f16'] } as const;

function VerifyLine({ v }: { v: OnnxVerify }) {
  return (
    <p className={v.ok ? 'ok small' : 'invalid small'} data-testid="export-onnx-verify" data-ok={v.ok} data-max-diff={v.maxAbsDiff}>
      {v.ok ? 'Verified' : 'NOT verified'}: onnxruntime-web ({v.provider === 'webgpu' ? 'WebGPU' : 'WASM'}) vs this engine on {v.sequences} sequences — max |Δ reward| {v.maxAbsDiff.toExponential(2)} ({v.maxRelDiff.toExponential(2)} of the largest |reward|, tolerance {v.tolerance}).
    </p>
  );
}

export function ExportArtifact({ what }: { what: 'adapter' | 'model' | 'onnx' }) {
  const files = useStudio((s) => s.exports[what]);
  const pending = useStudio((s) => Object.values(s.pending).some((p) => p.req.type === 'export' && p.req.what === what));
  const lora = useStudio((s) => s.config.peft);
  const { request } = useActions();
  const api = useStudioApi();
  const [dtype, setDtype] = useState<'bf16' | 'f32' | 'f16'>(DTYPES[what][0] ?? 'f32');
  const verify = useStudio((s) => (what === 'onnx' ? s.onnxVerify : null));
  const baseModel = () => {
    const m = api.getState().selection.model;
    return m.kind === 'hub' ? m.repo : 'Qwen/Qwen3-0.6B';
  };
  const readme = () => (what === 'adapter' ? adapterReadme(baseModel(), api.getState().config) : modelReadme(baseModel()));
  const label = what === 'onnx' ? 'ONNX' : what;
  // the engine writes its own README beside the files; add ours only when it did not
  const all = () => (files?.some((f) => f.name === 'README.md') ? files : [...(files ?? []), { name: 'README.md', data: new TextEncoder().encode(readme()) }]);
  return (
    <Section title={TITLES[what]} id={`export-${what}`}>
      <p className="muted">{BLURBS[what]}</p>
      {what === 'adapter' && !lora && <p className="invalid">This run is full fine-tuning (LoRA off): export the merged model instead.</p>}
      <div className="actions wrap">
        {what !== 'adapter' && <SelectField label={what === 'onnx' ? 'weights' : 'dtype'} value={dtype} options={[...DTYPES[what]]} onChange={(v) => setDtype(v as typeof dtype)} />}
        <button type="button" className="primary" disabled={pending || (what === 'adapter' && !lora)} onClick={() => request({ type: 'export', what, dtype: what === 'adapter' ? undefined : dtype })} data-testid={`export-${what}`}>
          {pending ? (what === 'onnx' ? 'Exporting and verifying…' : 'Exporting…') : `Export ${label}`}
        </button>
      </div>
      {files && verify && <VerifyLine v={verify} />}
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
