// Qwen3ForSequenceClassification (num_labels = 1) as one ONNX graph, standard opset 17 operators only, with
// transformers 5.x semantics (models/qwen3/modeling_qwen3.py, modeling_layers.py GenericForSequenceClassification):
//
//   inputs  input_ids (B,T) int64, attention_mask (B,T) int64 — right padding, B and T dynamic
//   output  logits (B,1) float32 = score · h_L[b, p_b]
//   p_b   = argmax_t(t · (input_ids[b,t] ≠ pad_token_id))   rightmost non-pad token (first index on ties: a row of
//           pad tokens only pools 0); attention_mask does not enter the pooling, as in transformers
//   mask  key j visible to query i iff j ≤ i and attention_mask[b,j] = 1 (causal + padding); masked scores are
//         set to float32's lowest value (transformers' eager/sdpa min-dtype fill), so a fully masked row is uniform
//   positions 0..T−1 whatever the mask (transformers: position_ids = arange when none are given)
//   layer: h += o(attn(rope(q_norm(q(n1(h)))), rope(k_norm(k(n1(h)))), v(n1(h)))); h += down(silu(gate(n2 h))·up(n2 h))
//   RMSNorm(x) = x / sqrt(mean(x²) + eps) · w;  RoPE half-split, inv_freq[i] = θ^(−2i/D) in f32;  GQA: query head h
//   reads kv head ⌊h / (H/Hkv)⌋ (q viewed as (B,Hkv,H/Hkv,T,D) against k,v as (B,Hkv,1,T,D), broadcast MatMul)
//
// Linear weights are stored transposed, (in, out), under "<hf name>.T", so every projection is a MatMul.
// dtype float16 stores every weight in float16 and casts it to float32 in the graph (compute stays f32).
// Legend: B batch, T tokens, C hidden, H query heads, Hkv kv heads, D head dim, F ffn dim, V vocab, L layers.
import { DataType } from './proto.ts';
import { GraphBuilder } from './graph.ts';
import { f32ToF16Bits } from './half.ts';

export interface OnnxQwen3Dims {
  V: number;
  C: number;
  F: number;
  L: number;
  H: number;
  Hkv: number;
  D: number;
  eps: number;
  theta: number;
  padId: number;
}

export type OnnxDtype = 'float32' | 'float16';

/** Produces an HF tensor (with any LoRA merged) as f32 in the checkpoint's layout: (out, in) for linears. */
export type TensorGetter = (hfName: string) => Promise<Float32Array>;

const F32_LOWEST = -3.4028234663852886e38;

