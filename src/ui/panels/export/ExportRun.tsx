// The run's record: metrics (CSV + JSONL), the config JSON, the TRL script; one zip with everything exported so far.
// All of it follows the selected run (its own config, model and data, run_context.ts), not what Configure and
// Model & data show now; an import's or the demo set's train/test files go into the zip beside the script.
import { useEffect } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { Section } from '../../components/Section.tsx';
import { useActions, useMetricsBuffer, useStudio, useStudioApi } from '../../context.ts';
import { metricsToCsv, metricsToJsonl } from '../../store/metrics.ts';
import { saveFile } from '../../save_file.ts';
import { renderTrlScript } from '../configure/trl_script.ts';
import { dataLabel, modelLabel, runContext, scriptContextOf } from '../../run_context.ts';
import { withFolder, zipFiles } from './zip.ts';
import { ADAPTER_DIR, MODEL_DIR } from '../../../train/readme.ts';

export function ExportRun() {
  const buffer = useMetricsBuffer();
  const api = useStudioApi();
  const exports = useStudio((s) => s.exports);
  const ctx = useStudio(useShallow(runContext));
  const script = useStudio((s) => {
    try {
      return renderTrlScript(scriptContextOf(s));
    } catch (e) {
      return (e as Error).message;
    }
  });
  const label = useStudio((s) => `${modelLabel(ctx.model)} on ${dataLabel(s, ctx.dataset)}`);
  const { showError, request } = useActions();
  const datasetKey = JSON.stringify(ctx.dataset);
  useEffect(() => {
    const ds = JSON.parse(datasetKey) as typeof ctx.dataset;
    if (ds.kind !== 'hub') request({ type: 'export-data', dataset: ds });
  }, [datasetKey, request]);
  const configJson = () => JSON.stringify(runContext(api.getState()).config, null, 2) + '\n';
  const zipAll = () => {
    const s = api.getState();
    const rc = runContext(s);
    const files: { name: string; data: Uint8Array | string }[] = [
      { name: 'metrics.csv', data: metricsToCsv(buffer.all()) },
      { name: 'metrics.jsonl', data: metricsToJsonl(buffer.all()) },
      { name: 'reward_config.json', data: configJson() },
    ];
    try {
      files.push({ name: 'train_reward_model.py', data: renderTrlScript(scriptContextOf(s, rc)) });
    } catch (e) {
      showError('export', `The TRL script could not be written: ${(e as Error).message}`, 'Fix the config in Configure, then export again.');
      return;
    }
    if (rc.dataset.kind !== 'hub') {
      if (!s.exports.data?.length) {
        showError('export', "The run's data files are not ready yet.", 'Wait a moment and press "Download everything" again.');
        return;
      }
      files.push(...s.exports.data);
    }
    // the folders' READMEs (written by the engine) load them by these folder names
    if (exports.adapter) files.push(...withFolder(ADAPTER_DIR, exports.adapter));
    if (exports.model) files.push(...withFolder(MODEL_DIR, exports.model));
    if (exports.onnx) files.push(...withFolder('onnx', exports.onnx));
    saveFile('reward-studio-run.zip', zipFiles(files), 'application/zip');
  };
  return (
    <Section title="Metrics and config" id="export-run">
      <p className="muted" data-testid="export-run-of">
        {ctx.run ? `Run ${ctx.run.name ?? ctx.run.id}: ` : 'No run yet: the current selection, '}
        {label}
      </p>
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
        <button type="button" onClick={() => saveFile('train_reward_model.py', script, 'text/x-python')}>
          train_reward_model.py
        </button>
        {exports.data?.map((f) => (
          <button type="button" key={f.name} onClick={() => saveFile(f.name, f.data, 'application/jsonl')} data-testid="export-data-file">
            {f.name}
          </button>
        ))}
      </div>
      <details>
        <summary>The TRL script</summary>
        <pre className="code" data-testid="export-trl-script">{script}</pre>
      </details>
      <p className="muted">One zip with the metrics, the config, the TRL script with its data files and the adapter / model files exported above.</p>
      <button type="button" className="primary" onClick={zipAll} data-testid="export-all-zip">
        Download everything (.zip)
      </button>
    </Section>
  );
}
