// `npm run check:exports` (outside CI: it needs Python with torch, transformers 5, PEFT and TRL, installed with pip
// from this machine's package store): trains a tiny Qwen3 (LoRA, 3 steps) through the studio's own worker handlers
// on Dawn, on an imported JSONL with a seeded split, then writes what "Download everything" writes — the adapter and
// merged-model folders with their READMEs, the TRL script and its two data files — into a folder laid out like the
// zip, and runs with the real libraries:
//   1. every Python block of adapter/README.md and model/README.md, unchanged (the base model id resolves to the
//      tiny model's folder, written under the same name), comparing the printed reward with the studio's;
//   2. the repo README's "Load the adapter in Python" block (model id and adapter path pointed at the tiny model),
//      with a batch of two sequences of different lengths;
//   3. the exported train_reward_model.py, unchanged apart from bf16 off (CPU), on the run's two split files.
// Prints each result and exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FsFileStore } from '../src/data/storage-fs.ts';
import { hubFileKey } from '../src/data/storage.ts';
import { useSwiftShaderIfNoIcd } from '../src/gpu/node.ts';
import { pythonBlocks } from '../src/train/readme.ts';
import { defaultConfigJson } from '../src/ui/config_fields.ts';
import { renderTrlScript } from '../src/ui/panels/configure/trl_script.ts';
import { RunStore } from '../src/worker/checkpoint_idb.ts';
import { createDataHandler } from '../src/worker/data_handler.ts';
import { createDataPort } from '../src/worker/data_port.ts';
import type { OutFile, PortRequest, Request, WorkerEvent } from '../src/worker/protocol.ts';
import { putStoredBytes } from '../src/worker/stored_bytes.ts';
import { createTrainHandler } from '../src/worker/train_handler.ts';
import { writeTinyQwen3 } from './fixtures-model.ts';
import 'fake-indexeddb/auto';

const REPO = 'reward-studio/tiny-qwen3';
const PYTHON = process.env.PYTHON ?? 'python3';
const work = mkdtempSync(path.join(tmpdir(), 'rs-export-check-'));
const baseDir = path.join(work, REPO);

