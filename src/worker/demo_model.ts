// The offline demo model: the tiny Qwen3-architecture checkpoint of src/model/tiny.ts (hidden 64, 2 layers, 4 query
// / 2 kv heads, head_dim 32, Qwen3's vocabulary so the real tokenizer applies), generated in the browser from a seed:
// the same bytes tools/fixtures-model.ts writes for the fixture model. No score head: transformers' rule
// initialises it, as for a real base model.
import { bytesSource } from '../formats/bytes.ts';
import { concatParts, serializeSafetensors } from '../formats/safetensors.ts';
import type { ModelFiles } from '../model/load.ts';
import { DEMO_MODEL_NAME, tinyQwen3Config, tinyQwen3Tensors } from '../model/tiny.ts';

export { DEMO_MODEL_NAME };

/** config.json and model.safetensors of the demo model, in memory. Same seed → same bytes. */
export function demoModelFiles(seed = 0): ModelFiles {
  const config = tinyQwen3Config();
  const bytes = concatParts(serializeSafetensors(tinyQwen3Tensors(config, seed), { format: 'pt' }));
  return { configText: JSON.stringify(config, null, 2), weights: [bytesSource('model.safetensors', bytes)] };
}
