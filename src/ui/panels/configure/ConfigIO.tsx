// The config as a file: export/import JSON (TRL field names), reset, and export as a TRL Python script.
import { useId, useState } from 'react';
import { Section } from '../../components/Section.tsx';
import { useActions, useStudioApi } from '../../context.ts';
import { checkConfig, defaultConfigJson } from '../../config_fields.ts';
import { saveFile } from '../../save_file.ts';
import type { ConfigJson } from '../../../worker/protocol.ts';
import { renderTrlScript } from './trl_script.ts';
import { importInfo } from '../../run_context.ts';

export function ConfigIO() {
  const api = useStudioApi();
  const { replaceConfig, showError, clearError } = useActions();
  const inputId = useId();
  const [script, setScript] = useState<string | null>(null);

  const exportJson = () => saveFile('reward_config.json', JSON.stringify(api.getState().config, null, 2) + '\n', 'application/json');
  const importJson = async (file: File | undefined) => {
    if (!file) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await file.text());
    } catch (e) {
      showError('configure', `${file.name} is not valid JSON: ${(e as Error).message}.`, 'Choose a file written by "Export JSON", or fix the JSON syntax at the position named.');
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      showError('configure', `${file.name} does not hold a JSON object.`, 'The file must be one object of RewardConfig fields, e.g. {"learning_rate": 1e-5}.');
      return;
    }
    const config: ConfigJson = { ...defaultConfigJson(), ...(parsed as ConfigJson) };
    const { issues } = checkConfig(config, file.name);
    if (issues.length) {
      showError('configure', `${file.name}: ${issues.map((i) => `field "${i.field}": ${i.message}`).join('; ')}.`, 'Fix these fields in the file (TRL RewardConfig names; LoRA fields under "peft"), then import it again.');
      return;
    }
    clearError('configure');
    replaceConfig(config);
  };
  const exportScript = () => {
    const s = api.getState();
    try {
      // Configure's script is the next run's: the current config and selection
      const info = importInfo(s, s.selection.dataset);
      const text = renderTrlScript({ config: s.config, model: s.selection.model, dataset: s.selection.dataset, importName: info.name, split: info.split });
      setScript(text);
      saveFile('train_reward_model.py', text, 'text/x-python');
    } catch (e) {
      showError('configure', (e as Error).message, 'Fix the config fields named, then export again.');
    }
  };
  return (
    <Section title="Config file and TRL script" id="config-io">
      <div className="actions wrap">
        <button type="button" onClick={exportJson} data-testid="config-export-json">
          Export JSON
        </button>
        <label htmlFor={inputId} className="button">
          Import JSON…
        </label>
        <input id={inputId} className="visually-hidden" type="file" accept=".json,application/json" onChange={(e) => importJson(e.target.files?.[0]).finally(() => (e.target.value = ''))} data-testid="config-import-json" />
        <button type="button" onClick={() => replaceConfig(defaultConfigJson())}>
          Reset to defaults
        </button>
        <button type="button" className="primary" onClick={exportScript} data-testid="export-trl-script">
          Export TRL script
        </button>
      </div>
      <p className="muted">The script runs the same training with <code>trl.RewardTrainer</code> and <code>peft.LoraConfig</code>, for a cluster. The page address keeps this config, so a link shares it.</p>
      {script && (
        <details>
          <summary>Script preview</summary>
          <pre className="code" data-testid="trl-script">
            {script}
          </pre>
        </details>
      )}
    </Section>
  );
}
