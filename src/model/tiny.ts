// A tiny Qwen3-architecture checkpoint, generated from a seed: Qwen/Qwen3-0.6B's config.json shrunk to C=64, F=128,
// 2 layers, H=4, Hkv=2, D=32 with Qwen3's vocabulary V=151936 (so the real tokenizer applies), and the tensors of a
// base checkpoint (tied embeddings: no lm_head; no score head) in bf16: RMSNorm weights = 1, every other weight
// ~ N(0, initializer_range) drawn in table order from one seeded Rng. Same seed → same bytes.
// Shared by tools/fixtures-model.ts (the Hub-layout fixture folder) and the studio's offline demo model
// (src/worker/demo_model.ts); browser-safe (no Node imports).
import { f32ToBf16, type TensorToWrite } from '../formats/safetensors.ts';
import { Rng } from '../util/random.ts';

/** Qwen/Qwen3-0.6B config.json with the tiny dimensions; keys in the file's (sorted) order. */
/** The name the studio's demo model (this model, seed 0) goes by in exports' metadata: it is not on the Hub. */
export const DEMO_MODEL_NAME = 'reward-studio/demo-tiny-qwen3';

export function tinyQwen3Config(vocabSize = 151936): Record<string, unknown> {
  return {
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
    max_window_layers: 2,
    model_type: 'qwen3',
    num_attention_heads: 4,
    num_hidden_layers: 2,
    num_key_value_heads: 2,
    rms_norm_eps: 1e-6,
    rope_scaling: null,
    rope_theta: 1000000,
    sliding_window: null,
    tie_word_embeddings: true,
    torch_dtype: 'bfloat16',
    transformers_version: '4.51.0',
    use_cache: true,
    use_sliding_window: false,
    vocab_size: vocabSize,
  };
}

/** Tensor names and (out, in) shapes of a Qwen3 base checkpoint, in the order weights are drawn. */
export function qwen3TensorShapes(cfg: Record<string, unknown>): [string, number[]][] {
  const C = cfg.hidden_size as number, F = cfg.intermediate_size as number, V = cfg.vocab_size as number;
  const H = cfg.num_attention_heads as number, Hkv = cfg.num_key_value_heads as number, D = cfg.head_dim as number;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [V, C]]];
  for (let i = 0; i < (cfg.num_hidden_layers as number); i++) {
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

/** bf16 tensors: norms (names ending "norm.weight") = 1, everything else N(0, initializer_range). */
export function tinyQwen3Tensors(cfg: Record<string, unknown>, seed: number): TensorToWrite[] {
  const rng = new Rng(seed);
  const std = cfg.initializer_range as number;
  return qwen3TensorShapes(cfg).map(([name, shape]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new Float32Array(n);
    if (name.endsWith('norm.weight')) x.fill(1);
    else for (let i = 0; i < n; i++) x[i] = std * rng.normal();
    const bits = f32ToBf16(x);
    return { name, dtype: 'BF16', shape, data: new Uint8Array(bits.buffer) };
  });
}
