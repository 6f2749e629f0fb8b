// The exported TRL script: every configured value is in it under its TRL / PEFT name, and it is well-formed Python
// by structural checks that need no interpreter (CI has no Python): balanced brackets outside strings, 4-space
// indentation, no JavaScript literals, only RewardConfig / LoraConfig keyword names that exist.
import { describe, expect, it } from 'vitest';
import { renderTrlScript } from '../../src/train/trl_script.ts';
import { REWARD_CONFIG_FIELDS, defaultRewardConfig, parseRewardConfig, rewardPreset, IGNORED_FIELDS } from '../../src/train/config.ts';
import { renderTrlScript as renderUiScript } from '../../src/ui/panels/configure/trl_script.ts';
import { defaultConfigJson } from '../../src/ui/config_fields.ts';

const OPTS = { modelId: 'Qwen/Qwen3-0.6B', datasetId: 'trl-lib/ultrafeedback_binarized' };

/** Removes string literals (keeping the quotes) so structure checks do not look inside them. */
function stripStrings(src: string): string {
  return src.replace(/"""[\s\S]*?"""/g, '""').replace(/"(?:[^"\\\n]|\\.)*"/g, '""').replace(/#[^\n]*/g, '');
}

function expectWellFormedPython(src: string): void {
  const code = stripStrings(src);
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (const ch of code) {
    if ('([{'.includes(ch)) stack.push(ch);
    else if (ch in pairs) expect(stack.pop(), `unbalanced ${ch}`).toBe(pairs[ch]);
  }
  expect(stack).toEqual([]);
  for (const line of src.split('\n')) {
    expect(line, 'no tabs').not.toContain('\t');
    expect((line.length - line.trimStart().length) % 4, `indentation of: ${line}`).toBe(0);
    expect(line.endsWith(' '), `trailing space: ${line}`).toBe(false);
  }
  expect(code).not.toMatch(/\b(undefined|null|true|false|NaN|Infinity)\b/);
  expect(code).not.toMatch(/\[object Object\]/);
}

