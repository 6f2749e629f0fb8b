// ONNX export checked by onnxruntime-web (WASM backend, Node) against the WGSL engine's rewards on the tiny Qwen3:
// base + LoRA adapter (merged into the graph's weights), a fully fine-tuned model (every weight differs from the
// base), float16 weights, and external data (threshold forced small). The batch is right-padded, of unequal
// lengths, with pad tokens inside sequences and at a sequence's end, and a row of pad tokens only.
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTestGpu } from '../helpers/gpu.ts';
import { testFixtures } from '../helpers/fixtures.ts';
import { closeModelFiles, modelFolderFiles } from '../../src/cli/files.ts';
import { writeFiles } from '../../src/cli/common.ts';
import { loadRewardModel, type LoadedModel } from '../../src/model/load.ts';
import { writeParam } from '../../src/model/weights.ts';
import { LINEAR_NAMES } from '../../src/model/params.ts';
import { scoreSequences } from '../../src/train/trainer.ts';
import { exportModel } from '../../src/train/export.ts';
import { exportOnnx } from '../../src/train/export_onnx.ts';
import { MemorySink } from '../../src/formats/onnx/writer.ts';
import { openOnnxRewardModel, compareRewards, VERIFY_TOLERANCE } from '../../src/formats/onnx/session.ts';
import { decodeModel } from '../../src/formats/onnx/proto_decode.ts';
import { Rng } from '../../src/util/random.ts';
import type { Gpu } from '../../src/gpu/device.ts';

const PAD = 151643;

/** Unequal lengths; pad ids inside (attended, never pooled), one sequence ending in pad ids, one of pad ids only. */
function batch(): number[][] {
  const rng = new Rng(7);
  const tok = () => Math.floor(rng.range(0, 151000));
  const seq = (n: number) => Array.from({ length: n }, tok);
  return [
    seq(19),
    [...seq(3), PAD, ...seq(4), PAD, PAD, ...seq(2)],
    seq(1),
    [...seq(6), PAD, PAD], // pools index 5
    [PAD, PAD, PAD], // pools index 0
    [...seq(12), PAD, ...seq(10)],
    seq(7),
  ];
}

async function onnxRewards(sink: MemorySink, seqs: number[][]): Promise<Float32Array> {
  const data = sink.bytes('model.onnx_data');
  const s = await openOnnxRewardModel(sink.bytes('model.onnx')!, { padId: PAD, provider: 'wasm', externalData: data });
  try {
    return await s.score(seqs, 4);
  } finally {
    await s.release();
  }
}

/** Random LoRA B (PEFT starts it at zero, which would make the merge a no-op) and score head. */
function perturb(gpu: Gpu, m: LoadedModel, seed: number): void {
  const rng = new Rng(seed);
  for (const e of m.weights.table.trainable) {
    const v = new Float32Array(e.numel);
    const std = e.kind === 'lora_B' ? 0.05 : e.kind === 'score' ? 0.5 : 0;
    if (std === 0) continue;
    for (let i = 0; i < v.length; i++) v[i] = std * rng.normal();
    writeParam(gpu, m.weights, e.name, v);
  }
}

