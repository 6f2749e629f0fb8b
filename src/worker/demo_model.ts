// The offline demo model: a tiny Qwen3-architecture checkpoint (hidden 64, 2 layers, 4 query / 2 kv heads, head_dim
// 32, Qwen3's vocabulary so the real tokenizer applies), random-initialised in the browser from a seed the way
// tools/fixtures-model.ts writes its fixture: norms = 1, every other weight ~ N(0, 0.02), stored bf16 as a Hub
// checkpoint would be. No score head: transformers' rule initialises it, as for a real base model.
import { bytesSource } from '../formats/bytes.ts';
import { concatParts, f32ToBf16, serializeSafetensors, type TensorToWrite } from '../formats/safetensors.ts';
import type { ModelFiles } from '../model/load.ts';
import { Rng } from '../util/random.ts';

export const DEMO_MODEL_NAME = 'reward-studio/demo-tiny-qwen3';

export const DEMO_MODEL_CONFIG = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 32,
  hidden_act: 'silu',
  hidden_size: 64,
  initializer_range: 0.02,
  intermediate_size: 128,
  max_position_embeddings: 2048,
  model_type: 'qwen3',
  num_attention_heads: 4,
  num_hidden_layers: 2,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_theta: 1000000,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  vocab_size: 151936,
};

/** Tensor names and (out, in) shapes of a Qwen3 base checkpoint with the demo's dimensions. */
export function demoTensorShapes(): [string, number[]][] {
  const { hidden_size: C, intermediate_size: F, vocab_size: V, num_attention_heads: H, num_key_value_heads: Hkv, head_dim: D } = DEMO_MODEL_CONFIG;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [V, C]]];
  for (let i = 0; i < DEMO_MODEL_CONFIG.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    out.push(
      [`${p}input_layernorm.weight`, [C]],
      [`${p}self_attn.q_proj.weight`, [H * D, C]],
      [`${p}self_attn.k_proj.weight`, [Hkv * D, C]],
      [`${p}self_attn.v_proj.weight`, [Hkv * D, C]],
      [`${p}self_attn.o_proj.weight`, [C, H * D]],
      [`${p}self_attn.q_norm.weight`, [D]],
      [`${p}self_attn.k_norm.weight`, [D]],
      [`${p}post_attention_layernorm.weight`, [C]],
      [`${p}mlp.gate_proj.weight`, [F, C]],
      [`${p}mlp.up_proj.weight`, [F, C]],
      [`${p}mlp.down_proj.weight`, [C, F]],
    );
  }
  out.push(['model.norm.weight', [C]]);
  return out;
}

/** config.json and model.safetensors of the demo model, in memory. Same seed → same bytes. */
export function demoModelFiles(seed = 0): ModelFiles {
  const rng = new Rng(seed);
  const std = DEMO_MODEL_CONFIG.initializer_range;
  const tensors: TensorToWrite[] = demoTensorShapes().map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n);
    if (name.endsWith('norm.weight')) x.fill(1);
    else for (let i = 0; i < n; i++) x[i] = std * rng.normal();
    return { name, dtype: 'BF16', shape, data: new Uint8Array(f32ToBf16(x).buffer) };
  });
  const bytes = concatParts(serializeSafetensors(tensors, { format: 'pt' }));
  return { configText: JSON.stringify(DEMO_MODEL_CONFIG, null, 2), weights: [bytesSource('model.safetensors', bytes)] };
}