/** keyword=value lines inside a call `name(`…`)` (one per line as rendered). */
function kwargs(src: string, call: string): Map<string, string> {
  const start = src.indexOf(`${call}(\n`);
  expect(start, `${call}( not found`).toBeGreaterThanOrEqual(0);
  const body = src.slice(start, src.indexOf('\n)', start));
  const out = new Map<string, string>();
  for (const m of body.matchAll(/^ {4}([a-z_0-9]+)=(.*?),?(?: {2}#.*)?$/gm)) {
    expect(out.has(m[1]), `${m[1]} given twice`).toBe(false);
    out.set(m[1], m[2]);
  }
  return out;
}

describe('renderTrlScript', () => {
  it('gradient_checkpointing unset (the studio plans it) is written as TRL\'s default True; explicit values as given', () => {
    const kw = (gc: boolean | null) => kwargs(renderTrlScript({ ...defaultRewardConfig(), gradient_checkpointing: gc }, OPTS), 'training_args = RewardConfig').get('gradient_checkpointing');
    expect(kw(null)).toBe('True');
    expect(kw(false)).toBe('False');
    expect(kw(true)).toBe('True');
  });

  it('writes every RewardConfig field with its value (fast LoRA preset)', () => {
    const c = rewardPreset('fast_lora');
    const src = renderTrlScript(c, OPTS);
    expectWellFormedPython(src);
    const kw = kwargs(src, 'training_args = RewardConfig');
    expect(kw.get('learning_rate')).toBe('0.0002');
    expect(kw.get('num_train_epochs')).toBe('1.0');
    expect(kw.get('max_length')).toBe('512');
    expect(kw.get('gradient_checkpointing')).toBe('False');
    expect(kw.get('eval_strategy')).toBe('"steps"');
    expect(kw.get('eval_steps')).toBe('100');
    expect(kw.get('center_rewards_coefficient')).toBe('None');
    expect(kw.get('output_dir')).toBe('"Qwen3-0.6B-Reward"');
    // Every field but the schedule's warmup (in WARMUP) and peft (in LoraConfig) is a keyword.
    for (const f of REWARD_CONFIG_FIELDS) {
      if (f === 'peft' || f === 'warmup_steps' || f === 'warmup_ratio') continue;
      expect(kw.has(f), f).toBe(true);
    }
    // warmup_ratio 0.03 is written for both transformers generations.
    expect(src).toContain('{"warmup_steps": 0.03}');
    expect(src).toContain('else {"warmup_ratio": 0.03}');
    expect(src).toContain('    **WARMUP,');
    const lora = kwargs(src, 'peft_config = LoraConfig');
    expect(lora.get('task_type')).toBe('"SEQ_CLS"');
    expect(lora.get('r')).toBe('16');
    expect(lora.get('lora_alpha')).toBe('32');
    expect(lora.get('lora_dropout')).toBe('0.0');
    expect(lora.get('target_modules')).toBe('["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]');
    expect(lora.get('use_rslora')).toBe('False');
    expect(src).toContain('from peft import LoraConfig');
    expect(src).toContain('    peft_config=peft_config,');
    expect(src).toContain('AutoModelForSequenceClassification.from_pretrained(MODEL_ID, num_labels=1)');
    expect(src).toContain('model.config.pad_token_id = tokenizer.pad_token_id');
    expect(src).toContain('MODEL_ID = "Qwen/Qwen3-0.6B"');
    expect(src).toContain('DATASET_ID = "trl-lib/ultrafeedback_binarized"');
    expect(src).toContain('dataset = load_dataset(DATASET_ID)');
    expect(src).toContain('    eval_dataset=dataset["test"],');
    expect(src.indexOf('set_seed(training_args.seed)')).toBeLessThan(src.indexOf('from_pretrained(MODEL_ID, num_labels=1)'));
  });

  it('writes the seed pipeline\'s values for full fine-tuning, with no PEFT', () => {
    const src = renderTrlScript(rewardPreset('seed_pipeline'), { ...OPTS, evalSplit: null });
    expectWellFormedPython(src);
    const kw = kwargs(src, 'training_args = RewardConfig');
    expect(kw.get('learning_rate')).toBe('1.41e-05');
    expect(kw.get('per_device_train_batch_size')).toBe('32');
    expect(kw.get('num_train_epochs')).toBe('3.0');
    expect(kw.get('optim')).toBe('"adamw_torch"');
    expect(kw.get('bf16')).toBe('True');
    expect(kw.get('gradient_checkpointing')).toBe('False');
    expect(kw.has('eval_steps')).toBe(false); // None → logging_steps in HF; not written
    expect(src).toContain('WARMUP = {"warmup_steps": 100}');
    expect(src).not.toContain('peft');
    expect(src).not.toContain('LoraConfig');
    expect(src).not.toContain('eval_dataset');
  });

  it('writes user values exactly, passes ignored TRL fields through, and reads local files', () => {
    const c = parseRewardConfig({
      learning_rate: 3e-6, adam_epsilon: 1e-7, weight_decay: 0.05, max_grad_norm: 0.3, center_rewards_coefficient: 0.01, seed: 1234,
      lr_scheduler_type: 'cosine', warmup_steps: 20, max_steps: 300, logging_steps: 0.05, save_strategy: 'no', output_dir: 'runs/rm',
      report_to: 'none', peft: { r: 32, lora_alpha: 16.5, lora_dropout: 0.1, target_modules: ['q_proj'], use_rslora: true, modules_to_save: ['score'] },
      disable_dropout: false,
    });
    const src = renderTrlScript(c, { modelId: './my-model', datasetId: null, dataFiles: { train: 'train.jsonl', eval: 'test.jsonl' } });
    expectWellFormedPython(src);
    const kw = kwargs(src, 'training_args = RewardConfig');
    expect(Object.fromEntries(['learning_rate', 'adam_epsilon', 'weight_decay', 'max_grad_norm', 'center_rewards_coefficient', 'seed', 'lr_scheduler_type', 'max_steps', 'logging_steps', 'save_strategy', 'output_dir', 'report_to', 'disable_dropout'].map((k) => [k, kw.get(k)]))).toEqual({
      learning_rate: '3e-06', adam_epsilon: '1e-07', weight_decay: '0.05', max_grad_norm: '0.3', center_rewards_coefficient: '0.01', seed: '1234',
      lr_scheduler_type: '"cosine"', max_steps: '300', logging_steps: '0.05', save_strategy: '"no"', output_dir: '"runs/rm"', report_to: '"none"',
      disable_dropout: 'False',
    });
    expect(src).toContain('WARMUP = {"warmup_steps": 20}');
    const lora = kwargs(src, 'peft_config = LoraConfig');
    expect([lora.get('r'), lora.get('lora_alpha'), lora.get('lora_dropout'), lora.get('use_rslora'), lora.get('modules_to_save')]).toEqual(['32', '16.5', '0.1', 'True', '["score"]']);
    expect(src).toContain('load_dataset("json", data_files={"train": "train.jsonl", "test": "test.jsonl"})');
    expect(src).toContain('MODEL_ID = "./my-model"');
    // Only real TRL / TrainingArguments names appear as keywords.
    const known = new Set<string>([...REWARD_CONFIG_FIELDS, ...Object.keys(IGNORED_FIELDS), 'output_dir']);
    for (const k of kw.keys()) expect(known.has(k), k).toBe(true);
  });

  it('notes when disable_dropout overrides lora_dropout', () => {
    const src = renderTrlScript(parseRewardConfig({ peft: { lora_dropout: 0.05 } }), OPTS);
    expect(src).toContain('lora_dropout=0.05,  # set to 0 by disable_dropout=True, as in the studio');
    expectWellFormedPython(src);
  });

  it('without evaluation data writes eval_strategy "no" (saying why) for every strategy; refuses a missing dataset', () => {
    for (const strategy of ['steps', 'epoch']) {
      const src = renderTrlScript(parseRewardConfig({ eval_strategy: strategy }), { ...OPTS, evalSplit: null });
      expect(kwargs(src, 'training_args = RewardConfig').get('eval_strategy')).toBe('"no"');
      expect(src).toContain(`the run's config says "${strategy}", but its data has no evaluation split`);
      expect(src).not.toContain('eval_dataset');
      expectWellFormedPython(src);
    }
    expect(() => renderTrlScript(parseRewardConfig({}), { modelId: 'm', datasetId: null })).toThrow(/datasetId/);
  });

  it("an imported JSONL: the run's two split files under the import's name, for every eval_strategy, with the split in words", () => {
    const dataset = { kind: 'import' as const, id: 'import-x-1' };
    for (const eval_strategy of ['no', 'steps', 'epoch']) {
      const src = renderUiScript({ config: { ...defaultConfigJson(), eval_strategy }, model: { kind: 'hub', repo: 'Qwen/Qwen3-0.6B', revision: 'main' }, dataset, importName: 'my-prefs.jsonl', split: { kind: 'seeded', test_size: 2, seed: 7 } });
      expect(src).toContain('load_dataset("json", data_files={"train": "my-prefs.train.jsonl", "test": "my-prefs.test.jsonl"})');
      expect(src).toContain('    eval_dataset=dataset["test"],');
      expect(kwargs(src, 'training_args = RewardConfig').get('eval_strategy')).toBe(`"${eval_strategy}"`);
      expect(src).toContain('my-prefs.jsonl as the studio split it (test_size 2, seed 7)');
      expect(src).not.toContain('ultrafeedback');
      expectWellFormedPython(src);
    }
    // kept whole (no test split): the file's own name, no evaluation
    const whole = renderUiScript({ config: { ...defaultConfigJson(), eval_strategy: 'steps' }, model: { kind: 'demo' }, dataset, importName: 'prefs.jsonl', split: { kind: 'whole', split: 'train' } });
    expect(whole).toContain('load_dataset("json", data_files={"train": "prefs.jsonl"})');
    expect(kwargs(whole, 'training_args = RewardConfig').get('eval_strategy')).toBe('"no"');
    // the demo model is named as what it is, and the demo set ships as files (never trl-lib/ultrafeedback_binarized)
    expect(whole).toContain('The studio trained its tiny demo model (random weights, not on the Hub)');
    const demo = renderUiScript({ config: defaultConfigJson(), model: { kind: 'demo' }, dataset: { kind: 'demo' } });
    expect(demo).toContain('data_files={"train": "demo-preferences.train.jsonl", "test": "demo-preferences.test.jsonl"}');
    expect(demo).not.toContain('ultrafeedback');
  });

  it('escapes strings as valid Python literals', () => {
    const src = renderTrlScript(parseRewardConfig({ output_dir: 'runs/"quoted"\\x' }), { modelId: 'org/modèle', datasetId: 'd' });
    expect(src).toContain('output_dir="runs/\\"quoted\\"\\\\x",');
    expect(src).toContain('MODEL_ID = "org/modèle"');
    expectWellFormedPython(src);
  });
});
