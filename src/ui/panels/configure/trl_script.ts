// Loads src/train/trl_script.ts (the TRL Python script renderer) if this build has it. import.meta.glob resolves at
// build time to {} when the file does not exist, so the page still builds while that module is being written.
import type { ConfigJson, DatasetRef, ModelRef } from '../../../worker/protocol.ts';

const modules = import.meta.glob('../../../train/trl_script.ts');

export interface ScriptContext {
  config: ConfigJson;
  model: ModelRef;
  dataset: DatasetRef;
}

export function hasTrlScript(): boolean {
  return Object.keys(modules).length > 0;
}

/** The ready-to-run Python script for this config, or throws with what is missing. */
export async function renderTrlScript(ctx: ScriptContext): Promise<string> {
  const load = Object.values(modules)[0];
  if (!load) throw new Error('This build has no TRL script export yet (src/train/trl_script.ts is missing).');
  const mod = (await load()) as Record<string, unknown>;
  // TODO(trl_script.ts): call its real API once it lands; this expects `renderTrlScript(config, { model, dataset })`.
  const fn = (mod.renderTrlScript ?? mod.default) as ((c: ConfigJson, o: { model: string; dataset: string }) => string) | undefined;
  if (typeof fn !== 'function') throw new Error('src/train/trl_script.ts exports no renderTrlScript function.');
  const model = ctx.model.kind === 'hub' ? ctx.model.repo : 'Qwen/Qwen3-0.6B';
  const dataset = ctx.dataset.kind === 'hub' ? ctx.dataset.repo : 'trl-lib/ultrafeedback_binarized';
  return fn(ctx.config, { model, dataset });
}
