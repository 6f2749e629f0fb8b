// PEFT adapter export/import: adapter_config.json byte for byte as PEFT 0.18.1 writes it, settings validation,
// adapter_model.safetensors key names both ways, tensor matching, and the Python json.dumps emulation.
import { describe, expect, it } from 'vitest';
import {
  LORA_DEFAULTS, LORA_TARGETS, adapterConfigObject, adapterKeyToHf, adapterTensorNames, adapterTensorShapes, buildAdapterConfig,
  hfToAdapterKey, loraScaling, matchAdapterTensors, parseAdapterConfig, parseLoraSettings, pyFloatRepr, pythonJsonDumps,
  serializeAdapter, PyFloat, type LoraSettings,
} from '../../src/formats/peft.ts';
import { ConfigError } from '../../src/formats/fields.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import { concatParts, readSafetensorsHeader, readTensorBytes } from '../../src/formats/safetensors.ts';

// json.dumps(indent=2, sort_keys=True) of PEFT 0.18.1's LoraConfig.to_dict() for task_type SEQ_CLS with the defaults
// (r 8, lora_alpha 8, dropout 0.0, qwen3 targets), modules_to_save as PeftModelForSequenceClassification sets it and
// inference_mode true. Produced in Python from the dataclass defaults read out of PEFT's source (config.py and
// tuners/lora/config.py at v0.18.1), not from this repository's code.
const PEFT_DEFAULT_ADAPTER_CONFIG = `{
  "alora_invocation_tokens": null,
  "alpha_pattern": {},
  "arrow_config": null,
  "auto_mapping": null,
  "base_model_name_or_path": "Qwen/Qwen3-0.6B",
  "bias": "none",
  "corda_config": null,
  "ensure_weight_tying": false,
  "eva_config": null,
  "exclude_modules": null,
  "fan_in_fan_out": false,
  "inference_mode": true,
  "init_lora_weights": true,
  "layer_replication": null,
  "layers_pattern": null,
  "layers_to_transform": null,
  "loftq_config": {},
  "lora_alpha": 8,
  "lora_bias": false,
  "lora_dropout": 0.0,
  "megatron_config": null,
  "megatron_core": "megatron.core",
  "modules_to_save": [
    "classifier",
    "score"
  ],
  "peft_type": "LORA",
  "peft_version": "0.18.1",
  "qalora_group_size": 16,
  "r": 8,
  "rank_pattern": {},
  "revision": null,
  "target_modules": [
    "q_proj",
    "v_proj"
  ],
  "target_parameters": null,
  "task_type": "SEQ_CLS",
  "trainable_token_indices": null,
  "use_dora": false,
  "use_qalora": false,
  "use_rslora": false
}`;

const QWEN3_06B = { L: 28, C: 1024, F: 3072, H: 16, Hkv: 8, D: 128 };
const TINY = { L: 2, C: 64, F: 128, H: 4, Hkv: 2, D: 32 };

