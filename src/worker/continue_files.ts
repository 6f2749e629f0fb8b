// Continue training in the studio from a PEFT adapter folder the user chose (its File handles): the run's config
// takes the adapter's LoRA shape (src/train/continue.ts) and the adapter's weights are the starting point.
import { blobSource, type ByteSource } from '../formats/bytes.ts';
import { ConfigError } from '../formats/fields.ts';
import { parseAdapterConfig } from '../formats/peft.ts';
import { parseRewardConfig, rewardConfigToJson } from '../train/config.ts';
import { peftForContinue } from '../train/continue.ts';
import type { ConfigJson } from './protocol.ts';

export class ContinueError extends Error {
  override name = 'ContinueError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

const baseName = (f: File) => f.name.split(/[\\/]/).pop()!;

/** The run config with the adapter's LoRA settings, and the adapter's weights to start from. */
export async function adapterToContinue(files: File[], config: ConfigJson): Promise<{ config: ConfigJson; init: ByteSource[]; trainedOn: string | null }> {
  const by = new Map(files.map((f) => [baseName(f), f]));
  const cfgFile = by.get('adapter_config.json');
  const weights = by.get('adapter_model.safetensors');
  if (!cfgFile || !weights) {
    throw new ContinueError('To continue training, choose a PEFT adapter folder: it needs adapter_config.json and adapter_model.safetensors.', 'Choose the adapter folder the studio (or PEFT\'s save_pretrained) wrote.');
  }
  let ac;
  try {
    ac = parseAdapterConfig(JSON.parse(await cfgFile.text()), 'adapter_config.json');
  } catch (e) {
    throw new ContinueError(`adapter_config.json: ${(e as Error).message}`, 'Choose the adapter_config.json PEFT or the studio wrote.');
  }
  const run = parseRewardConfig(config);
  try {
    run.peft = peftForContinue(ac, run.peft, 'Configure');
  } catch (e) {
    if (e instanceof ConfigError) throw new ContinueError(e.message, 'Turn LoRA off in Configure (the adapter\'s settings are used), or set the fields named to the adapter\'s values.');
    throw e;
  }
  return { config: rewardConfigToJson(run), init: [blobSource(weights)], trainedOn: ac.base_model_name_or_path };
}
