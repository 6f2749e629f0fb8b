// The studio's ONNX export (train worker): the session's model as model.onnx [+ model.onnx_data] with config.json,
// the tokenizer files and a README, verified before it is offered: onnxruntime-web (WebGPU execution provider when
// this worker has WebGPU, else WASM) scores the run's eval pairs (else train pairs; else seeded token sequences)
// and must agree with the WGSL engine's rewards (VERIFY_TOLERANCE). onnxruntime-web is loaded here on first use.
import type { TrainSession } from '../train/session.ts';
import { onnxReadme } from '../train/export_onnx.ts';
import { ArraySink, EXTERNAL_DATA_FILE, MODEL_FILE } from '../formats/onnx/writer.ts';
import { compareRewards, openOnnxRewardModel, VERIFY_TOLERANCE, type VerifyResult } from '../formats/onnx/session.ts';
import type { OnnxDtype } from '../formats/onnx/qwen3.ts';
import { Rng } from '../util/random.ts';
import type { OutFile } from './protocol.ts';

export async function exportOnnxFiles(
  session: TrainSession,
  o: { dtype: OnnxDtype; baseModel: string | null; tokenizerFiles: OutFile[] },
): Promise<{ files: OutFile[]; verify: VerifyResult }> {
  const sink = new ArraySink();
  const res = await session.exportOnnx({ dtype: o.dtype, sink });
  const model = sink.files.get(MODEL_FILE)!;
  const data = sink.files.get(EXTERNAL_DATA_FILE);
  const padId = session.loaded.dims.padId;

  let seqs: number[][] = session.verifyPairs.flatMap((p) => [Array.from(p.chosen_ids), Array.from(p.rejected_ids)]);
  if (seqs.length === 0) {
    const rng = new Rng(1);
    const V = session.loaded.dims.V;
    seqs = [5, 17, 9, 30, 1, 12].map((n) => Array.from({ length: n }, () => Math.floor(rng.range(0, V))));
  }
  const engine = await session.score(seqs);
  const ort = await openOnnxRewardModel(model, { padId, provider: 'auto', externalData: data });
  let verify: VerifyResult;
  try {
    verify = compareRewards(await ort.score(seqs, 8), engine, ort.provider, VERIFY_TOLERANCE[o.dtype]);
  } finally {
    await ort.release();
  }
  const enc = new TextEncoder();
  const files: OutFile[] = [
    { name: MODEL_FILE, data: model },
    ...(data ? [{ name: EXTERNAL_DATA_FILE, data }] : []),
    { name: 'config.json', data: enc.encode(res.configJson) },
    ...o.tokenizerFiles,
    { name: 'README.md', data: enc.encode(onnxReadme({ dtype: o.dtype, external: res.external, baseModel: o.baseModel, verify, padId })) },
  ];
  return { files, verify };
}