export function buildQwen3Graph(d: OnnxQwen3Dims, get: TensorGetter, dtype: OnnxDtype): GraphBuilder {
  const { C, F, H, Hkv, D } = d;
  if (H % Hkv !== 0) throw new Error(`num_attention_heads ${H} is not a multiple of num_key_value_heads ${Hkv}`);
  if (D % 2 !== 0) throw new Error(`head_dim ${D} must be even for RoPE`);
  const g = new GraphBuilder();
  const wdt = dtype === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  const toBytes = (v: Float32Array) => (dtype === 'float16' ? new Uint8Array(f32ToF16Bits(v).buffer) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
  const asF32 = (name: string) => (dtype === 'float16' ? g.op('Cast', [name], { to: DataType.FLOAT }) : name);
  /** A vector or table stored as is. */
  const plain = (hf: string, dims: number[]) =>
    g.weight({ name: hf, dims, data_type: wdt, byteLength: dims.reduce((a, b) => a * b, 1) * (dtype === 'float16' ? 2 : 4), produce: async () => toBytes(await get(hf)) });
  /** A linear weight W (N,K) stored as Wᵀ (K,N) and cast to f32. */
  const linearT = (hf: string, N: number, K: number) =>
    asF32(g.weight({
      name: `${hf}.T`, dims: [K, N], data_type: wdt, byteLength: K * N * (dtype === 'float16' ? 2 : 4),
      produce: async () => toBytes(transpose(await get(hf), N, K)),
    }));

  g.inputs.push({ name: 'input_ids', elem_type: DataType.INT64, dims: ['batch_size', 'sequence_length'] });
  g.inputs.push({ name: 'attention_mask', elem_type: DataType.INT64, dims: ['batch_size', 'sequence_length'] });
  g.outputs.push({ name: 'logits', elem_type: DataType.FLOAT, dims: ['batch_size', 1] });

  // --- shapes, positions, RoPE tables, mask
  const T = g.op('Gather', [g.op('Shape', ['input_ids']), g.i64([1], true)], { axis: 0 }); // scalar
  const pos = g.op('Range', [g.i64([0], true), T, g.i64([1], true)]); // (T,) int64
  const posF = g.op('Cast', [pos], { to: DataType.FLOAT });
  const invFreq = new Float32Array(D / 2);
  for (let i = 0; i < D / 2; i++) invFreq[i] = 1 / Math.fround(Math.pow(d.theta, Math.fround((2 * i) / D)));
  const freqs = g.op('Mul', [g.op('Unsqueeze', [posF, g.i64([1])]), g.f32(invFreq, [1, D / 2])]); // (T, D/2)
  const emb = g.op('Concat', [freqs, freqs], { axis: -1 }); // (T, D)
  const cos = g.op('Cos', [emb]);
  const sin = g.op('Sin', [emb]);
  // visible (B,1,1,T,T) bool: key j ≤ query i and attention_mask[b,j] = 1
  const causal = g.op('LessOrEqual', [g.op('Unsqueeze', [pos, g.i64([0])]), g.op('Unsqueeze', [pos, g.i64([1])])]); // (T,T): [i,j] = j ≤ i
  const keyOk = g.op('Unsqueeze', [g.op('Cast', ['attention_mask'], { to: DataType.BOOL }), g.i64([1, 2, 3])]); // (B,1,1,1,T)
  const visible = g.op('And', [causal, keyOk]);
  const lowest = g.f32([F32_LOWEST], []);
  const scale = g.f32([1 / Math.sqrt(D)], []);

  const rmsnorm = (x: string, w: string) => {
    const ms = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 });
    return g.op('Mul', [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [ms, g.f32([d.eps], [])])])]), asF32(w)]);
  };
  const rope = (x: string) => {
    // x (B,heads,T,D): x·cos + rotate_half(x)·sin, rotate_half(x) = cat(−x[D/2:], x[:D/2])
    const x1 = g.op('Slice', [x, g.i64([0]), g.i64([D / 2]), g.i64([-1])]);
    const x2 = g.op('Slice', [x, g.i64([D / 2]), g.i64([D]), g.i64([-1])]);
    const rot = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: -1 });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rot, sin])]);
  };
  /** (B,T,heads·D) → per-head norm → (B,heads,T,D) */
  const heads = (x: string, n: number, normW: string | null) => {
    let y = g.op('Reshape', [x, g.i64([0, 0, n, D])]);
    if (normW) y = rmsnorm(y, normW);
    return g.op('Transpose', [y], { perm: [0, 2, 1, 3] });
  };

  let h = asF32(g.op('Gather', [plain('model.embed_tokens.weight', [d.V, C]), 'input_ids'], { axis: 0 })); // (B,T,C)
  for (let l = 0; l < d.L; l++) {
    const p = `model.layers.${l}.`;
    const x = rmsnorm(h, plain(`${p}input_layernorm.weight`, [C]));
    const q = rope(heads(g.op('MatMul', [x, linearT(`${p}self_attn.q_proj.weight`, H * D, C)]), H, plain(`${p}self_attn.q_norm.weight`, [D])));
    const k = rope(heads(g.op('MatMul', [x, linearT(`${p}self_attn.k_proj.weight`, Hkv * D, C)]), Hkv, plain(`${p}self_attn.k_norm.weight`, [D])));
    const v = heads(g.op('MatMul', [x, linearT(`${p}self_attn.v_proj.weight`, Hkv * D, C)]), Hkv, null);
    const q5 = g.op('Reshape', [q, g.i64([0, Hkv, H / Hkv, -1, D])]); // (B,Hkv,H/Hkv,T,D)
    const k5 = g.op('Unsqueeze', [k, g.i64([2])]); // (B,Hkv,1,T,D)
    const v5 = g.op('Unsqueeze', [v, g.i64([2])]);
    const scores = g.op('Mul', [g.op('MatMul', [q5, g.op('Transpose', [k5], { perm: [0, 1, 2, 4, 3] })]), scale]); // (B,Hkv,H/Hkv,T,T)
    const probs = g.op('Softmax', [g.op('Where', [visible, scores, lowest])], { axis: -1 });
    const att = g.op('Reshape', [g.op('MatMul', [probs, v5]), g.i64([0, H, -1, D])]); // (B,H,T,D)
    const merged = g.op('Reshape', [g.op('Transpose', [att], { perm: [0, 2, 1, 3] }), g.i64([0, 0, H * D])]); // (B,T,H·D)
    h = g.op('Add', [h, g.op('MatMul', [merged, linearT(`${p}self_attn.o_proj.weight`, C, H * D)])]);
    const x2 = rmsnorm(h, plain(`${p}post_attention_layernorm.weight`, [C]));
    const gate = g.op('MatMul', [x2, linearT(`${p}mlp.gate_proj.weight`, F, C)]);
    const up = g.op('MatMul', [x2, linearT(`${p}mlp.up_proj.weight`, F, C)]);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    h = g.op('Add', [h, g.op('MatMul', [act, linearT(`${p}mlp.down_proj.weight`, C, F)])]);
  }
  const hf = rmsnorm(h, plain('model.norm.weight', [C])); // (B,T,C)

  // --- pooling: p_b = argmax_t(t · (ids ≠ pad)), then score on that token only
  const nonPad = g.op('Cast', [g.op('Not', [g.op('Equal', ['input_ids', g.i64([d.padId], true)])])], { to: DataType.INT64 });
  const last = g.op('ArgMax', [g.op('Mul', [nonPad, pos])], { axis: 1, keepdims: 1, select_last_index: 0 }); // (B,1)
  const pooled = g.op('GatherND', [hf, last], { batch_dims: 1 }); // (B,C)
  g.op('MatMul', [pooled, linearT('score.weight', 1, C)], {}, 'logits'); // (B,1)
  return g;
}

/** W (N,K) row-major → Wᵀ (K,N). */
export function transpose(w: Float32Array, N: number, K: number): Float32Array {
  if (w.length !== N * K) throw new Error(`transpose: ${w.length} values for (${N},${K})`);
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[k * N + n] = w[n * K + k];
  return out;
}
