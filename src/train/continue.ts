// Continue training from an exported PEFT adapter (the Python recipe's "fine-tune further on your own data"): the new
// run's LoRA must have the adapter's shape (r, targets, rsLoRA) and scaling (lora_alpha), so the adapter's weights —
// every lora_A/lora_B and the score head — are loaded as the starting point instead of fresh initialization. The
// optimizer starts fresh (AdamW moments are not in an adapter; PEFT's save_pretrained does not write them either).
// Continuing from a trained *model folder* needs nothing here: its score.weight is in the checkpoint, so only
// LoRA tensors (if any) are initialized.
import type { AdapterConfig, LoraSettings } from '../formats/peft.ts';
import { ConfigError } from '../formats/fields.ts';

/**
 * The run's LoRA settings when continuing from `adapter`: the adapter's r / lora_alpha / target_modules / use_rslora,
 * keeping the run's own lora_dropout and modules_to_save. A run config whose peft differs in a shape field is
 * refused, naming the field (silently changing r or targets would train a different adapter than the user asked).
 */
export function peftForContinue(adapter: AdapterConfig, runPeft: LoraSettings | null, source = 'config'): LoraSettings {
  const a = adapter.lora;
  if (runPeft) {
    const issues: { field: string; message: string }[] = [];
    const same = (x: unknown, y: unknown) => JSON.stringify(x) === JSON.stringify(y);
    for (const k of ['r', 'lora_alpha', 'use_rslora'] as const) {
      if (!same(runPeft[k], a[k])) issues.push({ field: `peft.${k}`, message: `${JSON.stringify(runPeft[k])} differs from the adapter's ${JSON.stringify(a[k])}; continuing training keeps the adapter's value (remove peft.${k}, or set it to ${JSON.stringify(a[k])})` });
    }
    if (!same([...runPeft.target_modules].sort(), [...a.target_modules].sort())) {
      issues.push({ field: 'peft.target_modules', message: `${JSON.stringify(runPeft.target_modules)} differs from the adapter's ${JSON.stringify(a.target_modules)}; set it to the adapter's list or leave "peft" out` });
    }
    if (issues.length) throw new ConfigError(source, issues);
  }
  return { ...a, lora_dropout: runPeft?.lora_dropout ?? a.lora_dropout, modules_to_save: runPeft?.modules_to_save ?? a.modules_to_save };
}

/** After loading with the adapter's tensors: nothing trainable may have been initialized fresh. */
export function checkContinued(initialized: string[], what: string): void {
  if (initialized.length) {
    throw new ConfigError(what, [{ field: '(weights)', message: `lacks ${initialized.slice(0, 3).join(', ')}${initialized.length > 3 ? ', …' : ''}, which this run trains; pass the adapter folder written by this model's training (adapter_config.json + adapter_model.safetensors)` }]);
  }
}
