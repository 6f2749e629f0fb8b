// ONNX export of the trained reward model (LoRA merged, or the full fine-tune) in the layout Optimum's
// ORTModelForSequenceClassification loads: model.onnx (+ model.onnx_data above the size threshold) beside
// config.json and the tokenizer files (copied by the caller), plus a README with the verification result.
// Weights stream from the GPU one tensor at a time into the sink (see formats/onnx/writer.ts).
import type { Gpu } from '../gpu/device.ts';
import type { Qwen3Config } from '../model/config.ts';
import { modelDims } from '../model/config.ts';
import type { ModelWeights } from '../model/weights.ts';
import { rewardModelConfigJson } from '../formats/hf_model.ts';
import { buildQwen3Graph, type OnnxDtype } from '../formats/onnx/qwen3.ts';
import { writeOnnxModel, MODEL_FILE, EXTERNAL_DATA_FILE, type OnnxSink, type WriteResult } from '../formats/onnx/writer.ts';
import { verifyLine, type VerifyResult } from '../formats/onnx/session.ts';
import { mergedTensorF32 } from './export.ts';

export const ONNX_OPSET = 17;
export const ONNX_IR_VERSION = 8;

export interface OnnxExportOptions {
  dtype: OnnxDtype;
  sink: OnnxSink;
  externalDataThreshold?: number;
  baseModel?: string | null;
  onProgress?: (done: number, total: number) => void;
}

export interface OnnxExportResult extends WriteResult {
  dtype: OnnxDtype;
  /** config.json text (Qwen3ForSequenceClassification, pad_token_id set). */
  configJson: string;
  files: string[];
}

export async function exportOnnx(gpu: Gpu, w: ModelWeights, config: Qwen3Config, o: OnnxExportOptions): Promise<OnnxExportResult> {
  const d = modelDims(config);
  const g = buildQwen3Graph({ V: d.V, C: d.C, F: d.F, L: d.L, H: d.H, Hkv: d.Hkv, D: d.D, eps: d.eps, theta: d.theta, padId: d.padId }, (name) => mergedTensorF32(gpu, w, name), o.dtype);
  const res = await writeOnnxModel(g, {
    opset: ONNX_OPSET,
    irVersion: ONNX_IR_VERSION,
    producerName: 'reward-studio',
    producerVersion: '0.1.0',
    graphName: 'Qwen3ForSequenceClassification',
    docString: `Qwen3ForSequenceClassification reward model (num_labels 1)${o.baseModel ? ` on ${o.baseModel}` : ''}; pooling: rightmost token != pad_token_id ${d.padId}`,
    metadata: { pad_token_id: String(d.padId), weights_dtype: o.dtype, base_model: o.baseModel ?? '' },
  }, o.sink, { externalDataThreshold: o.externalDataThreshold, onProgress: o.onProgress });
  const configJson = rewardModelConfigJson(config.raw, { pad_token_id: d.padId, torch_dtype: 'float32' });
  return { ...res, dtype: o.dtype, configJson, files: res.external ? [MODEL_FILE, EXTERNAL_DATA_FILE] : [MODEL_FILE] };
}

/** README.md of an ONNX export: what it is, how to run it, and how it was verified. */
export function onnxReadme(r: { dtype: OnnxDtype; external: boolean; baseModel?: string | null; verify: VerifyResult | null; padId: number }): string {
  const base = r.baseModel ?? '<base model>';
  return `---
library_name: onnx
base_model: ${base}
tags: [reward-model, onnx, trl, reward-studio]
---
# Reward model (ONNX)

\`Qwen3ForSequenceClassification\` (one label: the reward) exported by Reward Studio as one ONNX graph (opset ${ONNX_OPSET},
standard operators only), weights ${r.dtype === 'float16' ? 'float16 (cast to float32 inside the graph; compute in float32)' : 'float32'}${r.external ? ', stored as ONNX external data in `model.onnx_data`' : ''}.

- inputs: \`input_ids\`, \`attention_mask\` — int64 [batch, sequence], right-padded with pad_token_id ${r.padId}
- output: \`logits\` — float32 [batch, 1], the reward of the rightmost token whose id ≠ ${r.padId} (transformers' pooling)

Verification: ${r.verify ? verifyLine(r.verify) : 'not run'}.

\`\`\`python
import onnxruntime as ort
from transformers import AutoTokenizer
tok = AutoTokenizer.from_pretrained("path/to/this/folder")
sess = ort.InferenceSession("path/to/this/folder/model.onnx")
messages = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
ids = tok.apply_chat_template(messages, return_tensors="np", return_dict=True)
print(sess.run(["logits"], {"input_ids": ids["input_ids"], "attention_mask": ids["attention_mask"]})[0][0, 0])
# or: optimum.onnxruntime.ORTModelForSequenceClassification.from_pretrained("path/to/this/folder")
\`\`\`

In a page or Node: \`onnxruntime-web\` (\`InferenceSession.create(modelBytes${r.external ? ", { externalData: [{ path: 'model.onnx_data', data }] }" : ''})\`).
`;
}
