// RewardConfig: TRL's names and defaults, refusals naming the field and the allowed range, the "peft" block,
// accepted-and-ignored TRL fields, presets, the JSON round trip, and HF's weight-decay grouping.
import { describe, expect, it } from 'vitest';
import {
  REWARD_PRESETS, configWarnings, defaultRewardConfig, effectiveLoraDropout, parseRewardConfig, rewardConfigToJson, rewardConfigToText,
  rewardPreset, weightDecayApplies,
} from '../../src/train/config.ts';
import { ConfigError } from '../../src/formats/fields.ts';
import { buildParamTable, LINEAR_NAMES } from '../../src/model/params.ts';

function issuesOf(json: unknown): Record<string, string> {
  try {
    parseRewardConfig(json, 'my.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message.startsWith('my.json: field "')).toBe(true);
    return Object.fromEntries((e as ConfigError).issues.map((i) => [i.field, i.message]));
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('are TRL RewardConfig\'s over TrainingArguments\'', () => {
    // Values from TRL's reward_config.py / base_config.py and transformers' training_args.py (REFERENCE.md "Defaults").
    expect(parseRewardConfig({})).toEqual({
      num_train_epochs: 3, max_steps: -1, per_device_train_batch_size: 8, per_device_eval_batch_size: 8, gradient_accumulation_steps: 1,
      learning_rate: 1e-4, weight_decay: 0, adam_beta1: 0.9, adam_beta2: 0.999, adam_epsilon: 1e-8, max_grad_norm: 1.0, optim: 'adamw_torch',
      lr_scheduler_type: 'linear', warmup_steps: 0, warmup_ratio: 0,
      center_rewards_coefficient: null, max_length: 1024, disable_dropout: true,
      logging_steps: 10, eval_strategy: 'no', eval_steps: null, save_strategy: 'steps', save_steps: 500,
      seed: 42, train_sampling_strategy: 'random', gradient_checkpointing: null, bf16: true, // studio: not set = the plan chooses (TRL: true)
      peft: null, ignored: {},
    });
  });
});

describe('gradient_checkpointing', () => {
  it('unset or null is null (the memory plan chooses) and is not written to JSON; true/false are kept and written', () => {
    expect(parseRewardConfig({}).gradient_checkpointing).toBeNull();
    expect(parseRewardConfig({ gradient_checkpointing: null }).gradient_checkpointing).toBeNull();
    expect(parseRewardConfig({ gradient_checkpointing: true }).gradient_checkpointing).toBe(true);
    expect(parseRewardConfig({ gradient_checkpointing: false }).gradient_checkpointing).toBe(false);
    expect('gradient_checkpointing' in rewardConfigToJson(defaultRewardConfig())).toBe(false);
    expect(rewardConfigToJson({ ...defaultRewardConfig(), gradient_checkpointing: false }).gradient_checkpointing).toBe(false);
    expect(rewardConfigToJson({ ...defaultRewardConfig(), gradient_checkpointing: true }, { onlyNonDefault: true }).gradient_checkpointing).toBe(true);
  });
});

describe('parseRewardConfig', () => {
  it('reads every field it is given', () => {
    const c = parseRewardConfig({
      learning_rate: 1.41e-5, per_device_train_batch_size: 32, gradient_accumulation_steps: 4, num_train_epochs: 1.5, max_steps: 100,
      lr_scheduler_type: 'cosine', warmup_steps: 0.1, weight_decay: 0.01, adam_beta1: 0.8, adam_beta2: 0.95, adam_epsilon: 1e-6,
      max_grad_norm: 0.5, center_rewards_coefficient: 0.01, seed: 7, logging_steps: 5, eval_strategy: 'steps', eval_steps: 50,
      save_strategy: 'epoch', save_steps: 0.25, gradient_checkpointing: false, max_length: null, bf16: false, disable_dropout: false,
      per_device_eval_batch_size: 16, optim: 'adamw_torch_fused',
    });
    expect(c).toMatchObject({
      learning_rate: 1.41e-5, per_device_train_batch_size: 32, gradient_accumulation_steps: 4, num_train_epochs: 1.5, max_steps: 100,
      lr_scheduler_type: 'cosine', warmup_steps: 0.1, weight_decay: 0.01, adam_beta1: 0.8, adam_beta2: 0.95, adam_epsilon: 1e-6,
      max_grad_norm: 0.5, center_rewards_coefficient: 0.01, seed: 7, logging_steps: 5, eval_strategy: 'steps', eval_steps: 50,
      save_strategy: 'epoch', save_steps: 0.25, gradient_checkpointing: false, max_length: null, bf16: false, disable_dropout: false,
      per_device_eval_batch_size: 16, optim: 'adamw_torch_fused', peft: null,
    });
    expect(parseRewardConfig({ max_grad_norm: null }).max_grad_norm).toBe(0); // null disables clipping, as 0 does in HF
  });

  it('rejects unknown fields with a suggestion, and points LoRA fields to "peft"', () => {
    const by = issuesOf({ learning_rat: 1e-4, batch_size: 8, lora_alpha: 16, lora: { r: 8 }, zzz: 1 });
    expect(by.learning_rat).toContain('did you mean "learning_rate"');
    expect(by.batch_size).toMatch(/did you mean "per_device_(train|eval)_batch_size"/);
    expect(by.lora_alpha).toContain('inside "peft"');
    expect(by.lora).toContain('"peft"');
    expect(by.zzz).toBe('unknown field');
  });

  it('names the field and the allowed range for wrong types and values, all at once', () => {
    const by = issuesOf({
      learning_rate: 'fast', per_device_train_batch_size: 0, adam_beta1: 1, max_steps: 0, warmup_steps: 1.5, logging_steps: 2.5,
      lr_scheduler_type: 'cosin', seed: -1, max_length: 0, gradient_checkpointing: 'yes', center_rewards_coefficient: -0.1, num_train_epochs: 0,
    });
    expect(by.learning_rate).toBe('expected a number in [0, 1], got "fast"');
    expect(by.per_device_train_batch_size).toBe('expected an integer in [1, 65536], got 0');
    expect(by.adam_beta1).toBe('expected a number in [0, 1), got 1');
    expect(by.max_steps).toContain('-1');
    expect(by.warmup_steps).toContain('ratio in (0, 1)');
    expect(by.logging_steps).toContain('integer ≥ 1 or a ratio');
    expect(by.lr_scheduler_type).toContain('did you mean "cosine"');
    expect(by.seed).toContain('integer in [0, 4294967295]');
    expect(by.max_length).toContain('null or an integer ≥ 1');
    expect(by.gradient_checkpointing).toBe('expected true or false, got "yes"');
    expect(by.center_rewards_coefficient).toContain('null or a number ≥ 0');
    expect(by.num_train_epochs).toBe('expected a number in (0, 1000000], got 0');
    expect(Object.keys(by)).toHaveLength(12);
    expect(issuesOf([1])['(root)']).toContain('JSON object');
  });

  it('refuses warmup_steps and warmup_ratio together (transformers 4 and 5 disagree on the winner)', () => {
    expect(issuesOf({ warmup_steps: 10, warmup_ratio: 0.1 }).warmup_ratio).toContain('set only one');
    expect(parseRewardConfig({ warmup_ratio: 0.1 }).warmup_ratio).toBe(0.1);
  });

  it('reads the "peft" block with LoraConfig names (null = full fine-tuning)', () => {
    expect(parseRewardConfig({ peft: null }).peft).toBeNull();
    expect(parseRewardConfig({ peft: {} }).peft).toEqual({ r: 8, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null });
    const c = parseRewardConfig({ peft: { r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], use_rslora: true } });
    expect(c.peft).toEqual({ r: 16, lora_alpha: 32, lora_dropout: 0.05, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'], use_rslora: true, modules_to_save: null });
    // A LoraConfig.to_dict() dump pastes: informational keys are accepted, unsupported options refused.
    expect(parseRewardConfig({ peft: { peft_type: 'LORA', task_type: 'SEQ_CLS', r: 4, inference_mode: false, base_model_name_or_path: null, fan_in_fan_out: false } }).peft!.r).toBe(4);
    const by = issuesOf({ peft: { r: 0, use_dora: true, task_type: 'CAUSAL_LM', rank: 8 }, lora_dropout: 0.1 });
    expect(by['peft.r']).toContain('integer in [1, 4096]');
    expect(by['peft.use_dora']).toContain('DoRA');
    expect(by['peft.task_type']).toContain('"SEQ_CLS"');
    expect(by['peft.rank']).toContain('unknown field');
    expect(by.lora_dropout).toContain('inside "peft"');
    expect(issuesOf({ peft: [] }).peft).toContain('null (full fine-tuning)');
  });

  it('accepts TRL fields that do not change the math, keeps them, and type-checks them', () => {
    const c = parseRewardConfig({ output_dir: 'out', report_to: ['wandb'], run_name: 'r1', dataset_num_proc: 4, fp16: false, push_to_hub: false, lr_scheduler_kwargs: {} });
    expect(c.ignored).toEqual({ output_dir: 'out', report_to: ['wandb'], run_name: 'r1', dataset_num_proc: 4 });
    const by = issuesOf({ report_to: 5, output_dir: 3, fp16: true, logging_strategy: 'epoch', eos_token: '<|im_end|>' });
    expect(by.report_to).toContain('a string or a list of strings');
    expect(by.output_dir).toContain('a string or null');
    expect(by.fp16).toContain('only false is supported');
    expect(by.logging_strategy).toContain('only "steps"');
    expect(by.eos_token).toContain('only null');
  });
});

describe('round trip and presets', () => {
  it('parse(toJson(c)) gives c back for every preset, in full and non-default form', () => {
    for (const p of REWARD_PRESETS) {
      const c = p.config();
      expect(parseRewardConfig(rewardConfigToJson(c)), p.id).toEqual(c);
      expect(parseRewardConfig(rewardConfigToJson(c, { onlyNonDefault: true })), p.id).toEqual(c);
      expect(parseRewardConfig(JSON.parse(rewardConfigToText(c))), p.id).toEqual(c);
    }
    const withIgnored = parseRewardConfig({ output_dir: 'x', learning_rate: 3e-5, peft: { r: 2 } });
    expect(parseRewardConfig(rewardConfigToJson(withIgnored))).toEqual(withIgnored);
  });

  it('writes only what differs from TRL\'s defaults when asked (peft always present)', () => {
    expect(rewardConfigToJson(defaultRewardConfig(), { onlyNonDefault: true })).toEqual({ peft: null });
    expect(rewardConfigToJson(parseRewardConfig({ learning_rate: 2e-5, peft: { r: 16 } }), { onlyNonDefault: true })).toEqual({ learning_rate: 2e-5, peft: { r: 16 } });
  });

  it('has the seed pipeline, TRL defaults and a fast LoRA preset', () => {
    expect(rewardPreset('trl_defaults')).toEqual(defaultRewardConfig());
    expect(rewardPreset('seed_pipeline')).toMatchObject({
      learning_rate: 1.41e-5, per_device_train_batch_size: 32, num_train_epochs: 3, warmup_steps: 100, optim: 'adamw_torch', bf16: true,
      gradient_checkpointing: false, peft: null,
    });
    const fast = rewardPreset('fast_lora');
    expect(fast.peft).not.toBeNull();
    expect(fast.peft!.target_modules).toHaveLength(7);
    expect(fast.num_train_epochs).toBeLessThan(3);
    // Presets are fresh objects.
    rewardPreset('fast_lora').peft!.r = 99;
    expect(rewardPreset('fast_lora').peft!.r).toBe(16);
    expect(() => rewardPreset('nope' as 'fast_lora')).toThrow(/presets: trl_defaults, seed_pipeline, fast_lora/);
  });
});

describe('derived settings', () => {
  it('groups weight decay as HF Trainer.get_decay_parameter_names does for Qwen3', () => {
    const decayed = [
      'model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.5.mlp.down_proj.weight', 'score.weight',
      'model.normalizer.weight', 'model.layers.0.mlp.abnorm.weight', // "norm" inside a word is not a norm module
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight', 'model.layers.0.self_attn.q_proj.lora_B.weight',
      'base_model.model.score.modules_to_save.default.weight',
    ];
    const notDecayed = [
      'model.layers.0.input_layernorm.weight', 'model.layers.27.post_attention_layernorm.weight', 'model.layers.0.self_attn.q_proj.bias', 'x.RMSNorm.weight',
      // current transformers' patterns (?:^|\.)norm(?:$|\.) and _norm(?:$|\.): q_norm, k_norm and the final norm
      'model.layers.0.self_attn.q_norm.weight', 'model.layers.0.self_attn.k_norm.weight', 'model.norm.weight', 'norm.weight',
    ];
    for (const n of decayed) expect(weightDecayApplies(n), n).toBe(true);
    for (const n of notDecayed) expect(weightDecayApplies(n), n).toBe(false);
  });

  it('the parameter table (what the optimizer reads) uses the same rule', () => {
    const dims = { V: 10, C: 8, F: 16, L: 1, H: 2, Hkv: 1, D: 4, eps: 1e-6, theta: 1e4, padId: 0, initializerRange: 0.02 };
    for (const lora of [null, { r: 2, alpha: 4, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false }]) {
      const t = buildParamTable(dims, { lora, frozenDtype: 'f32', maxBlockBytes: 1 << 20 });
      expect(t.trainable.length).toBeGreaterThan(0);
      for (const e of t.trainable) expect(e.decay, e.name).toBe(weightDecayApplies(e.name));
      if (!lora) expect(t.trainable.filter((e) => !e.decay).map((e) => e.name).sort()).toEqual([
        'model.layers.0.input_layernorm.weight', 'model.layers.0.post_attention_layernorm.weight',
        'model.layers.0.self_attn.k_norm.weight', 'model.layers.0.self_attn.q_norm.weight', 'model.norm.weight',
      ]);
    }
  });

  it('turns LoRA dropout off under disable_dropout (TRL zeroes every dropout after get_peft_model)', () => {
    const c = parseRewardConfig({ peft: { lora_dropout: 0.1 } });
    expect(effectiveLoraDropout(c)).toBe(0);
    expect(effectiveLoraDropout({ ...c, disable_dropout: false })).toBe(0.1);
    expect(effectiveLoraDropout(defaultRewardConfig())).toBe(0);
  });

  it('warns about settings that silently do nothing', () => {
    expect(configWarnings(defaultRewardConfig())).toEqual([]);
    const w = configWarnings(parseRewardConfig({ lr_scheduler_type: 'constant', warmup_steps: 10, peft: { lora_dropout: 0.1 }, eval_steps: 5 }));
    expect(w).toHaveLength(3);
    expect(w[0]).toContain('constant_with_warmup');
    expect(w[1]).toContain('disable_dropout');
    expect(w[2]).toContain('eval_strategy');
  });
});
