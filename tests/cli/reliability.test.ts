// The findings of issue 12, one test each (each fails without its fix): bounded config.json sizes, JSON errors with
// file:line:column, token ids checked against vocab_size (CLI exit 2 naming line and field), one JSONL reader for
// `score` (UTF-8, depth), sequence length against max_position_embeddings, num_labels vs the score head, unused
// tensors, eval_strategy without eval data, exit codes and wording, the Node no-adapter message. And issue 8 item 4:
// rows TRL trains on are accepted with a warning naming their lines. CLI runs stop before the GPU where they can.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testFixtures } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { parseModelConfigText, withPadTokenId, modelDims, parseQwen3Config } from '../../src/model/config.ts';
import { parseJsonText } from '../../src/formats/json_text.ts';
import { parseSafetensorsHeader } from '../../src/formats/safetensors.ts';
import { buildParamTable } from '../../src/model/params.ts';
import { checkCheckpointTensors } from '../../src/model/load.ts';
import { noAdapterMessage, type NodeGpuEnv } from '../../src/gpu/node.ts';
import { tinyQwen3Config } from '../../src/model/tiny.ts';
import { isUserError } from '../../src/util/user_error.ts';
import { folderTokenizer, readModelLimits, readPreferenceFile, readScoreInputs } from '../../src/cli/files.ts';
import { planCommand } from '../../src/cli/plan.ts';
import { readRunConfig } from '../../src/cli/common.ts';
import { trainCommand } from '../../src/cli/train.ts';
import { inspectCommand } from '../../src/cli/inspect.ts';
import { tokenizePair } from '../../src/data/tokenize.ts';
import { validatePreferenceRow } from '../../src/data/validate.ts';

const tmp = () => mkdtempSync(path.join(tmpdir(), 'rs-rel-'));
const NO_HINT = /REWARD_STUDIO_FLAGS|stack trace/;
const ids = (c: number[], r: number[]) => JSON.stringify({ chosen_ids: c, rejected_ids: r });

/** A copy of the fixture model folder with config.json changed. */
async function modelWith(patch: Record<string, unknown>): Promise<string> {
  const { modelDir } = await testFixtures();
  const dir = path.join(tmp(), 'model');
  mkdirSync(dir);
  for (const f of ['model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) copyFileSync(path.join(modelDir, f), path.join(dir, f));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')), ...patch }));
  return dir;
}

describe('config.json is bounded and its JSON errors are placed', () => {
  it('a lying num_hidden_layers (1e12) is refused before anything is sized from it', () => {
    const text = JSON.stringify({ ...tinyQwen3Config(), num_hidden_layers: 1e12 });
    expect(() => parseModelConfigText(text, 'm/config.json')).toThrow('m/config.json: field "num_hidden_layers": expected an integer in [1, 1024], got 1000000000000');
  });

  it('2^64-1 and 1e400 are described as what was written, not 18446744073709552000 or null', () => {
    const base = JSON.stringify(tinyQwen3Config()).slice(0, -1);
    expect(() => parseModelConfigText(`${base}, "vocab_size": 18446744073709551615}`)).toThrow('got a number beyond 2^53 (≈1.845e+19, not exact)');
    expect(() => parseModelConfigText(`${base}, "rope_theta": 1e400}`)).toThrow('got a number too large for a 64-bit float (read as Infinity)');
  });

  it('truncated, empty, BOM-prefixed and 10,000-deep files', () => {
    const full = JSON.stringify(tinyQwen3Config(), null, 2);
    expect(() => parseModelConfigText(full.slice(0, 60), 'm/config.json')).toThrow(/^m\/config\.json:\d+:\d+: not valid JSON: .*\(the file ends early: was it truncated\?\)$/);
    expect(() => parseModelConfigText('', 'm/config.json')).toThrow('m/config.json: the file is empty; expected a model config.json object');
    expect(parseModelConfigText('\uFEFF' + full).hidden_size).toBe(64);
    expect(() => parseJsonText(`{"a": ${'['.repeat(10000)}${']'.repeat(10000)}}`, 'c.json')).toThrow('c.json:1:106: nesting deeper than 100 levels');
  });

  it('train --config: 10,000-deep nesting is refused with its place (the field checks overflowed the stack)', async () => {
    await expect(readRunConfig(`{"learning_rate": 1e-4, "x": ${'['.repeat(10000)}${']'.repeat(10000)}}`)).rejects.toThrow('--config:1:129: nesting deeper than 100 levels');
  });

  it('a safetensors header of null says null', () => {
    const h = new TextEncoder().encode('null');
    expect(() => parseSafetensorsHeader('w.safetensors', 8 + h.length, h)).toThrow(/found null;/);
  });
});