function issuesOf(fn: () => unknown): { field: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('adapter_config.json', () => {
  it('is byte-identical to PEFT 0.18.1 for the default LoRA settings', () => {
    expect(buildAdapterConfig(LORA_DEFAULTS, { base_model_name_or_path: 'Qwen/Qwen3-0.6B' })).toBe(PEFT_DEFAULT_ADAPTER_CONFIG);
  });

  it('writes the configured values, sorted target_modules, and the user modules_to_save before PEFT\'s', () => {
    const s: LoraSettings = { r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['v_proj', 'q_proj', 'down_proj'], use_rslora: true, modules_to_save: ['score'] };
    const text = buildAdapterConfig(s, { base_model_name_or_path: '/models/qwen3', revision: 'main' });
    const o = JSON.parse(text);
    expect(o.r).toBe(16);
    expect(o.lora_alpha).toBe(32);
    expect(text).toContain('"lora_dropout": 0.05,');
    expect(o.target_modules).toEqual(['down_proj', 'q_proj', 'v_proj']);
    expect(o.use_rslora).toBe(true);
    expect(o.modules_to_save).toEqual(['score', 'classifier', 'score']);
    expect(o.base_model_name_or_path).toBe('/models/qwen3');
    expect(o.revision).toBe('main');
    expect(text.endsWith('}')).toBe(true); // PEFT writes no trailing newline
    // A fractional lora_alpha stays a float.
    expect(buildAdapterConfig({ ...s, lora_alpha: 12.5 }, { base_model_name_or_path: null })).toContain('"lora_alpha": 12.5,');
  });

  it('round-trips through parseAdapterConfig', () => {
    const s: LoraSettings = { r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: [...LORA_TARGETS], use_rslora: false, modules_to_save: null };
    const back = parseAdapterConfig(JSON.parse(buildAdapterConfig(s, { base_model_name_or_path: 'Qwen/Qwen3-0.6B' })));
    expect(back.lora).toEqual(s);
    expect(back.modules_to_save).toEqual(['classifier', 'score']);
    expect(back.base_model_name_or_path).toBe('Qwen/Qwen3-0.6B');
    expect(back.peft_version).toBe('0.18.1');
  });

  it('reads configs of older and newer PEFT versions (missing keys default, newer keys at their defaults)', () => {
    const old = { peft_type: 'LORA', task_type: 'SEQ_CLS', r: 8, lora_alpha: 16, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj'], bias: 'none', modules_to_save: ['classifier', 'score'], inference_mode: true, base_model_name_or_path: 'x' };
    expect(parseAdapterConfig(old).lora).toEqual({ r: 8, lora_alpha: 16, lora_dropout: 0.05, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null });
    const newer = { ...JSON.parse(PEFT_DEFAULT_ADAPTER_CONFIG), peft_version: '0.20.0', lora_ga_config: null, use_bdlora: null, velora_config: null, monteclora_config: null };
    expect(parseAdapterConfig(newer).lora.r).toBe(8);
  });

  it('refuses adapters the engine cannot run, naming each field', () => {
    const base = JSON.parse(PEFT_DEFAULT_ADAPTER_CONFIG);
    const issues = issuesOf(() => parseAdapterConfig({
      ...base, peft_type: 'IA3', task_type: 'CAUSAL_LM', use_dora: true, rank_pattern: { q_proj: 4 }, target_modules: '.*proj', modules_to_save: ['lm_head'], foo: 1,
    }));
    const fields = issues.map((i) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['peft_type', 'task_type', 'use_dora', 'rank_pattern', 'target_modules', 'modules_to_save', 'foo']));
    expect(issues.find((i) => i.field === 'modules_to_save')!.message).toContain('"score"');
    expect(issues.find((i) => i.field === 'target_modules')!.message).toContain('regular expression');
    expect(issuesOf(() => parseAdapterConfig([])).map((i) => i.field)).toEqual(['(root)']);
    const { peft_type: _drop, ...noType } = base;
    expect(issuesOf(() => parseAdapterConfig(noType)).map((i) => i.field)).toEqual(['peft_type']);
  });
});

describe('LoRA settings', () => {
  it('uses PEFT\'s defaults and accepts "all-linear"', () => {
    expect(parseLoraSettings({})).toEqual({ r: 8, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null });
    expect(parseLoraSettings({ target_modules: 'all-linear' }).target_modules).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']);
    // Listed modules come back in HF module order.
    expect(parseLoraSettings({ target_modules: ['down_proj', 'q_proj'] }).target_modules).toEqual(['q_proj', 'down_proj']);
  });

  it('rejects bad values with the field, the allowed range and a suggestion', () => {
    const issues = issuesOf(() => parseLoraSettings({ r: 0, lora_alpha: -1, lora_dropout: 1, target_modules: ['q_proj', 'qkv_proj'], alpha: 16 }));
    const by = Object.fromEntries(issues.map((i) => [i.field, i.message]));
    expect(by.r).toContain('integer in [1, 4096]');
    expect(by.lora_alpha).toContain('> 0');
    expect(by.lora_dropout).toContain('[0, 1)');
    expect(by.target_modules).toContain('"qkv_proj"');
    expect(by.alpha).toContain('did you mean "lora_alpha"');
    expect(issuesOf(() => parseLoraSettings({ target_modules: [] }))[0].message).toContain('empty');
    expect(issuesOf(() => parseLoraSettings({ target_modules: ['q_proj', 'q_proj'] }))[0].message).toContain('twice');
  });

  it('computes PEFT\'s scaling', () => {
    expect(loraScaling({ r: 16, lora_alpha: 32, use_rslora: false })).toBe(2);
    expect(loraScaling({ r: 16, lora_alpha: 32, use_rslora: true })).toBe(8);
  });
});

describe('adapter tensor names', () => {
  it('lists PEFT keys in module order, score last', () => {
    expect(adapterTensorNames({ target_modules: ['q_proj', 'v_proj'] }, 2)).toEqual([
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight',
      'base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight',
      'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight',
      'base_model.model.score.weight',
    ]);
    expect(adapterTensorNames({ target_modules: ['gate_proj'] }, 1)[0]).toBe('base_model.model.model.layers.0.mlp.gate_proj.lora_A.weight');
  });

  it('gives lora_A [r, in] and lora_B [out, r] for Qwen3-0.6B (heads·head_dim ≠ hidden)', () => {
    const shapes = new Map(adapterTensorShapes({ r: 16, target_modules: [...LORA_TARGETS] }, QWEN3_06B).map((e) => [e.key, e.shape]));
    const p = 'base_model.model.model.layers.27.';
    expect(shapes.get(`${p}self_attn.q_proj.lora_A.weight`)).toEqual([16, 1024]);
    expect(shapes.get(`${p}self_attn.q_proj.lora_B.weight`)).toEqual([2048, 16]);
    expect(shapes.get(`${p}self_attn.k_proj.lora_B.weight`)).toEqual([1024, 16]);
    expect(shapes.get(`${p}self_attn.o_proj.lora_A.weight`)).toEqual([16, 2048]);
    expect(shapes.get(`${p}mlp.up_proj.lora_B.weight`)).toEqual([3072, 16]);
    expect(shapes.get(`${p}mlp.down_proj.lora_A.weight`)).toEqual([16, 3072]);
    expect(shapes.get('base_model.model.score.weight')).toEqual([1, 1024]);
    expect(shapes.size).toBe(28 * 7 * 2 + 1);
  });

  it('maps keys both ways, reading older infixes', () => {
    expect(hfToAdapterKey('model.layers.3.mlp.down_proj.lora_B.weight')).toBe('base_model.model.model.layers.3.mlp.down_proj.lora_B.weight');
    expect(adapterKeyToHf('base_model.model.model.layers.3.mlp.down_proj.lora_B.weight')).toBe('model.layers.3.mlp.down_proj.lora_B.weight');
    expect(adapterKeyToHf('base_model.model.score.weight')).toBe('score.weight');
    expect(adapterKeyToHf('base_model.model.score.modules_to_save.default.weight')).toBe('score.weight');
    expect(adapterKeyToHf('base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight')).toBe('model.layers.0.self_attn.q_proj.lora_A.weight');
    expect(adapterKeyToHf('model.layers.0.self_attn.q_proj.lora_A.weight')).toBeNull();
  });

  it('matches a file\'s tensors against the settings, listing every problem', () => {
    const s = { ...LORA_DEFAULTS, r: 4 };
    const ok = new Map(adapterTensorShapes(s, TINY).map((e) => [e.key, e.shape]));
    const byName = matchAdapterTensors(ok, s, TINY);
    expect(byName.get('score.weight')).toBe('base_model.model.score.weight');
    expect(byName.size).toBe(2 * 2 * 2 + 1);

    const bad = new Map(ok);
    bad.delete('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight');
    bad.set('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', [8, 64]);
    bad.set('base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight', [4, 64]);
    const issues = issuesOf(() => matchAdapterTensors(bad, s, TINY));
    expect(issues.map((i) => i.field).sort()).toEqual([
      'base_model.model.model.layers.0.self_attn.k_proj.lora_A.weight',
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight',
    ]);
    expect(issues.find((i) => i.field.includes('q_proj'))!.message).toContain('[4,64]');
  });

  it('serializes adapter_model.safetensors with PEFT keys, F32 and {"format": "pt"}', async () => {
    const s = { ...LORA_DEFAULTS, r: 2, target_modules: ['q_proj' as const] };
    const tensors = adapterTensorShapes(s, TINY).map((e, k) => ({
      name: e.name, shape: e.shape, data: Float32Array.from({ length: e.shape[0] * e.shape[1] }, (_, i) => k + i / 1024),
    }));
    const bytes = concatParts(serializeAdapter(tensors));
    const src = bytesSource('adapter_model.safetensors', bytes);
    const h = await readSafetensorsHeader(src);
    expect(h.metadata).toEqual({ format: 'pt' });
    expect([...h.tensors.keys()].sort()).toEqual(adapterTensorNames(s, 2).sort());
    for (const t of tensors) {
      const info = h.tensors.get(hfToAdapterKey(t.name))!;
      expect(info.dtype).toBe('F32');
      expect(info.shape).toEqual(t.shape);
      const back = new Float32Array((await readTensorBytes(src, h, info.name)).slice().buffer);
      expect(back).toEqual(t.data);
    }
  });
});

describe('Python json.dumps emulation', () => {
  it('prints floats as Python repr does', () => {
    // Expected strings are Python 3's repr() of the same doubles.
    const cases: [number, string][] = [
      [0.05, '0.05'], [0, '0.0'], [1e-5, '1e-05'], [1e-4, '0.0001'], [1e16, '1e+16'], [1234.5, '1234.5'], [1e6, '1000000.0'],
      [1.41e-5, '1.41e-05'], [-2.5e-7, '-2.5e-07'], [123456789012345680, '1.2345678901234568e+17'], [0.1 + 0.2, '0.30000000000000004'],
      [5e-324, '5e-324'], [1.7976931348623157e308, '1.7976931348623157e+308'], [100, '100.0'], [0.001, '0.001'], [12345678.9, '12345678.9'],
    ];
    for (const [x, want] of cases) expect(pyFloatRepr(x), String(x)).toBe(want);
  });

  it('matches json.dumps(indent=2, sort_keys=True) including ensure_ascii escapes', () => {
    const value = { b: [1, new PyFloat(2), { x: null }], a: {}, c: [], é: 'ü\u2028\u007f"\\', d: { z: true, y: new PyFloat(1e-6) } };
    // Python: json.dumps({'b':[1,2.0,{'x':None}],'a':{},'c':[],'é':'ü\u2028\x7f"\\','d':{'z':True,'y':1e-06}}, indent=2, sort_keys=True)
    expect(pythonJsonDumps(value)).toBe(
      '{\n  "a": {},\n  "b": [\n    1,\n    2.0,\n    {\n      "x": null\n    }\n  ],\n  "c": [],\n  "d": {\n    "y": 1e-06,\n    "z": true\n  },\n' +
        '  "\\u00e9": "\\u00fc\\u2028\\u007f\\"\\\\"\n}',
    );
  });

  it('keeps every adapterConfigObject value JSON-representable', () => {
    const o = adapterConfigObject(LORA_DEFAULTS, { base_model_name_or_path: null });
    expect(Object.keys(o)).toHaveLength(36);
    expect(JSON.parse(pythonJsonDumps(o)).lora_dropout).toBe(0);
  });
});
