// The weight loader's f16 check (src/model/weights.ts → src/ops/f16_tiles.ts): frozen bf16 tensors streamed from a
// checkpoint are recorded with the power-of-two scales under which they are exact in f16, so the GEMM may stage them
// as f16; a tensor with one value out of reach is recorded as not exact. Runs on every adapter (no kernel runs).
import { describe, expect, it } from 'vitest';
import { tinyQwen3Config, tinyQwen3Tensors } from '../../src/model/tiny.ts';
import { modelDims, parseModelConfigText } from '../../src/model/config.ts';
import { buildParamTable } from '../../src/model/params.ts';
import { allocateWeights, destroyWeights, loadWeights, paramRef, type TensorSource } from '../../src/model/weights.ts';
import { adjacentSpan } from '../../src/model/linear.ts';
import { bf16ScaleRange, bf16TileScale, pickScale } from '../../src/ops/f16_tiles.ts';
import { getTestGpu } from '../helpers/gpu.ts';

describe('weight loader: f16 exactness of bf16 weights', () => {
  it('records each frozen bf16 tensor (and so spans like q|k|v) with the scale a product can use', async () => {
    const gpu = await getTestGpu();
    const cfg = { ...tinyQwen3Config(96), bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 };
    const dims = modelDims(parseModelConfigText(JSON.stringify(cfg), 'config.json'));
    const table = buildParamTable(dims, { lora: { r: 4, alpha: 8, dropout: 0, targets: ['q_proj', 'v_proj'], useRslora: false }, frozenDtype: 'bf16', maxBlockBytes: 1 << 24 });
    const tensors = tinyQwen3Tensors(cfg, 5);
    // One value of layer 1's down_proj out of reach: 2^-60 (lsb 2^-67) beside values near 0.02–0.1 (top ≥ 2^-6).
    const down1 = tensors.find((t) => t.name === 'model.layers.1.mlp.down_proj.weight')!;
    new Uint16Array(down1.data.buffer, down1.data.byteOffset, 4)[3] = 0x2180; // bf16 2^-60
    const sources = new Map<string, TensorSource>(tensors.map((t) => [t.name, {
      file: 'model.safetensors', dtype: t.dtype as 'BF16', shape: t.shape, byteLength: t.data.byteLength,
      read: async (o: number, n: number) => t.data.subarray(o, o + n),
    }]));
    const w = allocateWeights(gpu, table);
    try {
      await loadWeights(gpu, w, sources);
      const cpu = (name: string) => {
        const t = tensors.find((x) => x.name === name)!;
        return bf16ScaleRange(new Uint16Array(t.data.buffer, t.data.byteOffset, t.data.byteLength / 2));
      };
      let exact = 0, total = 0;
      for (const e of table.frozen.filter((x) => x.kind === 'linear')) {
        const want = cpu(e.name);
        expect(bf16TileScale(paramRef(w, e.name)), e.name).toBe(want === 'none' ? null : pickScale(want));
        total++;
        if (want !== 'none') exact++;
      }
      expect(bf16TileScale(paramRef(w, 'model.layers.1.mlp.down_proj.weight'))).toBeNull();
      expect(exact).toBe(total - 1); // N(0, 0.02) weights of this size fit; the doctored one does not
      // A fused product over adjacent tensors (q|k|v of layer 0, when the table placed them adjacent) uses one scale.
      const span = adjacentSpan(['q_proj', 'k_proj', 'v_proj'].map((n) => paramRef(w, `model.layers.0.self_attn.${n}.weight`)));
      if (span) expect(bf16TileScale(span)).not.toBeNull();
    } finally {
      destroyWeights(w);
    }
  });
});