describe('checkpoint tensors against config.json', () => {
  const cfg = withPadTokenId(parseQwen3Config(tinyQwen3Config()));
  const table = buildParamTable(modelDims(cfg), { lora: null, frozenDtype: 'f32', maxBlockBytes: 2 ** 30 });
  const list = (extra: [string, number[]][] = []) => new Map([...table.byName.values(), ...extra.map(([name, shape]) => ({ name, shape }))].map((e) => [e.name, { file: 'model.safetensors', dtype: 'F32', shape: e.shape }]));

  it('num_labels 2 with a [1, hidden] score.weight is refused', () => {
    expect(() => checkCheckpointTensors({ ...cfg, num_labels: 2 }, table, list(), 'config.json')).toThrow(/num_labels is 2 but a reward model has one label, and score\.weight in model\.safetensors has shape \[1,64\]/);
    expect(checkCheckpointTensors({ ...cfg, num_labels: 1 }, table, list(), 'config.json')).toEqual([]);
  });

  it('tensors the config does not use are warned about (lm_head.weight is expected)', () => {
    const w = checkCheckpointTensors(cfg, table, list([['lm_head.weight', [151936, 64]], ['model.layers.2.mlp.up_proj.weight', [128, 64]]]), 'config.json');
    expect(w).toEqual(['1 tensor of the checkpoint is not used by this config (config.json: num_hidden_layers 2, hidden_size 64): model.layers.2.mlp.up_proj.weight. Check that config.json belongs to these weights.']);
  });
});

describe('Node: no WebGPU adapter', () => {
  const env: NodeGpuEnv = { platform: 'linux', hasVulkanLoader: false, hasSwiftShader: true, hasChromiumLoader: true, icd: undefined, ldLibraryPath: undefined };
  it('names the missing Vulkan loader and its package, and how SwiftShader is used — no browser advice', () => {
    const m = noAdapterMessage(env);
    expect(m).toMatch(/Vulkan loader \(libvulkan\.so\.1\) is missing: install it with `sudo apt-get install -y libvulkan1`/);
    expect(m).toMatch(/LD_LIBRARY_PATH=\/usr\/lib\/chromium/);
    expect(m).toMatch(/VK_ICD_FILENAMES=\/usr\/lib\/chromium\/vk_swiftshader_icd\.json/);
    expect(m).not.toMatch(/Chrome or Edge/);
    expect(noAdapterMessage({ ...env, hasVulkanLoader: true, icd: '/x.json' })).toMatch(/no Vulkan driver offered an adapter: VK_ICD_FILENAMES is set to \/x\.json.*mesa-vulkan-drivers/);
  });
});

