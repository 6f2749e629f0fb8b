// The worker handlers in Node: the data worker imports a JSONL File line by line (errors by line, valid lines
// importable only when accepted); the train worker reports the adapter (Dawn + SwiftShader here) or, with no
// WebGPU, the hint on how to get it.
import { describe, expect, it } from 'vitest';
import { NO_WEBGPU_HINT } from '../../src/gpu/device.ts';
import { useSwiftShaderIfNoIcd } from '../../src/gpu/node.ts';
import { createDataHandler, describeKey } from '../../src/worker/data_handler.ts';
import { createTrainHandler } from '../../src/worker/train_handler.ts';
import type { WorkerEvent } from '../../src/worker/protocol.ts';

const good = (i: number) => JSON.stringify({ chosen: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'yes' }], rejected: [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: 'no' }] });

describe('data handler: import-jsonl', () => {
  it('lists bad lines with their line number and imports the valid ones on accept', async () => {
    const events: WorkerEvent[] = [];
    const { handle, imports } = createDataHandler({ post: (e) => events.push(e), newId: () => 'imp1' });
    const text = [good(1), '{"chosen": "a"', good(2), '{"chosen": [], "rejected": []}', '', good(3)].join('\n');
    await handle({ type: 'import-jsonl', rid: 1, file: new File([text], 'prefs.jsonl'), split: 'train' });
    const summary = events.find((e) => e.type === 'import-summary');
    expect(summary).toMatchObject({ id: 'imp1', name: 'prefs.jsonl', valid: 3, errorCount: 2, accepted: false, format: 'conversational', blankLines: 1 });
    const lines = summary?.type === 'import-summary' ? summary.errors.map((e) => e.line) : [];
    expect(lines).toEqual([2, 4]);
    expect(imports.get('imp1')?.records).toBeNull();
    await handle({ type: 'import-accept', rid: 2, id: 'imp1' });
    expect(events.at(-1)).toEqual({ type: 'import-accepted', rid: 2, id: 'imp1', pairs: 3 });
    expect(imports.get('imp1')?.records).toHaveLength(3);
  });

  it('a clean file is accepted at once; a file with no valid line is an error in Model & data', async () => {
    const events: WorkerEvent[] = [];
    const { handle } = createDataHandler({ post: (e) => events.push(e) });
    await handle({ type: 'import-jsonl', rid: 1, file: new File([good(1) + '\n' + good(2) + '\n'], 'ok.jsonl'), split: 'train' });
    expect(events.at(-1)).toMatchObject({ type: 'import-summary', valid: 2, accepted: true, errorCount: 0 });
    await handle({ type: 'import-jsonl', rid: 2, file: new File(['nope\n'], 'bad.jsonl'), split: 'train' });
    expect(events.at(-1)).toMatchObject({ type: 'error', rid: 2, where: 'model-data' });
  });

  it('describes storage keys as repo, revision and path', () => {
    expect(describeKey('models/Qwen/Qwen3-0.6B/main/model.safetensors')).toEqual({ kind: 'model', repo: 'Qwen/Qwen3-0.6B', revision: 'main', path: 'model.safetensors' });
    expect(describeKey('datasets/trl-lib/ultrafeedback_binarized/main/data/train-00000-of-00001.parquet')).toMatchObject({ kind: 'dataset', path: 'data/train-00000-of-00001.parquet' });
  });
});

describe('train handler: gpu-info', () => {
  it('without WebGPU answers info null with the how-to hint', async () => {
    const events: WorkerEvent[] = [];
    const handle = createTrainHandler({ post: (e) => events.push(e), gpuApi: undefined });
    await handle({ type: 'gpu-info', rid: 3 });
    expect(events).toEqual([{ type: 'gpu-info', rid: 3, info: null, message: NO_WEBGPU_HINT }]);
  });

  it('with an adapter reports its features and the limits the header shows', async () => {
    useSwiftShaderIfNoIcd();
    if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
    const webgpu = await import('webgpu');
    Object.assign(globalThis, webgpu.globals);
    const events: WorkerEvent[] = [];
    const handle = createTrainHandler({ post: (e) => events.push(e), gpuApi: webgpu.create([]) });
    await handle({ type: 'gpu-info', rid: 1 });
    const ev = events[0];
    if (ev.type !== 'gpu-info' || !ev.info) throw new Error(`no adapter: ${JSON.stringify(ev)}. Install chromium (SwiftShader) and set VK_ICD_FILENAMES.`);
    for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup']) {
      expect(ev.info.limits[k]).toBeGreaterThan(0);
    }
    expect(Array.isArray(ev.info.features)).toBe(true);
  });
});
