// The config as a ready-to-run TRL Python script (src/train/trl_script.ts), with the model and dataset the studio
// uses: a Hub repo by id, an imported JSONL by its file name (the script then loads local files).
import { renderTrlScript as render } from '../../../train/trl_script.ts';
import { checkConfig } from '../../config_fields.ts';
import type { ConfigJson, DatasetRef, ModelRef } from '../../../worker/protocol.ts';

export interface ScriptContext {
  config: ConfigJson;
  model: ModelRef;
  dataset: DatasetRef;
  /** File name of an imported dataset (DatasetRef kind 'import'). */
  importName?: string;
}

/** The script text, or throws with the config's problems (field: message; …). */
export function renderTrlScript(ctx: ScriptContext): string {
  const check = checkConfig(ctx.config);
  if (!check.config) throw new Error(`The config is not valid: ${check.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  const modelId = ctx.model.kind === 'hub' ? ctx.model.repo : 'Qwen/Qwen3-0.6B';
  if (ctx.dataset.kind === 'import') {
    return render(check.config, { modelId, datasetId: null, dataFiles: { train: ctx.importName ?? 'train.jsonl', eval: null }, evalSplit: null });
  }
  const datasetId = ctx.dataset.kind === 'hub' ? ctx.dataset.repo : 'trl-lib/ultrafeedback_binarized';
  return render(check.config, { modelId, datasetId });
}