async function main(): Promise<number> {
  console.log(`[check] working in ${work}`);
  await writeTinyQwen3(baseDir, { seed: 0 });
  const store = new FsFileStore(path.join(work, '.store'));
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    await putStoredBytes(store, hubFileKey('model', REPO, 'main', f), [new Uint8Array(readFileSync(path.join(baseDir, f)))], f);
  }
  useSwiftShaderIfNoIcd();
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  const events: WorkerEvent[] = [];
  const post = (e: WorkerEvent) => events.push(e);
  const data = createDataHandler({ post, openStore: async () => store, demoTokenizerFiles: async () => ({ tokenizerJson: readFileSync(path.join(baseDir, 'tokenizer.json'), 'utf8'), tokenizerConfig: readFileSync(path.join(baseDir, 'tokenizer_config.json'), 'utf8') }) });
  const channel = new MessageChannel();
  channel.port2.onmessage = (e: MessageEvent<PortRequest>) => void data.handlePort(e.data).then(({ reply, transfer }) => channel.port2.postMessage(reply, transfer));
  const port = createDataPort(channel.port1);
  const train = createTrainHandler({ post, gpuApi: webgpu.create([]), openStore: async () => store, openRuns: () => RunStore.open('check-exports'), dataPort: () => port });
  let rid = 1;
  const send = async (r: Record<string, unknown>) => {
    const req = { ...r, rid: rid++ } as Request;
    await (req.type === 'import-jsonl' || req.type === 'export-data' ? data.handle(req) : train(req));
    const err = events.find((e) => e.type === 'error');
    if (err) throw new Error(`${req.type}: ${JSON.stringify(err)}`);
  };
  const last = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type).at(-1)!;

  const msg = (q: string, a: string) => [{ role: 'user', content: q }, { role: 'assistant', content: a }];
  const jsonl = Array.from({ length: 12 }, (_, i) => JSON.stringify({ chosen: msg(`Question ${i}?`, 'Sure! Here is a careful answer.'), rejected: msg(`Question ${i}?`, 'No.') })).join('\n') + '\n';
  await send({ type: 'import-jsonl', file: new File([jsonl], 'my-prefs.jsonl'), split: { kind: 'seeded', test_size: 4, seed: 3 } });
  const stored = last('import-accepted').stored;
  const dataset = { kind: 'import', id: stored.id } as const;
  const model = { kind: 'hub', repo: REPO, revision: 'main' } as const;
  const config = {
    ...defaultConfigJson(), max_steps: 3, per_device_train_batch_size: 4, logging_steps: 1, eval_strategy: 'steps', eval_steps: 2, max_length: 128,
    learning_rate: 1e-3, bf16: false, report_to: 'none',
    peft: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null },
  };
  console.log('[studio] training 3 LoRA steps on the tiny model (Dawn)…');
  await send({ type: 'train-start', config, model, dataset, resume: false, budgetBytes: 2 ** 30 });
  await send({ type: 'export', what: 'adapter' });
  const adapter = last('export-files').files;
  await send({ type: 'export', what: 'model', dtype: 'f32' });
  const merged = last('export-files').files;
  await send({ type: 'export-data', dataset });
  const dataFiles = last('export-files').files;
  await send({ type: 'score-pair', conversation: [{ role: 'user', content: 'What is 2+2?' }], responseA: '2+2 is 4.', responseB: 'Five.' });
  const studioReward = last('score-pair-result').score.rewardA;
  channel.port1.close();

  const write = (dir: string, files: OutFile[]) => {
    mkdirSync(path.join(work, dir), { recursive: true });
    for (const f of files) writeFileSync(path.join(work, dir, f.name), f.data);
  };
  write('adapter', adapter);
  write('model', merged);
  write('.', dataFiles);
  const script = renderTrlScript({ config, model, dataset, importName: stored.name, split: stored.split });
  writeFileSync(path.join(work, 'train_reward_model.py'), script);

  const results: { name: string; ok: boolean; detail: string }[] = [];
  const python = (name: string, code: string, check?: (out: string) => string | null) => {
    const file = path.join(work, `${name.replace(/\W+/g, '_')}.py`);
    writeFileSync(file, code);
    const r = spawnSync(PYTHON, [file], { cwd: work, encoding: 'utf8', env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1', TOKENIZERS_PARALLELISM: 'false' }, timeout: 600_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    const problem = r.status !== 0 ? `exit ${r.status}: ${out.trim().split('\n').slice(-8).join('\n')}` : (check?.(r.stdout) ?? null);
    results.push({ name, ok: problem === null, detail: problem ?? r.stdout.trim().split('\n').slice(-3).join(' | ') });
  };
  const rewardClose = (out: string) => {
    const m = /reward: (-?[\d.]+)/.exec(out);
    if (!m) return `no "reward:" line in: ${out}`;
    const r = Number(m[1]);
    return Math.abs(r - studioReward) <= 2e-3 * Math.max(1, Math.abs(studioReward)) ? null : `Python reward ${r} differs from the studio's ${studioReward.toFixed(4)}`;
  };
  for (const [dir, files] of [['adapter', adapter], ['model', merged]] as const) {
    const readme = new TextDecoder().decode(files.find((f) => f.name === 'README.md')!.data);
    const blocks = pythonBlocks(readme);
    if (blocks.length === 0) results.push({ name: `${dir}/README.md`, ok: false, detail: 'no Python block' });
    blocks.forEach((b, i) => python(`${dir}/README.md block ${i + 1}`, b, rewardClose));
  }
  // the repo README's snippet, pointed at the tiny model and this adapter, scoring a batch of two
  const repoReadme = readFileSync(path.resolve('README.md'), 'utf8');
  const repoBlock = pythonBlocks(repoReadme).find((b) => b.includes('PeftModel'));
  if (!repoBlock) results.push({ name: 'README.md (repo)', ok: false, detail: 'no PeftModel block' });
  else {
    const code = repoBlock.replaceAll('"Qwen/Qwen3-0.6B"', JSON.stringify(REPO)).replaceAll('"out/adapter"', '"adapter"');
    python('README.md (repo) snippet', code, (out) => (/rewards: \[/.test(out) ? null : `no "rewards: [...]" line in: ${out}`));
  }
  python('train_reward_model.py', script, (out) => (/eval_loss/.test(out) ? null : `no eval metrics printed: ${out}`));

  console.log(`\n[studio] reward of the README's example conversation: ${studioReward.toFixed(4)}`);
  for (const r of results) console.log(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}\n      ${r.detail.replace(/\n/g, '\n      ')}`);
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(2);
  },
);
