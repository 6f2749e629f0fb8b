// An ONNX reward model folder loaded for Evaluate & compare: model.onnx (+ model.onnx_data), config.json (for
// pad_token_id and max_position_embeddings) and the tokenizer files, as the studio's ONNX export or Optimum's
// ORTModelForSequenceClassification export writes it. Scored by onnxruntime-web (WebGPU execution provider when
// the worker has WebGPU, else WASM), loaded on first use; the engine's GPU is not involved.
import { openOnnxRewardModel } from '../formats/onnx/session.ts';
import { QWEN3_PAD_TOKEN_ID } from '../model/config.ts';
import type { EvalModel } from './eval_model.ts';
import { ModelFolderError } from './eval_model.ts';
import type { ModelRef, TokenizerRef } from './protocol.ts';

export async function loadOnnxFolder(byName: Map<string, File>, name: string, base: ModelRef, tokenizerKey: string): Promise<{ model: EvalModel; warnings: string[] }> {
  const warnings: string[] = [];
  let cfg: { pad_token_id?: unknown; max_position_embeddings?: unknown } = {};
  const cfgFile = byName.get('config.json');
  if (cfgFile) {
    try {
      cfg = JSON.parse(await cfgFile.text());
    } catch (e) {
      throw new ModelFolderError(`config.json is not valid JSON: ${(e as Error).message}.`, 'Choose the folder the ONNX export wrote (its config.json is beside model.onnx).');
    }
  }
  let padId = QWEN3_PAD_TOKEN_ID;
  if (typeof cfg.pad_token_id === 'number') padId = cfg.pad_token_id;
  else warnings.push(`${cfgFile ? 'config.json has no pad_token_id' : 'The folder has no config.json'}: padding with Qwen3's <|endoftext|> (${QWEN3_PAD_TOKEN_ID}).`);
  const dataFile = byName.get('model.onnx_data');
  const model = new Uint8Array(await byName.get('model.onnx')!.arrayBuffer());
  const externalData = dataFile ? new Uint8Array(await dataFile.arrayBuffer()) : undefined;
  let session;
  try {
    session = await openOnnxRewardModel(model, { padId, provider: 'auto', externalData });
  } catch (e) {
    const hint = !dataFile && /external/i.test((e as Error).message) ? ' It needs model.onnx_data: choose every file of the folder.' : '';
    throw new ModelFolderError(`${name}: ${(e as Error).message}.${hint}`, 'Choose a folder with a reward model exported to ONNX (inputs input_ids and attention_mask, output logits).');
  }
  const tj = byName.get('tokenizer.json');
  const tc = byName.get('tokenizer_config.json');
  const tokenizer: TokenizerRef = tj && tc ? { kind: 'files', key: tokenizerKey, tokenizerJson: tj, tokenizerConfig: tc } : base;
  if (tokenizer.kind !== 'files') warnings.push('The ONNX folder has no tokenizer files: using the tokenizer of the model selected in Model & data.');
  const maxPositions = typeof cfg.max_position_embeddings === 'number' ? cfg.max_position_embeddings : 32768;
  const s = session;
  return {
    warnings,
    model: {
      info: { kind: 'onnx', provider: s.provider, name, base: null, lora: null, tokenizer: tokenizer.kind === 'files' ? 'folder' : 'base', files: [...byName.keys()].sort() },
      tokenizer,
      maxPositions,
      microPairs: 4,
      onnx: s,
      modelFor() {
        throw new Error('an ONNX folder is scored by onnxruntime-web, not the engine');
      },
      destroy() {
        void s.release();
      },
    },
  };
}
