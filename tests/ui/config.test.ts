// The Configure panel's config handling: defaults and presets are what src/train/config.ts parses, an invalid field
// is reported under its name with the parser's message, and the URL hash round-trips only non-default fields.
import { describe, expect, it } from 'vitest';
import { checkConfig, configDiff, defaultConfigJson, LORA_FIELDS, PRESETS, TRAINER_FIELDS } from '../../src/ui/config_fields.ts';
import { decodeHash, encodeHash } from '../../src/ui/store/persist.ts';
import { defaultRewardConfig, REWARD_CONFIG_FIELDS } from '../../src/train/config.ts';
import { renderTrlScript } from '../../src/ui/panels/configure/trl_script.ts';

describe('config fields', () => {
  it('the panel shows every RewardConfig field the engine reads', () => {
    const shown = TRAINER_FIELDS.map((f) => f.name).sort();
    expect(shown).toEqual(REWARD_CONFIG_FIELDS.filter((k) => k !== 'peft').sort());
    expect(LORA_FIELDS.map((f) => f.name)).toEqual(['r', 'lora_alpha', 'lora_dropout', 'target_modules', 'use_rslora']);
  });
  it('the defaults and every preset are valid configs', () => {
    expect(checkConfig(defaultConfigJson()).config).toEqual(defaultRewardConfig());
    for (const p of PRESETS) expect(checkConfig(p.config).issues).toEqual([]);
    const seed = PRESETS.find((p) => p.id === 'seed_pipeline')!.config;
    expect(seed).toMatchObject({ learning_rate: 1.41e-5, per_device_train_batch_size: 32, num_train_epochs: 3, warmup_steps: 100 });
  });
  it('names each invalid field', () => {
    const bad = { ...defaultConfigJson(), learning_rate: -1, peft: { r: 0 } };
    const fields = checkConfig(bad).issues.map((i) => i.field);
    expect(fields).toContain('learning_rate');
    expect(fields).toContain('peft.r');
  });
  it('configDiff keeps only non-defaults, and the hash round-trips them', () => {
    const c = { ...defaultConfigJson(), learning_rate: 2e-5, peft: { ...(PRESETS[2].config.peft as object) } };
    expect(Object.keys(configDiff(c)).sort()).toEqual(['learning_rate', 'peft']);
    const hash = encodeHash('configure', c, 'http://localhost:1/hub-mirror');
    const back = decodeHash(hash);
    expect(back.tab).toBe('configure');
    expect(back.hub).toBe('http://localhost:1/hub-mirror');
    expect(back.config).toEqual(c);
    expect(decodeHash('#config=%7Bnot json').configError).toMatch(/not valid/);
    expect(decodeHash('#tab=nope').tab).toBeUndefined();
  });
  it('the TRL script carries the configured values', () => {
    const c = { ...defaultConfigJson(), learning_rate: 2e-5, per_device_train_batch_size: 4, peft: { ...(defaultConfigJson().peft as object), r: 16, lora_alpha: 32, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null } };
    const text = renderTrlScript({ config: c, model: { kind: 'hub', repo: 'Qwen/Qwen3-0.6B', revision: 'main' }, dataset: { kind: 'hub', repo: 'trl-lib/ultrafeedback_binarized', revision: 'main' } });
    expect(text).toContain('learning_rate=2e-05');
    expect(text).toContain('per_device_train_batch_size=4');
    expect(text).toContain('r=16');
    expect(text).toContain('Qwen/Qwen3-0.6B');
    expect(() => renderTrlScript({ config: { ...c, learning_rate: 'x' }, model: { kind: 'demo' }, dataset: { kind: 'demo' } })).toThrow(/learning_rate/);
  });
});
