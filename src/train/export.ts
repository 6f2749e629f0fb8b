// Export what was trained in the formats the Hugging Face stack loads: a PEFT adapter folder
// (adapter_config.json + adapter_model.safetensors + README.md) or a full model folder for
// AutoModelForSequenceClassification (config.json + model.safetensors in f32 or bf16; LoRA merged in:
// W' = W + scale·B·A). Tokenizer files are copied by the caller (they are files, not tensors).
import type { Gpu } from '../gpu/device.ts';
import { readBytes } from '../gpu/buffers.ts';
import { serializeSafetensors, concatParts } from '../formats/safetensors.ts';
import { buildAdapterConfig, serializeAdapter, type LoraSettings } from '../formats/peft.ts';
import { hfTensorList, rewardModelConfigJson, exportSafetensorsDtype, type ExportDtype } from '../formats/hf_model.ts';
import type { Qwen3Config } from '../model/config.ts';
import { loraScale, type ParamEntry } from '../model/params.ts';
import { readParam, type ModelWeights } from '../model/weights.ts';

export interface ExportedFile {
  name: string;
  data: Uint8Array;
}

export async function exportAdapter(gpu: Gpu, w: ModelWeights, settings: LoraSettings, baseModel: string | null): Promise<ExportedFile[]> {
  if (!w.table.lora) throw new Error('this run is a full fine-tune: export the model instead of an adapter');
  const tensors = [];
  for (const e of w.table.trainable) tensors.push({ name: e.name, shape: e.shape, data: await readParam(gpu, w, e.name) });
  const enc = new TextEncoder();
  return [
    { name: 'adapter_config.json', data: enc.encode(buildAdapterConfig(settings, { base_model_name_or_path: baseModel })) },
    { name: 'adapter_model.safetensors', data: concatParts(serializeAdapter(tensors)) },
    { name: 'README.md', data: enc.encode(adapterReadme(settings, baseModel)) },
  ];
}

function adapterReadme(s: LoraSettings, base: string | null): string {
  const b = base ?? '<base model>';
  return `---
library_name: peft
base_model: ${b}
tags: [reward-model, trl, lora, reward-studio]
---
# Reward model LoRA adapter

Trained with Reward Studio (TRL RewardTrainer semantics) on top of \`${b}\`.
LoRA r=${s.r}, lora_alpha=${s.lora_alpha}, target_modules=${JSON.stringify(s.target_modules)}; the \`score\` head is trained in full.

\`\`\`python
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from peft import PeftModel

base = AutoModelForSequenceClassification.from_pretrained("${b}", num_labels=1)
model = PeftModel.from_pretrained(base, "path/to/this/folder")
tok = AutoTokenizer.from_pretrained("${b}")
model.config.pad_token_id = tok.pad_token_id
messages = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
ids = tok.apply_chat_template(messages, return_tensors="pt")
print(model(ids).logits[0, 0].item())  # the reward
\`\`\`
`;
}

/** Reads a stored tensor as f32 values, whatever its storage dtype. */
async function tensorF32(gpu: Gpu, w: ModelWeights, e: ParamEntry): Promise<Float32Array> {
  if (e.trainable || e.dtype === 'f32') return readParam(gpu, w, e.name);
  const r = w.frozen.get(e.name)!;
  const words = new Uint32Array(await readBytes(gpu, r.buffer, e.bytes, r.offset));
  const K = e.shape[e.shape.length - 1];
  const rows = e.numel / K;
  const stride = Math.ceil(K / 2);
  const out = new Float32Array(e.numel);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < K; k++) {
      const word = words[r * stride + (k >> 1)];
      const bits = k & 1 ? word >>> 16 : word & 0xffff;
      if (e.dtype === 'bf16') {
        u[0] = bits << 16;
        out[r * K + k] = f[0];
      } else out[r * K + k] = halfToFloat(bits);
    }
  }
  return out;
}

/** f32 → bf16 bits, round to nearest even, NaN → 0x7fc0 (torch's conversion). */
export function f32ToBf16(v: Float32Array): Uint16Array {
  const u = new Uint32Array(v.buffer, v.byteOffset, v.length);
  const out = new Uint16Array(v.length);
  for (let i = 0; i < u.length; i++) {
    const x = u[i];
    out[i] = (x & 0x7fffffff) > 0x7f800000 ? 0x7fc0 : ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * One tensor of the full model as f32 in the checkpoint's layout, with a LoRA adapter merged into the linears it
 * targets as PEFT's merge_and_unload does: W (N,K) += scale · B (N,R) · A (R,K). Shared by the safetensors and
 * ONNX exports.
 */
export async function mergedTensorF32(gpu: Gpu, w: ModelWeights, name: string): Promise<Float32Array> {
  const e = w.table.byName.get(name);
  if (!e) throw new Error(`export: ${name} is not in the model`);
  let v = await tensorF32(gpu, w, e);
  const lora = w.table.lora;
  const m = /^model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+_proj)\.weight$/.exec(name);
  if (lora && m && lora.targets.includes(m[3] as never)) {
    const base = name.slice(0, -'.weight'.length);
    const A = await readParam(gpu, w, `${base}.lora_A.weight`);
    const B = await readParam(gpu, w, `${base}.lora_B.weight`);
    const [N, K] = e.shape;
    const R = lora.r;
    const s = loraScale(lora);
    v = Float32Array.from(v);
    for (let n = 0; n < N; n++)
      for (let r = 0; r < R; r++) {
        const b = s * B[n * R + r];
        if (b === 0) continue;
        for (let k = 0; k < K; k++) v[n * K + k] += b * A[r * K + k];
      }
  }
  return v;
}

/** The full model (LoRA merged) as a HF folder's config.json + model.safetensors. */
export async function exportModel(gpu: Gpu, w: ModelWeights, config: Qwen3Config, dtype: ExportDtype): Promise<ExportedFile[]> {
  const list = hfTensorList(config);
  const tensors = [];
  for (const { name, shape } of list) {
    const v = await mergedTensorF32(gpu, w, name);
    const data = dtype === 'float32' ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(f32ToBf16(v).buffer);
    tensors.push({ name, dtype: exportSafetensorsDtype(dtype), shape, data });
  }
  const enc = new TextEncoder();
  return [
    { name: 'config.json', data: enc.encode(rewardModelConfigJson(config.raw, { pad_token_id: config.pad_token_id ?? 151643, torch_dtype: dtype })) },
    { name: 'model.safetensors', data: concatParts(serializeSafetensors(tensors, { format: 'pt' })) },
  ];
}
