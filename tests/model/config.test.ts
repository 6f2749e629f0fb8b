// Qwen3 config.json parsing: the real Qwen3-0.6B file (transformers 4 layout) and a transformers 5 layout, the
// defaults transformers' Qwen3Config applies, refusals naming the field and the fix, and the parameter count.
import { describe, expect, it } from 'vitest';
import { modelDims, parseQwen3Config, qwen3ParamCount, withPadTokenId, QWEN3_PAD_TOKEN_ID } from '../../src/model/config.ts';
import { ConfigError } from '../../src/formats/fields.ts';
import { loadParityFixture } from '../fixtures/parity/load.ts';

/** Qwen/Qwen3-0.6B config.json as published on the Hub. */
const QWEN3_06B = {
  architectures: ['Qwen3ForCausalLM'],
  attention_bias: false,
  attention_dropout: 0.0,
  bos_token_id: 151643,
  eos_token_id: 151645,
  head_dim: 128,
  hidden_act: 'silu',
  hidden_size: 1024,
  initializer_range: 0.02,
  intermediate_size: 3072,
  max_position_embeddings: 40960,
  max_window_layers: 28,
  model_type: 'qwen3',
  num_attention_heads: 16,
  num_hidden_layers: 28,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000,
  sliding_window: null,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  transformers_version: '4.51.0',
  use_cache: true,
  use_sliding_window: false,
  vocab_size: 151936,
};

function issuesOf(json: unknown): Record<string, string> {
  try {
    parseQwen3Config(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/^config\.json: /);
    return Object.fromEntries((e as ConfigError).issues.map((i) => [i.field, i.message]));
  }
  throw new Error('expected a ConfigError');
}

