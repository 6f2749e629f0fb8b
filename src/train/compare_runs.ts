// Runs side by side: the config fields that differ between stored runs (TRL names; LoRA fields as peft.<name>), and
// one metric's curve per run from its log history (train rows, or eval rows for eval_* metrics).

/** Flattens a config JSON: top-level fields, and the "peft" object's fields as peft.<name> (null peft = "full"). */
export function flattenConfig(c: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(c)) {
    if (k === 'peft') {
      if (v === null || v === undefined) out['peft'] = 'full fine-tuning';
      else for (const [pk, pv] of Object.entries(v as Record<string, unknown>)) out[`peft.${pk}`] = JSON.stringify(pv);
    } else out[k] = JSON.stringify(v);
  }
  return out;
}

/** The fields whose value is not the same in every run (a field missing from a run counts as its own value "–"). */
export function configDiff(configs: Record<string, unknown>[]): { field: string; values: string[] }[] {
  const flat = configs.map(flattenConfig);
  const fields = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  return fields.map((field) => ({ field, values: flat.map((f) => f[field] ?? '–') })).filter((r) => new Set(r.values).size > 1);
}

/** (step, value) of `metric` in a log history: eval_* metrics from eval rows, the others from train rows. */
export function metricCurve(history: Record<string, number>[], metric: string): { step: number; value: number }[] {
  const isEval = metric.startsWith('eval_');
  return history
    .filter((h) => Object.keys(h).some((k) => k.startsWith('eval_')) === isEval && Number.isFinite(h[metric]))
    .map((h) => ({ step: h.step, value: h[metric] }));
}
