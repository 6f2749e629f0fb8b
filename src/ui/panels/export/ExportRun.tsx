// The run's record: metrics (CSV + JSONL), the config JSON, the TRL script; one zip with everything exported so far.
import { Section } from '../../components/Section.tsx';
import { useActions, useMetricsBuffer, useStudio, useStudioApi } from '../../context.ts';
import { metricsToCsv, metricsToJsonl } from '../../store/metrics.ts';
import { saveFile } from '../../save_file.ts';
import { renderTrlScript } from '../configure/trl_script.ts';
import { adapterReadme, modelReadme } from './readme.ts';
import { withFolder, zipFiles } from './zip.ts';

export function ExportRun() {
  const buffer = useMetricsBuffer();
  const api = useStudioApi();
  const exports = useStudio((s) => s.exports);
  const { showError } = useActions();
  const configJson = () => JSON.stringify(api.getState().config, null, 2) + '\n';
  const zipAll = () => {
    const s = api.getState();
    const base = s.selection.model.kind === 'hub' ? s.selection.model.repo : 'Qwen/Qwen3-0.6B';
    const files: { name: string; data: Uint8Array | string }[] = [
      { name: 'metrics.csv', data: metricsToCsv(buffer.all()) },
      { name: 'metrics.jsonl', data: metricsToJsonl(buffer.all()) },
      { name: 'reward_config.json', data: configJson() },
    ];
    try {
      const ds = s.selection.dataset;
      const importName = ds.kind === 'import' ? s.imports.find((i) => i.id === ds.id)?.name : undefined;
      files.push({ name: 'train_reward_model.py', data: renderTrlScript({ config: s.config, model: s.selection.model, dataset: ds, importName }) });
    } catch (e) {
      showError('export', `The TRL script could not be written: ${(e as Error).message}`, 'Fix the config in Configure, then export again.');
      return;
    }
    const withReadme = (f: { name: string; data: Uint8Array }[], text: string) => (f.some((x) => x.name === 'README.md') ? f : [...f, { name: 'README.md', data: new TextEncoder().encode(text) }]);
    if (exports.adapter) files.push(...withFolder('adapter', withReadme(exports.adapter, adapterReadme(base, s.config))));
    if (exports.model) files.push(...withFolder('model', withReadme(exports.model, modelReadme(base))));
    if (exports.onnx) files.push(...withFolder('onnx', exports.onnx));
    saveFile('reward-studio-run.zip', zipFiles(files), 'application/zip');
  };
  return (
    <Section title="Metrics and config" id="export-run">
      <div className="actions wrap">
        <button type="button" onClick={() => saveFile('metrics.csv', metricsToCsv(buffer.all()), 'text/csv')}>
          metrics.csv
        </button>
        <button type="button" onClick={() => saveFile('metrics.jsonl', metricsToJsonl(buffer.all()), 'application/jsonl')}>
          metrics.jsonl
        </button>
        <button type="button" onClick={() => saveFile('reward_config.json', configJson(), 'application/json')}>
          reward_config.json
        </button>
      </div>
      <p className="muted">One zip with the metrics, the config, the TRL script and the adapter / model files exported above.</p>
      <button type="button" className="primary" onClick={zipAll} data-testid="export-all-zip">
        Download everything (.zip)
      </button>
    </Section>
  );
}
