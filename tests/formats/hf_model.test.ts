// The exported reward-model folder's config.json and tensor list.
import { describe, expect, it } from 'vitest';
import { exportSafetensorsDtype, hfTensorList, rewardModelConfigJson, rewardModelConfigObject } from '../../src/formats/hf_model.ts';
import { parseQwen3Config, qwen3ParamCount } from '../../src/model/config.ts';

const BASE = {
  architectures: ['Qwen3ForCausalLM'], attention_bias: false, attention_dropout: 0.0, bos_token_id: 151643, eos_token_id: 151645,
  head_dim: 128, hidden_act: 'silu', hidden_size: 1024, initializer_range: 0.02, intermediate_size: 3072,
  max_position_embeddings: 40960, max_window_layers: 28, model_type: 'qwen3', num_attention_heads: 16, num_hidden_layers: 28,
  num_key_value_heads: 8, rms_norm_eps: 1e-6, rope_scaling: null, rope_theta: 1000000, sliding_window: null,
  tie_word_embeddings: true, torch_dtype: 'bfloat16', transformers_version: '4.51.0', use_cache: true, use_sliding_window: false,
  vocab_size: 151936,
};

describe('hfTensorList', () => {
  it('lists Qwen3ForSequenceClassification\'s tensors in named_parameters order with (out, in) shapes', () => {
    const list = hfTensorList(parseQwen3Config(BASE));
    expect(list).toHaveLength(1 + 28 * 11 + 2);
    expect(list[0]).toEqual({ name: 'model.embed_tokens.weight', shape: [151936, 1024] });
    expect(list.slice(1, 12)).toEqual([
      { name: 'model.layers.0.self_attn.q_proj.weight', shape: [2048, 1024] },
      { name: 'model.layers.0.self_attn.k_proj.weight', shape: [1024, 1024] },
      { name: 'model.layers.0.self_attn.v_proj.weight', shape: [1024, 1024] },
      { name: 'model.layers.0.self_attn.o_proj.weight', shape: [1024, 2048] },
      { name: 'model.layers.0.self_attn.q_norm.weight', shape: [128] },
      { name: 'model.layers.0.self_attn.k_norm.weight', shape: [128] },
      { name: 'model.layers.0.mlp.gate_proj.weight', shape: [3072, 1024] },
      { name: 'model.layers.0.mlp.up_proj.weight', shape: [3072, 1024] },
      { name: 'model.layers.0.mlp.down_proj.weight', shape: [1024, 3072] },
      { name: 'model.layers.0.input_layernorm.weight', shape: [1024] },
      { name: 'model.layers.0.post_attention_layernorm.weight', shape: [1024] },
    ]);
    expect(list.slice(-2)).toEqual([{ name: 'model.norm.weight', shape: [1024] }, { name: 'score.weight', shape: [1, 1024] }]);
    const numel = list.reduce((s, e) => s + e.shape.reduce((a, b) => a * b, 1), 0);
    expect(numel).toBe(qwen3ParamCount(parseQwen3Config(BASE)).total);
  });
});

describe('exported config.json', () => {
  it('marks the model as a one-label sequence classifier with the pad token and dtype', () => {
    const o = rewardModelConfigObject(BASE, { pad_token_id: 151643, torch_dtype: 'float32' });
    const back = JSON.parse(rewardModelConfigJson(BASE, { pad_token_id: 151643, torch_dtype: 'float32' }));
    expect(back.architectures).toEqual(['Qwen3ForSequenceClassification']);
    expect(back.num_labels).toBe(1);
    expect(back.id2label).toEqual({ 0: 'LABEL_0' });
    expect(back.label2id).toEqual({ LABEL_0: 0 });
    expect(back.pad_token_id).toBe(151643);
    expect(back.torch_dtype).toBe('float32');
    expect(back.dtype).toBeUndefined();
    // The base's other fields are kept.
    for (const k of ['hidden_size', 'head_dim', 'rope_theta', 'tie_word_embeddings', 'max_window_layers', 'eos_token_id']) expect(back[k], k).toEqual(BASE[k as keyof typeof BASE]);
    expect(o).not.toBe(BASE);
    expect(BASE.architectures).toEqual(['Qwen3ForCausalLM']); // the base object is not modified
    // It reads back as a Qwen3 config with the pad token and one label.
    const parsed = parseQwen3Config(back);
    expect([parsed.pad_token_id, parsed.num_labels, parsed.torch_dtype]).toEqual([151643, 1, 'float32']);
  });

  it('is written as transformers writes it: sorted keys, indent 2, Python floats, trailing newline', () => {
    const text = rewardModelConfigJson(BASE, { pad_token_id: 151643, torch_dtype: 'bfloat16' });
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "rms_norm_eps": 1e-06,\n');
    expect(text).toContain('\n  "rope_theta": 1000000.0,\n');
    expect(text).toContain('\n  "attention_dropout": 0.0,\n');
    expect(text).toContain('\n  "id2label": {\n    "0": "LABEL_0"\n  },\n');
    const keys = [...text.matchAll(/^ {2}"([^"]+)":/gm)].map((m) => m[1]);
    expect(keys).toEqual([...keys].sort());
  });

  it('uses the dtype key of a transformers 5 base', () => {
    const { torch_dtype: _t, rope_theta: _r, ...v5 } = BASE;
    const o = JSON.parse(rewardModelConfigJson({ ...v5, dtype: 'bfloat16', rope_parameters: { rope_type: 'default', rope_theta: 1e6 } }, { pad_token_id: 151643, torch_dtype: 'bfloat16' }));
    expect(o.dtype).toBe('bfloat16');
    expect(o.torch_dtype).toBeUndefined();
    expect(o.rope_parameters).toEqual({ rope_type: 'default', rope_theta: 1e6 });
  });

  it('maps export dtypes to safetensors dtypes', () => {
    expect(exportSafetensorsDtype('float32')).toBe('F32');
    expect(exportSafetensorsDtype('bfloat16')).toBe('BF16');
  });
});
