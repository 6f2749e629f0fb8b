// The config as a ready-to-run TRL Python script (src/train/trl_script.ts), with the model and data of a run (or of
// the current selection in Configure): a Hub dataset by its id; an import or the demo set as the exact train/test
// files the studio used (written beside the script by Export → "Download everything"), under names taken from the
// imported file's name (run_data_files.ts), so a reload writes the same script.
import { renderTrlScript as render } from '../../../train/trl_script.ts';
import { checkConfig } from '../../config_fields.ts';
import { runDataNames } from '../../../worker/run_data_files.ts';
import { localModelName, type ConfigJson, type DatasetRef, type ImportSplit, type ModelRef } from '../../../worker/protocol.ts';

/** The Hub model the script trains when the studio ran its demo model (random weights, not on the Hub). */
export const DEMO_SCRIPT_MODEL = 'Qwen/Qwen3-0.6B';

export interface ScriptContext {
  config: ConfigJson;
  model: ModelRef;
  dataset: DatasetRef;
  /** File name of an imported dataset (DatasetRef kind 'import'). */
  importName?: string;
  /** How that import is split (its StoredImport's split). */
  split?: ImportSplit | null;
}

function splitWords(split: ImportSplit | null | undefined): string {
  if (!split) return 'as the studio split it';
  return split.kind === 'seeded' ? `as the studio split it (test_size ${split.test_size}, seed ${split.seed})` : `whole, as the ${split.split} split`;
}

/** The script text, or throws with the config's problems (field: message; …). */
export function renderTrlScript(ctx: ScriptContext): string {
  const check = checkConfig(ctx.config);
  if (!check.config) throw new Error(`The config is not valid: ${check.issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  const local = localModelName(ctx.model);
  const modelId = local !== null ? local : ctx.model.kind === 'hub' ? ctx.model.repo : DEMO_SCRIPT_MODEL;
  const notes: string[] = [];
  if (local !== null) notes.push(`The studio trained the model folder "${local}" from your disk: run this script beside that folder (or put its path in model_name_or_path).`);
  if (ctx.model.kind === 'demo') notes.push(`The studio trained its tiny demo model (random weights, not on the Hub); this script trains ${DEMO_SCRIPT_MODEL} instead.`);
  const names = runDataNames(ctx.dataset, ctx.importName, ctx.split ?? null);
  if (!names) return render(check.config, { modelId, datasetId: ctx.dataset.kind === 'hub' ? ctx.dataset.repo : null, notes });
  const source = ctx.dataset.kind === 'demo' ? "the studio's demo preference set" : `${ctx.importName ?? 'the imported file'} ${splitWords(ctx.split)}`;
  notes.push(`The data is ${source}: the exact pairs the run trained${names.eval ? ' and evaluated' : ''} on, in`);
  notes.push(`${[names.train, names.eval].filter(Boolean).join(' and ')} beside this script (Export -> "Download everything" writes them).`);
  return render(check.config, { modelId, datasetId: null, dataFiles: { train: names.train, eval: names.eval }, evalSplit: names.eval ? 'test' : null, notes });
}
