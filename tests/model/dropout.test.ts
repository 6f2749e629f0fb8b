// LoRA dropout is a training-time mask only: evaluation and scoring (model.evalPlan) see the model without it,
// exactly as PyTorch's model.eval() — and the training forward really is masked.
import { describe, expect, it } from 'vitest';
import { getTestGpu } from '../helpers/gpu.ts';
import { loadParityFixture, fullEmbedding } from '../fixtures/parity/load.ts';
import { parseQwen3Config, modelDims } from '../../src/model/config.ts';
import { buildParamTable, LINEAR_NAMES } from '../../src/model/params.ts';
import { allocateWeights, writeParam } from '../../src/model/weights.ts';
import { Qwen3RewardModel } from '../../src/model/qwen3.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { readF32 } from '../../src/gpu/buffers.ts';
import { scoreSequences } from '../../src/train/trainer.ts';

describe('LoRA dropout', () => {
  it('is off in evaluation (rewards equal a dropout-free model bit for bit) and on in the training forward', async () => {
    const gpu = await getTestGpu();
    const fx = await loadParityFixture();
    const dims = modelDims(parseQwen3Config(fx.meta.config));
    const build = (dropout: number, training: boolean) => {
      const lora = { r: 4, alpha: 8, dropout, targets: [...LINEAR_NAMES], useRslora: false };
      const table = buildParamTable(dims, { lora, frozenDtype: 'f32', maxBlockBytes: gpu.device.limits.maxStorageBufferBindingSize });
      const w = allocateWeights(gpu, table);
      for (const e of [...table.frozen, ...table.trainable]) {
        const data = e.kind === 'embed' ? fullEmbedding(fx, fx.model.f32('model.embed_tokens.weight.rows'))
          : e.kind === 'lora_A' || e.kind === 'lora_B' ? fx.loraInit.f32(`base_model.model.${e.name}`) : fx.model.f32(e.name);
        writeParam(gpu, w, e.name, data);
      }
      return new Qwen3RewardModel(gpu, w, { maxB: 6, maxT: 24, gradientCheckpointing: false, training });
    };
    const { B, T } = fx.meta.dims;
    const ids = fx.inputs.i32('input_ids');
    const lengths = fx.inputs.i32('lengths');
    const seqs = Array.from({ length: B }, (_, b) => ids.subarray(b * T, b * T + lengths[b]));
    const withDropout = build(0.5, true);
    const plain = build(0, false);
    const evalRewards = await scoreSequences(gpu, withDropout, seqs);
    expect([...evalRewards]).toEqual([...(await scoreSequences(gpu, plain, seqs))]);

    withDropout.writeInputs(Uint32Array.from(ids), Uint32Array.from(lengths), null, 12345);
    const plan = withDropout.plan(B, T);
    await runKernels(gpu, withDropout.forwardKernels(plan));
    const trainRewards = await readF32(gpu, withDropout.acts.rewards, B);
    expect([...trainRewards]).not.toEqual([...evalRewards]);
    withDropout.destroy();
    plain.destroy();
  });
});
