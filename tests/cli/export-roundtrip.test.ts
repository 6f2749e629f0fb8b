// Export round trip through the real CLI: train a few LoRA steps in memory, export the PEFT adapter and the merged
// model, then `npm run cli -- score` on base + adapter (must equal the in-memory rewards bit for bit: same kernels,
// same weights) and on the merged folder (equal up to f32 rounding of W + s·B·A).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { expectClose } from '../helpers/check.ts';
import { closeModelFiles, folderTokenizer, modelFolderFiles, tokenizePreferenceFile } from '../../src/cli/files.ts';
import { writeFiles, copyTokenizerFiles } from '../../src/cli/common.ts';
import { createSession } from '../../src/train/session.ts';
import { parseRewardConfig } from '../../src/train/config.ts';
import { readSafetensorsHeader } from '../../src/formats/safetensors.ts';
import { bytesSource } from '../../src/formats/bytes.ts';

describe('export round trip', () => {
  it('CLI scores from base + adapter equal the in-memory model; the merged model agrees', async () => {
    const gpu = await getTestGpu();
    const { modelDir, datasetDir } = await testFixtures();
    const tok = await folderTokenizer(modelDir);
    const data = await tokenizePreferenceFile(path.join(datasetDir, 'jsonl', 'test.jsonl'), tok, 64);
    const config = parseRewardConfig({
      learning_rate: 5e-3, max_steps: 2, logging_steps: 1, per_device_train_batch_size: 4, max_length: 64, save_strategy: 'no', eval_strategy: 'no',
      peft: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
    });
    const files = await modelFolderFiles(modelDir);
    // trained with float16 activation storage (issue 10: export works the same with it on; the f32 path is the default
    // everywhere else)
    const session = await createSession({ gpu, files, config, train: data.pairs.slice(0, 8), onEvent: () => {}, baseModel: 'reward-studio/tiny-qwen3', activationDtype: 'float16' });
    expect(session.plan.activation_dtype).toBe('float16');
    await closeModelFiles(files);
    await session.trainer.run();
    const pairs = data.pairs.slice(8, 12);
    const seqs = pairs.flatMap((p) => [p.chosen_ids, p.rejected_ids]);
    const inMemory = await session.score(seqs);
    const messages = [{ role: 'user', content: 'Say hi.' }, { role: 'assistant', content: 'Sure! Hi there.' }];
    const text = 'A plain text completion.';
    const singles = await session.score([tok.encodeChat(messages as never), tok.encodeText(text + tok.eosToken)]);

    const out = mkdtempSync(path.join(tmpdir(), 'rs-export-'));
    const adapterDir = path.join(out, 'adapter');
    await writeFiles(adapterDir, await session.exportAdapter());
    const mergedDir = path.join(out, 'model');
    await writeFiles(mergedDir, await session.exportModel('float32'));
    await copyTokenizerFiles(modelDir, mergedDir);
    session.destroy();

    // The adapter is what PEFT writes: keys with base_model.model., lora_A [r,in], lora_B [out,r], score [1,C].
    const cfg = JSON.parse(readFileSync(path.join(adapterDir, 'adapter_config.json'), 'utf8'));
    expect(cfg.peft_type).toBe('LORA');
    expect(cfg.task_type).toBe('SEQ_CLS');
    expect(cfg.modules_to_save).toEqual(['classifier', 'score']);
    const header = await readSafetensorsHeader(bytesSource('adapter', new Uint8Array(readFileSync(path.join(adapterDir, 'adapter_model.safetensors')))));
    expect(header.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')?.shape).toEqual([4, 64]);
    expect(header.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight')?.shape).toEqual([64, 4]);
    expect(header.tensors.get('base_model.model.score.weight')?.shape).toEqual([1, 64]);
    expect(header.tensors.size).toBe(2 * 7 * 2 + 1);
    expect(header.metadata).toEqual({ format: 'pt' });

    // Score the same pairs through the CLI, as pairs in JSONL (pre-tokenized, so tokenization is not in question).
    const input = path.join(out, 'pairs.jsonl');
    const lines = pairs.map((p) => JSON.stringify({ chosen_ids: [...p.chosen_ids], rejected_ids: [...p.rejected_ids] }));
    lines.push(JSON.stringify({ messages }), JSON.stringify({ text }));
    writeFileSync(input, lines.join('\n') + '\n');
    const viaAdapter = await runCli(['score', '--model', modelDir, '--adapter', adapterDir, '--data', input]);
    const rows = viaAdapter.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(pairs.length + 2);
    expect(rows.slice(0, pairs.length).flatMap((r) => [r.chosen_reward, r.rejected_reward])).toEqual([...inMemory]);
    // single records: {"reward": x}, in input order (a conversation through the chat template, a text with EOS)
    expect(rows.slice(pairs.length)).toEqual([{ reward: singles[0] }, { reward: singles[1] }]);

    const viaMerged = await runCli(['score', '--model', mergedDir, '--data', input]);
    const merged = viaMerged.stdout.trim().split('\n').slice(0, pairs.length).flatMap((l) => { const r = JSON.parse(l); return [r.chosen_reward, r.rejected_reward]; });
    // Merging rounds W + s·B·A to f32 once per weight: rewards move by ~1e-7 relative.
    expectClose('merged-model rewards', merged, inMemory, { atol: 1e-5, rtol: 1e-4 });
    const mcfg = JSON.parse(readFileSync(path.join(mergedDir, 'config.json'), 'utf8'));
    expect(mcfg.architectures).toEqual(['Qwen3ForSequenceClassification']);
    expect(mcfg.pad_token_id).toBe(151643);
  });
});