describe('ONNX export (onnxruntime-web, WASM) vs the WGSL engine', () => {
  let gpu: Gpu;
  let modelDir: string;
  let lora: LoadedModel;
  let loraRewards: Float32Array;
  let inline: MemorySink; // base + LoRA, f32, one file
  let inlineRewards: Float32Array;
  const seqs = batch();

  beforeAll(async () => {
    gpu = await getTestGpu();
    ({ modelDir } = await testFixtures());
    const files = await modelFolderFiles(modelDir);
    lora = await loadRewardModel(gpu, files, {
      lora: { r: 4, alpha: 8, dropout: 0, targets: [...LINEAR_NAMES], useRslora: false },
      training: false, maxB: 8, maxT: 32, gradientCheckpointing: false, seed: 3,
    });
    await closeModelFiles(files);
    perturb(gpu, lora, 11);
    loraRewards = await scoreSequences(gpu, lora.model, seqs);
    inline = new MemorySink();
    expect((await exportOnnx(gpu, lora.weights, lora.config, { dtype: 'float32', sink: inline })).external).toBe(false);
    inlineRewards = await onnxRewards(inline, seqs);
  });

  it('base + LoRA: graph structure, and rewards equal the engine within 1e-3 relative', async () => {
    const model = decodeModel(inline.bytes('model.onnx')!) as {
      opset_import: { domain?: string; version: number }[];
      graph: { input: { name: string }[]; output: { name: string }[]; node: { op_type: string; domain?: string }[]; initializer: { name: string; dims: number[] }[] };
    };
    expect(model.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(model.graph.input.map((i) => i.name)).toEqual(['input_ids', 'attention_mask']);
    expect(model.graph.output.map((i) => i.name)).toEqual(['logits']);
    expect(model.graph.node.every((n) => !n.domain)).toBe(true);
    expect(model.graph.initializer.find((t) => t.name === 'model.layers.0.self_attn.q_proj.weight.T')?.dims).toEqual([64, 128]);

    const v = compareRewards(inlineRewards, loraRewards, 'wasm', VERIFY_TOLERANCE.float32);
    console.log(`LoRA f32: max |Δ| ${v.maxAbsDiff.toExponential(2)}, relative ${v.maxRelDiff.toExponential(2)}; rewards ${[...loraRewards].map((r) => r.toFixed(4)).join(' ')}`);
    expect(v.ok, JSON.stringify(v)).toBe(true);
    // the rewards differ per sequence (the check is not comparing constants); pad-only row pools token 0
    expect(new Set([...loraRewards].map((r) => r.toFixed(5))).size).toBe(seqs.length);
  });

  it('float16 weights: within the stated tolerance', async () => {
    const sink = new MemorySink();
    await exportOnnx(gpu, lora.weights, lora.config, { dtype: 'float16', sink });
    const onnx = await onnxRewards(sink, seqs);
    const v = compareRewards(onnx, loraRewards, 'wasm', VERIFY_TOLERANCE.float16);
    console.log(`LoRA f16: max |Δ| ${v.maxAbsDiff.toExponential(2)}, relative ${v.maxRelDiff.toExponential(2)}`);
    expect(v.ok, JSON.stringify(v)).toBe(true);
    expect(v.maxAbsDiff).toBeGreaterThan(0); // weights were really rounded
  });

  it('external data (threshold forced small): loads and scores the same as the inline export', async () => {
    const ext = new MemorySink();
    const res = await exportOnnx(gpu, lora.weights, lora.config, { dtype: 'float32', sink: ext, externalDataThreshold: 1 << 20 });
    expect(res.external).toBe(true);
    expect(res.files).toEqual(['model.onnx', 'model.onnx_data']);
    expect(ext.bytes('model.onnx')!.length).toBeLessThan(200_000); // only the graph and small constants
    expect(res.dataBytes).toBeGreaterThan(151936 * 64 * 4);
    expect([...(await onnxRewards(ext, seqs))]).toEqual([...inlineRewards]);
  });

  it('a fully fine-tuned model (every weight changed, f32 checkpoint) likewise', async () => {
    // The merged LoRA model saved as a full f32 checkpoint is a model whose every linear differs from the base.
    const dir = mkdtempSync(path.join(tmpdir(), 'rs-onnx-full-'));
    await writeFiles(dir, await exportModel(gpu, lora.weights, lora.config, 'float32'));
    const files = await modelFolderFiles(dir);
    const full = await loadRewardModel(gpu, files, { lora: null, training: false, maxB: 8, maxT: 32, gradientCheckpointing: false, seed: 0 });
    await closeModelFiles(files);
    expect(full.initialized).toEqual([]);
    const engine = await scoreSequences(gpu, full.model, seqs);
    const sink = new MemorySink();
    await exportOnnx(gpu, full.weights, full.config, { dtype: 'float32', sink });
    const onnx = await onnxRewards(sink, seqs);
    const v = compareRewards(onnx, engine, 'wasm', VERIFY_TOLERANCE.float32);
    console.log(`full f32: max |Δ| ${v.maxAbsDiff.toExponential(2)}, relative ${v.maxRelDiff.toExponential(2)}`);
    expect(v.ok, JSON.stringify(v)).toBe(true);
    full.model.destroy();
  });
});