describe('CLI: bad input is refused naming the place (exit 2, no stack-trace hint)', () => {
  it('score: a token id outside the vocabulary exits 2 naming line and field', async () => {
    const { modelDir } = await testFixtures();
    const data = path.join(tmp(), 'ids.jsonl');
    writeFileSync(data, `${JSON.stringify({ input_ids: [1, 2] })}\n${JSON.stringify({ input_ids: [1, 2, 99999999] })}\n`);
    const r = await runCli(['score', '--model', modelDir, '--data', data], { allowFail: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${data}: line 2, field input_ids[2]: token id 99999999 is outside the model's vocabulary (vocab_size 151936)`);
    expect(r.stderr).not.toMatch(NO_HINT);
  });

  // In-process from here (a CLI start costs seconds): the commands' readers, and isUserError, which main.ts maps to exit 2.
  const refusal = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
    } catch (e) {
      expect(isUserError(e), (e as Error).stack).toBe(true);
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('2^32 in pre-tokenized pairs (wraps to 0 in an Int32Array); invalid UTF-8, deep nesting and over-long records in score', async () => {
    const { modelDir } = await testFixtures();
    const model = await modelWith({ max_position_embeddings: 16 });
    const limits = await readModelLimits(model);
    const tok = await folderTokenizer(modelDir);
    const dir = tmp();
    const f = (name: string, body: string | Uint8Array) => (writeFileSync(path.join(dir, name), body), path.join(dir, name));
    expect(await refusal(readPreferenceFile(f('t.jsonl', `${ids([1], [2])}\n${ids([1, 4294967296], [2])}\n`), limits.vocabSize)))
      .toContain('line 2, field chosen_ids[1]: expected a token id, an integer in [0, 151936), got 4294967296');
    const enc = new TextEncoder();
    expect(await refusal(readScoreInputs(f('u.jsonl', new Uint8Array([...enc.encode('{"text": "a'), 0xff, ...enc.encode('"}\n')])), tok, limits)))
      .toContain('u.jsonl: line 1: invalid UTF-8 at byte 12 of the line');
    // the 100th '[' (depth 101 with the outer '{') is at column 19 + 100
    expect(await refusal(readScoreInputs(f('d.jsonl', `{"text": "a", "x": ${'['.repeat(10000)}${']'.repeat(10000)}}\n`), tok, limits)))
      .toContain('d.jsonl: line 1, column 119: arrays/objects nested deeper than 100 levels');
    const long = f('s.jsonl', `${JSON.stringify({ input_ids: [1, 2, 3] })}\n${JSON.stringify({ input_ids: Array.from({ length: 17 }, (_, i) => i) })}\n`);
    expect(await refusal(readScoreInputs(long, tok, limits))).toContain("s.jsonl: line 2: 17 tokens, more than the model's max_position_embeddings 16");
    expect(await refusal(readScoreInputs(long, tok, limits, 8))).toContain('17 tokens, more than');
  });

  it('plan: a truncated config.json; train: eval_strategy without eval data; inspect: exit 2 when no row is valid', async () => {
    const { modelDir } = await testFixtures();
    const dir = tmp();
    writeFileSync(path.join(dir, 'config.json'), '{"hidden_size": 64, "vocab_');
    expect(await refusal(planCommand(['--model', path.join(dir, 'config.json')]))).toMatch(/config\.json:1:\d+: not valid JSON: unterminated string/);
    writeFileSync(path.join(dir, 't.jsonl'), `${ids([1], [2])}\n`);
    expect(await refusal(trainCommand(['--model', modelDir, '--train', path.join(dir, 't.jsonl'), '--out', path.join(dir, 'o'), '--config', '{"eval_strategy": "steps"}'])))
      .toContain('eval_strategy is "steps" but there is no eval data: pass --eval FILE, or set eval_strategy to "no"');
    writeFileSync(path.join(dir, 'bad.jsonl'), '{"chosen": 1}\n{"nope": 2}\n');
    const out = process.stdout.write;
    process.stdout.write = () => true;
    try {
      expect(await inspectCommand(['--data', path.join(dir, 'bad.jsonl'), '--no-tokens'])).toBe(2);
    } finally {
      process.stdout.write = out;
    }
  });
});

describe('rows TRL trains on tokenize as TRL tokenizes them (issue 8 item 4)', () => {
  it('token counts equal TRL 1.13 RewardTrainer\'s on the fixture model (tools/check_trl_accepts.py)', async () => {
    const { modelDir } = await testFixtures();
    const tok = await folderTokenizer(modelDir);
    const u = (content: string) => ({ role: 'user', content });
    const a = (content: string) => ({ role: 'assistant', content });
    // [row, (chosen, rejected) token counts printed by tools/check_trl_accepts.py; every row trained there]
    const cases: [Record<string, unknown>, [number, number]][] = [
      [{ chosen: [u('Hi'), a('x')], rejected: [u('Hi'), a('x')] }, [16, 16]],
      [{ chosen: [u('Hi'), a('x'), u('More?')], rejected: [u('Hi'), a('y')] }, [19, 16]],
      [{ chosen: [u('Hi'), a('')], rejected: [u('Hi'), a('y')] }, [15, 16]],
      [{ chosen: [u('Hi'), a('x')], rejected: [u('Hey'), a('y')] }, [16, 16]],
      [{ prompt: [u('Hi')], chosen: [u('Hi'), a('x')], rejected: [u('Hi'), a('y')] }, [22, 22]],
      [{ prompt: [u('Hi')], chosen: [a('x')], rejected: [u('Other'), a('y')] }, [16, 22]],
    ];
    for (const [row, want] of cases) {
      const r = validatePreferenceRow(row);
      if (!r.ok) throw new Error(r.issue.message);
      expect(r.warnings.length, JSON.stringify(row)).toBe(1);
      const t = tokenizePair(tok, r.value);
      expect([t.chosen_ids.length, t.rejected_ids.length], JSON.stringify(row)).toEqual(want);
    }
  });
});

describe('CLI train accepts what TRL trains on (issue 8 item 4)', () => {
  it('an identical pair and a prompt repeated in both completions train, with warnings naming their lines; an unusable line is refused with its line', async () => {
    const { modelDir } = await testFixtures();
    const dir = tmp();
    const u = (content: string) => ({ role: 'user', content });
    const a = (content: string) => ({ role: 'assistant', content });
    const rows = [
      { prompt: [u('Sky?')], chosen: [a('Blue.')], rejected: [a('Green.')] },
      { prompt: [u('Hi')], chosen: [a('Same.')], rejected: [a('Same.')] },
      { prompt: [u('2+2?')], chosen: [u('2+2?'), a('4')], rejected: [u('2+2?'), a('5')] },
      { prompt: [u('Sea?')], chosen: [a('Wet.')], rejected: [a('Dry.')] },
    ];
    writeFileSync(path.join(dir, 't.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const cfg = JSON.stringify({ max_steps: 1, per_device_train_batch_size: 4, logging_steps: 1, save_strategy: 'no', max_length: 64, peft: { r: 2, lora_alpha: 4, target_modules: ['q_proj'] } });
    const r = await runCli(['train', '--model', modelDir, '--train', path.join(dir, 't.jsonl'), '--out', path.join(dir, 'o'), '--config', cfg]);
    expect(r.stderr).toContain(`warning: ${path.join(dir, 't.jsonl')}: 1 row: chosen is identical to rejected (TRL trains on it with loss log 2 and no signal) — lines 2`);
    expect(r.stderr).toContain('1 row: chosen and rejected repeat the explicit prompt (TRL tokenizes prompt + completion, so the prompt appears twice) — lines 3');
    expect(r.stderr).toContain('[data] train: 4 pairs');
    expect(r.stderr).toMatch(/\[train\] step 1\/1/);
    writeFileSync(path.join(dir, 'bad.jsonl'), `${JSON.stringify(rows[0])}\n${JSON.stringify({ prompt: [u('x')], chosen: [{ role: 'bot', content: 'y' }], rejected: [a('z')] })}\n`);
    const bad = await runCli(['train', '--model', modelDir, '--train', path.join(dir, 'bad.jsonl'), '--out', path.join(dir, 'o2'), '--config', cfg], { allowFail: true });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.jsonl: line 2, field chosen[0].role: unknown role "bot"');
  });
});
