// Continue training and best-of-N through the real CLI, on one small LoRA run:
//   - the trainer reports eval pairs flipped between two evals (consistent with the two eval accuracies);
//   - `train --adapter <dir>` starts from the adapter's weights: with learning_rate 0 the exported adapter equals the
//     input adapter tensor for tensor, bit for bit (a fresh LoRA init would not); a conflicting "peft" is refused;
//   - `eval` on a RewardBench 2-style file gives best-of-N accuracy per subset equal to the in-memory rewards.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { closeModelFiles, folderTokenizer, modelFolderFiles, tokenizePreferenceFile } from '../../src/cli/files.ts';
import { writeFiles } from '../../src/cli/common.ts';
import { createSession } from '../../src/train/session.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { readSafetensorsHeader } from '../../src/formats/safetensors.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import type { TrainEvent } from '../../src/train/trainer.ts';

async function tensors(file: string): Promise<Map<string, Uint8Array>> {
  const bytes = new Uint8Array(readFileSync(file));
  const h = await readSafetensorsHeader(bytesSource('a', bytes));
  const out = new Map<string, Uint8Array>();
  for (const [name, t] of h.tensors) out.set(name, bytes.subarray(h.dataStart + t.dataOffsets[0], h.dataStart + t.dataOffsets[1]));
  return out;
}

describe('continue training and best-of-N (CLI)', () => {
  it('flips between evals; train --adapter starts from the adapter; eval scores best-of-N per subset', async () => {
    const gpu = await getTestGpu();
    const { modelDir, datasetDir } = await testFixtures();
    const tok = await folderTokenizer(modelDir);
    const data = await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'test.jsonl'), tok, 64);
    const peft = { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] };
    const config = parseRewardConfig({
      learning_rate: 2e-2, max_steps: 2, logging_steps: 1, per_device_train_batch_size: 4, max_length: 64, save_strategy: 'no',
      eval_strategy: 'steps', eval_steps: 1, per_device_eval_batch_size: 4, peft,
    });
    const events: TrainEvent[] = [];
    const files = await modelFolderFiles(modelDir);
    const session = await createSession({ gpu, files, config, train: data.pairs.slice(0, 8), eval: data.pairs.slice(8, 16), onEvent: (e) => events.push(e), baseModel: 'reward-studio/tiny-qwen3' });
    await closeModelFiles(files);
    await session.trainer.run();
    const evals = events.filter((e) => e.type === 'eval');
    expect(evals.map((e) => e.step)).toEqual([1, 2]);
    expect(evals[0].flipped).toBeUndefined();
    const f = evals[1].flipped!;
    expect(f).toMatchObject({ pairs: 8, since: 1 });
    expect(f.toCorrect - f.toIncorrect).toBe(Math.round(8 * (evals[1].metrics.eval_accuracy - evals[0].metrics.eval_accuracy)));

    const out = mkdtempSync(path.join(tmpdir(), 'rs-continue-'));
    const adapterDir = path.join(out, 'adapter');
    await writeFiles(adapterDir, await session.exportAdapter());
    const trainFile = path.join(datasetDir, 'jsonl', 'train.jsonl');

    // a conflicting LoRA shape is refused before anything loads, naming the field
    const bad = await runCli(['train', '--model', modelDir, '--train', trainFile, '--adapter', adapterDir, '--out', path.join(out, 'bad'), '--config', JSON.stringify({ peft: { ...peft, r: 8 } })], { allowFail: true });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/field "peft\.r": 8 differs from the adapter's 4/);

    // learning_rate 0: the run's weights stay what it loaded, so its export must equal the adapter it started from
    const cont = path.join(out, 'cont');
    await runCli(['train', '--model', modelDir, '--train', trainFile, '--adapter', adapterDir, '--out', cont, '--config', JSON.stringify({ learning_rate: 0, max_steps: 1, per_device_train_batch_size: 2, max_length: 64, save_strategy: 'no' })]);
    const before = await tensors(path.join(adapterDir, 'adapter_model.safetensors'));
    const after = await tensors(path.join(cont, 'adapter', 'adapter_model.safetensors'));
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, b] of before) expect(Buffer.compare(Buffer.from(after.get(name)!), Buffer.from(b)), name).toBe(0);
    expect(JSON.parse(readFileSync(path.join(cont, 'reward_config.json'), 'utf8')).peft).toMatchObject({ r: 4, lora_alpha: 8 });

    // best-of-N: RewardBench 2's format, scored through the CLI with the adapter
    const recs = [
      { prompt: 'What is 2+2?', chosen: ['4'], rejected: ['5', '22', 'fish'], subset: 'Math' },
      { prompt: 'Name a color.', chosen: ['Blue.'], rejected: ['Seven.', 'No.'], subset: 'Focus' },
      { prompt: 'Say hi.', chosen: ['Hi!'], rejected: ['Bye.'], subset: 'Focus' },
    ];
    const bonFile = path.join(out, 'rb2.jsonl');
    writeFileSync(bonFile, recs.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const res = JSON.parse((await runCli(['eval', '--model', modelDir, '--adapter', adapterDir, '--data', bonFile])).stdout);
    const conv = (p: string, r: string) => tok.encodeChat([{ role: 'user', content: p }, { role: 'assistant', content: r }]);
    const correct = [];
    for (const r of recs) {
      const [c, ...rej] = await session.score([conv(r.prompt, r.chosen[0]), ...r.rejected.map((x) => conv(r.prompt, x))]);
      correct.push(rej.every((x) => c > x) ? 1 : 0);
    }
    session.destroy();
    expect(res.num_records).toBe(3);
    expect(res.best_of_n_accuracy).toBeCloseTo(correct.reduce((a, b) => a + b, 0) / 3, 12);
    expect(res.subsets.Math).toEqual({ accuracy: correct[0], records: 1 });
    expect(res.subsets.Focus).toEqual({ accuracy: (correct[1] + correct[2]) / 2, records: 2 });
    expect(res.subset_mean_accuracy).toBeCloseTo((correct[0] + (correct[1] + correct[2]) / 2) / 2, 12);
  }, 600_000); // three CLI processes compile their own pipelines on SwiftShader
});