describe('parseQwen3Config', () => {
  it('reads Qwen3-0.6B (head_dim 128: heads·head_dim = 2048 ≠ hidden 1024)', () => {
    const c = parseQwen3Config(QWEN3_06B);
    expect(c).toMatchObject({
      model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28, num_attention_heads: 16,
      num_key_value_heads: 8, head_dim: 128, vocab_size: 151936, rms_norm_eps: 1e-6, rope_theta: 1e6,
      tie_word_embeddings: true, pad_token_id: null, bos_token_id: 151643, eos_token_id: 151645, num_labels: null,
      torch_dtype: 'bfloat16', max_position_embeddings: 40960, initializer_range: 0.02,
    });
    expect(c.raw).toBe(QWEN3_06B);
  });

  it('reads the transformers 5 layout: rope_parameters, dtype, layer_types', () => {
    const { rope_theta: _r, torch_dtype: _t, ...rest } = QWEN3_06B;
    const v5 = { ...rest, rope_parameters: { rope_type: 'default', rope_theta: 1000000.0 }, dtype: 'bfloat16', layer_types: Array(28).fill('full_attention') };
    const c = parseQwen3Config(v5);
    expect(c.rope_theta).toBe(1e6);
    expect(c.torch_dtype).toBe('bfloat16');
    // Both places agreeing is fine.
    expect(parseQwen3Config({ ...v5, rope_theta: 1e6 }).rope_theta).toBe(1e6);
  });

  it('applies Qwen3Config\'s defaults for omitted fields', () => {
    const minimal = { model_type: 'qwen3', hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 1000 };
    const c = parseQwen3Config(minimal);
    expect(c.head_dim).toBe(128); // transformers' default, not hidden_size / num_attention_heads = 16
    expect(c.rope_theta).toBe(10000);
    expect(c.rms_norm_eps).toBe(1e-6);
    expect(c.tie_word_embeddings).toBe(false);
    expect(c.max_position_embeddings).toBe(32768);
    expect(parseQwen3Config({ ...minimal, num_key_value_heads: null }).num_key_value_heads).toBe(4);
    const { num_key_value_heads: _k, ...noKv } = minimal;
    expect(parseQwen3Config({ ...noKv, num_attention_heads: 64 }).num_key_value_heads).toBe(32); // Qwen3Config default
    expect(issuesOf(noKv).num_key_value_heads).toContain('divide num_attention_heads (4)');
    // model_type may be absent when architectures names a Qwen3 class.
    const { model_type: _m, ...noType } = minimal;
    expect(parseQwen3Config({ ...noType, architectures: ['Qwen3ForSequenceClassification'] }).model_type).toBe('qwen3');
  });

  it('reads num_labels from num_labels or id2label', () => {
    expect(parseQwen3Config({ ...QWEN3_06B, num_labels: 1 }).num_labels).toBe(1);
    expect(parseQwen3Config({ ...QWEN3_06B, id2label: { 0: 'LABEL_0' } }).num_labels).toBe(1);
    expect(issuesOf({ ...QWEN3_06B, num_labels: 2, id2label: { 0: 'LABEL_0' } }).num_labels).toContain('id2label has 1');
  });

  it('names every missing core size with an example value', () => {
    const { hidden_size: _h, vocab_size: _v, ...rest } = QWEN3_06B;
    const by = issuesOf(rest);
    expect(Object.keys(by).sort()).toEqual(['hidden_size', 'vocab_size']);
    expect(by.hidden_size).toContain('is missing');
    expect(by.hidden_size).toContain('1024');
  });

  it('refuses what the engine does not implement, with the reason', () => {
    expect(issuesOf({ ...QWEN3_06B, model_type: 'llama' }).model_type).toContain('Qwen3');
    expect(issuesOf({ ...QWEN3_06B, attention_bias: true }).attention_bias).toContain('biases');
    expect(issuesOf({ ...QWEN3_06B, rope_scaling: { rope_type: 'yarn', factor: 4 } }).rope_scaling).toContain('default RoPE');
    expect(issuesOf({ ...QWEN3_06B, rope_parameters: { rope_type: 'yarn', rope_theta: 1e6 } })['rope_parameters.rope_type']).toContain('"default"');
    expect(issuesOf({ ...QWEN3_06B, use_sliding_window: true }).use_sliding_window).toContain('full causal');
    expect(issuesOf({ ...QWEN3_06B, layer_types: Array(28).fill('sliding_attention') }).layer_types).toContain('full_attention');
    expect(issuesOf({ ...QWEN3_06B, hidden_act: 'gelu' }).hidden_act).toContain('"silu"');
  });

  it('refuses inconsistent values', () => {
    expect(issuesOf({ ...QWEN3_06B, num_key_value_heads: 3 }).num_key_value_heads).toContain('divide');
    expect(issuesOf({ ...QWEN3_06B, head_dim: 127 }).head_dim).toContain('even');
    expect(issuesOf({ ...QWEN3_06B, rope_parameters: { rope_type: 'default', rope_theta: 10000 } }).rope_theta).toContain('rope_parameters.rope_theta');
    expect(issuesOf({ ...QWEN3_06B, pad_token_id: 200000 }).pad_token_id).toContain('vocab_size 151936');
    expect(issuesOf({ ...QWEN3_06B, hidden_size: 0 }).hidden_size).toContain('an integer in [1, 65536]');
    expect(issuesOf({ ...QWEN3_06B, rms_norm_eps: 'small' }).rms_norm_eps).toContain('got "small"');
    expect(issuesOf({ ...QWEN3_06B, layer_types: ['full_attention'] }).layer_types).toContain('num_hidden_layers is 28');
    expect(issuesOf('{}')['(root)']).toContain('JSON object');
  });

  it('sets the pad token as TRL does and gives the engine dims', () => {
    const c = parseQwen3Config(QWEN3_06B);
    expect(() => modelDims(c)).toThrow(/pad_token_id/);
    const d = modelDims(withPadTokenId(c));
    expect(d).toEqual({ C: 1024, F: 3072, L: 28, H: 16, Hkv: 8, D: 128, V: 151936, eps: 1e-6, theta: 1e6, padId: QWEN3_PAD_TOKEN_ID, initializerRange: 0.02 });
    expect(() => withPadTokenId(c, 151936)).toThrow(/outside the vocabulary/);
  });

  it('parses the parity fixture\'s config', async () => {
    const fx = await loadParityFixture();
    const c = parseQwen3Config(fx.meta.config);
    expect([c.hidden_size, c.num_attention_heads * c.head_dim, c.num_key_value_heads, c.pad_token_id]).toEqual([64, 128, 2, 151643]);
  });
});

describe('qwen3ParamCount', () => {
  it('counts Qwen3-0.6B: about 596M, 440M outside the embedding', () => {
    // By hand from the shapes in REFERENCE.md: q [2048,1024], k/v [1024,1024], o [1024,2048], gate/up [3072,1024],
    // down [1024,3072], q_norm/k_norm [128], two layer norms [1024]; embedding [151936,1024]; final norm; score [1,1024].
    const perLayer = 2048 * 1024 + 2 * 1024 * 1024 + 1024 * 2048 + 3 * 3072 * 1024 + 2 * 128 + 2 * 1024;
    const n = qwen3ParamCount(parseQwen3Config(QWEN3_06B));
    expect(n.perLayer).toBe(perLayer);
    expect(n.embedding).toBe(155_582_464);
    expect(n.layers).toBe(28 * 15_730_944);
    expect(n.total).toBe(155_582_464 + 28 * 15_730_944 + 1024 + 1024);
    expect(n.total).toBe(596_050_944);
    expect(n.nonEmbedding).toBe(440_468_480);
    expect(qwen3ParamCount(parseQwen3Config(QWEN3_06B), 2).score).toBe(2048);
  });
});
