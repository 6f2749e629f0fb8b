// Qwen3ForSequenceClassification on WebGPU: embed → L decoder layers → final norm → score at the rightmost
// non-pad token (transformers' modeling_qwen3.py + GenericForSequenceClassification), and its backward mirrored
// in reverse, straight-line. Kernels are planned once per (B,T) shape and recorded into one command encoder per
// micro-step; nothing is allocated or read back inside a step.
//
// Padding-free: the real tokens of the B sequences are packed end to end (cu_seqlens), so every token-parallel op
// (embedding, norms, linears, RoPE, SwiGLU, residuals) runs on M = Σ lengths rows rounded up to a row bucket
// (bucketRows: ≤ ~3% more, so few plans exist); the rows past the real tokens form one extra pad-only sequence
// that attention keeps to itself and nothing pools (its gradient is exactly 0). Attention reads sequence offsets;
// the reward head pools each sequence's rightmost non-pad row.
// The last layer's work only where it matters: only the B pooled rows of the last layer's output reach the loss, so
// that layer computes q|k|v and q/k norm + RoPE on all M rows (K/V serve every earlier row of a sequence), attention
// for the B pooled queries only (src/ops/attention_pooled.ts), gathers the pooled rows of the residual stream and runs
// o_proj, the residual, post_attention_layernorm, gate|up, down, the final norm and the head on those B rows alone
// (poolIdx comes from the inputs, computed with the embedding by the head's own pooling kernel). Its backward
// scatters dq and the residual gradient back to M rows (zero elsewhere: exactly what the full computation gives, as
// no other row reaches the loss). `fullLastLayer` keeps the reference path (every row), for the tests.
// Legend: B sequences (2P: chosen [0,P), rejected [P,2P)), T the longest (bucketed), M packed rows, C hidden, H query heads,
// Hkv kv heads, D head dim, F ffn dim, V vocab, R LoRA rank, L layers.
import type { Gpu } from '../gpu/device.ts';
import { type Kernel, destroyKernels } from '../gpu/kernel.ts';
import { writeBuffer } from '../gpu/buffers.ts';
import { embeddingForward, embeddingBackward, writeEmbeddingPlan, embeddingBackwardPlan, type EmbeddingPlanBuffers } from '../ops/embedding.ts';
import { rmsnormForward, rmsnormBackward, residualRmsnormForward } from '../ops/rmsnorm.ts';
import { ropeTable } from '../ops/rope.ts';
import { qkNormRopeForward, qkNormRopeBackward, type QkNormRopeArgs } from '../ops/qk_norm_rope.ts';
import { attentionForward, attentionBackward } from '../ops/attention.ts';
import { attentionPooledForward, attentionPooledBackward } from '../ops/attention_pooled.ts';
import { swigluRowsForward, swigluRowsBackward } from '../ops/swiglu.ts';
import { rewardHeadForward, rewardHeadBackward, poolIndex, gatherPooledRows, scatterPooledRows } from '../ops/reward_head.ts';
import { rewardLossForward } from '../ops/reward_loss.ts';
import { allocateActivations, destroyActivations, loraGroupWidths, type Activations, type ActivationDtype, type CheckpointMode, type LayerActs } from './activations.ts';
import { act16Pack, act16Unpack, type Act16Segment } from '../ops/act16.ts';
import { createStorage } from '../gpu/buffers.ts';
import { groupBackward, groupForward, groupLinears, type LinearGroup, type LinearSlot } from './linear.ts';
import { LINEAR_GROUPS, LINEAR_NAMES, layerPrefix, linearWeightName, loraName, loraScale, type ModelDims } from './params.ts';
import { gradRef, paramRef, type ModelWeights, type Ref } from './weights.ts';


export interface ModelOptions {
  maxB: number; // sequences per micro-batch (2 × pairs)
  maxT: number; // tokens per sequence (max_length, bucketed)
  /** true = 'full' checkpointing, false = 'none'; `checkpointing` overrides it when given. */
  gradientCheckpointing: boolean;
  /** What the backward recomputes (src/model/activations.ts, CheckpointMode). */
  checkpointing?: CheckpointMode;
  /** Storage of the activations saved for the backward (src/model/activations.ts; default float32). */
  activationDtype?: ActivationDtype;
  training: boolean;
  /**
   * nn.Embedding's padding_idx: config.json's pad_token_id *as loaded* (Qwen3Model builds the embedding from it, before
   * TRL sets the tokenizer's pad id), or null when config.json names none. That row gets no gradient in full
   * fine-tuning (weight decay still applies).
   */
  paddingIdx?: number | null;
  /** Run the last decoder layer's attention and everything after it (and the final norm) on every row instead of
   *  the B pooled rows only (the reference path: the same rewards and gradients up to f32 rounding; tests compare). */
  fullLastLayer?: boolean;
}

/** The kernels of one (B,T) shape. */
export interface StepPlan {
  B: number;
  T: number;
  M: number; // rows every token-parallel op processes
  embed: Kernel[];
  layers: Kernel[][]; // forward of layer l (re-recorded by the backward when checkpointing)
  head: Kernel[]; // final norm + reward head
  lossByKey: Map<string, Kernel>; // loss kernels by (P, gradScale, center, metrics slot)
  /** float16 storage: layer l's f16 copy of its saved activations, unpacked first in its backward (else empty). */
  layersRestore: Kernel[][];
  /** What layer l's backward recomputes next (the checkpointing mode's kernels; empty with 'none'). */
  layersRecompute: Kernel[][];
  layersBackward: Kernel[][]; // backward of layer l (without its recompute)
  headBackward: Kernel[]; // reward head + final norm backward
  embedBackward: Kernel[];
}

interface LayerSlots {
  /** Fusion groups: q|k|v, o, gate|up, down (each one product when its tensors are adjacent, else one per linear). */
  qkv: LinearGroup[];
  o: LinearGroup[];
  gu: LinearGroup[];
  down: LinearGroup[];
  inNorm: Ref;
  qNorm: Ref;
  kNorm: Ref;
  postNorm: Ref;
  dInNorm: Ref | null;
  dQNorm: Ref | null;
  dKNorm: Ref | null;
  dPostNorm: Ref | null;
}

/**
 * Rows a plan processes for `real` packed tokens: rounded up to a multiple of g = a power of two ≈ real/32 (≥ 8,
 * ≤ T so the pad-only tail is one attention sequence of ≤ T rows), capped at the allocation. Waste ≤ ~3% (≤ 7 rows
 * below 256 tokens), and only ~32 buckets per doubling of the batch's size get a plan.
 */
export function bucketRows(real: number, T: number, maxRows: number): number {
  const g = Math.min(T, Math.max(8, 2 ** (Math.floor(Math.log2(Math.max(1, real))) - 5)));
  return Math.min(maxRows, Math.ceil(real / g) * g);
}

/** The packed (padding-free) layout of a right-padded (B,T) batch: ids (M,), cu (B+2,), positions (M,). */
export function packRows(padded: Uint32Array, lengths: Uint32Array, T: number, padId: number, maxRows: number): { M: number; real: number; ids: Uint32Array; cu: Uint32Array; positions: Uint32Array } {
  const B = lengths.length;
  let real = 0;
  for (let b = 0; b < B; b++) {
    if (!(lengths[b] >= 1 && lengths[b] <= T)) throw new Error(`writeInputs: sequence ${b} has length ${lengths[b]}, expected 1..${T}`);
    real += lengths[b];
  }
  const M = Math.max(real, bucketRows(real, T, maxRows));
  const ids = new Uint32Array(M).fill(padId);
  const positions = new Uint32Array(M);
  const cu = new Uint32Array(B + 2);
  let m = 0;
  for (let b = 0; b < B; b++) {
    cu[b] = m;
    const len = lengths[b];
    ids.set(padded.subarray(b * T, b * T + len), m);
    for (let t = 0; t < len; t++) positions[m + t] = t;
    m += len;
  }
  cu[B] = m;
  cu[B + 1] = M;
  for (let t = 0; m + t < M; t++) positions[m + t] = t;
  return { M, real, ids, cu, positions };
}

export class Qwen3RewardModel {
  readonly dims: ModelDims;
  readonly acts: Activations;
  private readonly slots: LayerSlots[];
  private readonly plans = new Map<string, StepPlan>();
  private readonly evalPlans = new Map<string, StepPlan>();
  private readonly hasDropout: boolean;
  private readonly embedPlanBufs: EmbeddingPlanBuffers | null;
  private readonly full: boolean;
  /** Rows (bucketed) of the inputs written last; plan() builds for them. */
  private rows = 0;

  constructor(
    readonly gpu: Gpu,
    readonly weights: ModelWeights,
    readonly opts: ModelOptions,
  ) {
    const t = weights.table;
    this.dims = t.dims;
    this.full = t.lora === null;
    const lora = t.lora;
    this.acts = allocateActivations(gpu, this.dims, {
      maxB: opts.maxB, maxT: opts.maxT, gradientCheckpointing: opts.gradientCheckpointing, checkpointing: opts.checkpointing,
      activationDtype: opts.activationDtype,
      loraTargets: lora?.targets ?? [], loraR: lora?.r ?? 0, training: opts.training, fullFineTune: opts.training && this.full,
    });
    const { cos, sin } = ropeTable(opts.maxT, this.dims.D, this.dims.theta);
    writeBuffer(gpu, this.acts.cos.buffer, cos, this.acts.cos.offset);
    writeBuffer(gpu, this.acts.sin.buffer, sin, this.acts.sin.offset);
    this.embedPlanBufs = this.acts.embedPlan;
    this.rows = opts.maxB * opts.maxT;

    this.hasDropout = opts.training && (lora?.dropout ?? 0) > 0;
    const grad = (name: string) => (opts.training && t.byName.get(name)!.trainable ? gradRef(weights, name) : null);
    const M = opts.maxB * opts.maxT;
    const widths = loraGroupWidths({ loraTargets: lora?.targets ?? [], loraR: lora?.r ?? 0 });
    this.slots = [];
    // rows: the layer's products after attention run on the pooled rows (compact last layer), so their LoRA dropout
    // masks are those of the packed rows acts.dropRows names
    const layerGroups = (i: number, rows: boolean): LinearGroup[][] => {
      const slot = (n: (typeof LINEAR_NAMES)[number]): LinearSlot => {
        const wName = linearWeightName(i, n);
        const e = t.byName.get(wName)!;
        const targeted = lora?.targets.includes(n) ?? false;
        return {
          name: n, layer: i, W: paramRef(weights, wName), dW: grad(wName), dtype: e.dtype, N: e.shape[0], K: e.shape[1],
          lora: targeted && lora ? {
            A: paramRef(weights, loraName(i, n, 'A')), B: paramRef(weights, loraName(i, n, 'B')),
            dA: opts.training ? gradRef(weights, loraName(i, n, 'A')) : paramRef(weights, loraName(i, n, 'A')),
            dB: opts.training ? gradRef(weights, loraName(i, n, 'B')) : paramRef(weights, loraName(i, n, 'B')),
            R: lora.r, scale: loraScale(lora),
            dropout: lora.dropout > 0 && opts.training ? { p: lora.dropout, seed: rows ? this.acts.dropRows : this.acts.dropoutSeed, salt: i * LINEAR_NAMES.length + LINEAR_NAMES.indexOf(n), rows } : undefined,
          } : null,
        };
      };
      let next = 0; // the layer's xa buffers in the order groupLinears asks for them (loraGroupWidths)
      return LINEAR_GROUPS.map((names) =>
        groupLinears(names.map(slot), (parts, R) => {
          const g = next++;
          // a fusion the layout did not foresee (weights not adjacent) gets buffers of its own (not in the plan)
          return parts * R === widths[g] ? this.acts.xa[i][g] : this.own(createStorage(gpu, `act.layer${i}.lora_xa`, M * R * 4));
        }));
    };
    for (let i = 0; i < this.dims.L; i++) {
      const groups = layerGroups(i, false);
      const p = layerPrefix(i);
      this.slots.push({
        qkv: groups[0], o: groups[1], gu: groups[2], down: groups[3],
        inNorm: paramRef(weights, `${p}.input_layernorm.weight`), dInNorm: grad(`${p}.input_layernorm.weight`),
        qNorm: paramRef(weights, `${p}.self_attn.q_norm.weight`), dQNorm: grad(`${p}.self_attn.q_norm.weight`),
        kNorm: paramRef(weights, `${p}.self_attn.k_norm.weight`), dKNorm: grad(`${p}.self_attn.k_norm.weight`),
        postNorm: paramRef(weights, `${p}.post_attention_layernorm.weight`), dPostNorm: grad(`${p}.post_attention_layernorm.weight`),
      });
    }
    // the last layer's o, gate|up and down on the pooled rows with LoRA dropout: the same weights and xa buffers
    if (this.hasDropout) {
      const g = layerGroups(this.dims.L - 1, true);
      this.lastRows = { ...this.slots[this.dims.L - 1], o: g[1], gu: g[2], down: g[3] };
    }
  }

  /** The last layer's slots whose LoRA dropout masks follow acts.dropRows (with LoRA dropout only). */
  private readonly lastRows: LayerSlots | null = null;

  /** down_proj reads h = silu(gate)·up through its load prologue (h not stored) unless a trained down_proj weight's
   *  gradient needs h itself (full fine-tuning). */
  private downGlu(s: LayerSlots): boolean {
    return s.down.every((g) => !g.dW);
  }

  private readonly extra: GPUBuffer[] = [];
  private own(b: GPUBuffer): GPUBuffer {
    this.extra.push(b);
    return b;
  }

  private layerActs(l: number): LayerActs {
    return this.acts.layers[l];
  }

  /** The checkpointing mode this model was allocated for ('none' without training or with one layer). */
  get checkpointing(): CheckpointMode {
    return this.acts.checkpointing;
  }

  /** The storage of the saved activations this model was allocated for (float32 without training). */
  get activationDtype(): ActivationDtype {
    return this.acts.activationDtype;
  }

  /** float16 storage: layer l's f16 blocks as act16 segments of M rows over the shared f32 set (the forward packs
   *  them, the backward unpacks them and, when v is kept, restores v from q|k|v's v columns). */
  private act16Segments(l: number, M: number, restore: boolean): Act16Segment[] {
    const a16 = this.acts.act16!;
    const x = this.layerActs(l);
    const { H, Hkv, D } = this.dims;
    const segs: Act16Segment[] = a16.blocks.map((b) => ({ f32: x[b.name], rows: M, cols: b.cols, hOffset: b.hOffset }));
    const qkv = a16.blocks.find((b) => b.name === 'qkv');
    if (restore && qkv && this.acts.checkpointing === 'none') {
      segs.push({ f32: x.v, rows: M, cols: Hkv * D, hOffset: qkv.hOffset + (H + Hkv) * D, hStride: qkv.cols });
    }
    return segs;
  }

  /** The training kernels of B sequences of at most T tokens packed in the rows of the inputs written last
   *  (writeInputs), built on first use and cached (bind groups included). */
  plan(B: number, T: number): StepPlan {
    return this.cachedPlan(this.plans, B, T, true);
  }

  /** Forward-only kernels for evaluation and scoring: the training plan, or, when LoRA dropout is on, a plan
   *  without dropout (PyTorch's model.eval()). */
  evalPlan(B: number, T: number): StepPlan {
    return this.hasDropout ? this.cachedPlan(this.evalPlans, B, T, false) : this.plan(B, T);
  }

  private cachedPlan(cache: Map<string, StepPlan>, B: number, T: number, train: boolean): StepPlan {
    if (B > this.opts.maxB || T > this.opts.maxT) throw new Error(`plan(${B},${T}) exceeds the allocated ${this.opts.maxB}×${this.opts.maxT}`);
    const M = Math.min(this.rows, B * T);
    const key = `${B}x${T}x${M}`;
    let p = cache.get(key);
    if (!p) {
      p = this.buildPlan(B, T, M, train);
      cache.set(key, p);
    }
    return p;
  }

  /** Whether a plan runs the last layer after attention on the B pooled rows only (see the file's header). */
  private compactLastLayer(): boolean {
    return !this.opts.fullLastLayer;
  }

  private buildPlan(B: number, T: number, M: number, train: boolean): StepPlan {
    const { gpu, acts: a, dims: d } = this;
    const { C, F, H, Hkv, D, L, eps } = d;
    const w = this.weights;
    const training = this.opts.training && train;
    const compact = this.compactLastLayer();
    /** Layer l's slots: the last layer's (compact) take their dropout masks from the packed rows (acts.dropRows). */
    const slotsOf = (l: number) => (compact && l === L - 1 && train && this.lastRows ? this.lastRows : this.slots[l]);
    /** Rows of layer l after attention: B (the pooled rows, compact) in the last layer, else M. */
    const rowsAfterAttn = (l: number) => (compact && l === L - 1 ? B : M);

    // ---- forward ----
    const embedDtype = w.table.byName.get('model.embed_tokens.weight')!.dtype;
    const embed = [embeddingForward(gpu, a.resid[0], a.ids, paramRef(w, 'model.embed_tokens.weight'), M, C, { weightDtype: embedDtype })];
    if (compact) embed.push(poolIndex(gpu, a.poolIdx, a.dropRows, a.ids, a.cu, B, M, d.padId)); // poolIdx (B,) from the inputs
    const layers: Kernel[][] = [];
    const layersRecompute: Kernel[][] = [];
    const mode = this.acts.checkpointing;
    const noXa = (ks: Kernel[]) => ks.filter((k) => k.label !== 'lora.xa'); // x·Aᵀ is kept per layer in every mode
    const NQKV = (H + 2 * Hkv) * D;
    const qk = (s: LayerSlots): QkNormRopeArgs => ({ qNorm: s.qNorm, kNorm: s.kNorm, cos: a.cos, sin: a.sin, positions: a.positions, M, H, Hkv, D, eps });
    /** Forward of a fusion group's products into `out` (row stride ld), each at its columns. */
    const fwd = (gs: LinearGroup[], out: GPUBuffer, inp: GPUBuffer, ld: number, residual?: GPUBuffer, glu = false, rows = M) => {
      let col = 0;
      return gs.flatMap((g) => {
        const ks = groupForward(gpu, g, out, inp, rows, train, residual, { ld, col }, glu);
        col += g.N;
        return ks;
      });
    };
    for (let l = 0; l < L; l++) {
      const s = slotsOf(l);
      const x = this.layerActs(l);
      const norm1 = rmsnormForward(gpu, x.ln1, x.rstd1, a.resid[l], s.inNorm, M, C, eps);
      const qkvK = fwd(s.qkv, x.qkv, x.ln1, NQKV); // q|k|v (M, (H+2Hkv)·D)
      const qkRope = qkNormRopeForward(gpu, x.qr, x.kr, x.v, x.rstdqk, x.qkv, qk(s)); // q_norm, k_norm, RoPE; v copied out
      // Last layer (compact): attention of the B pooled rows' queries against the full K/V (lastAtt (B, H·D)), and
      // the B pooled rows of the residual stream (B, C); from here on every op runs on Mo = B rows and resid[L]
      // holds the B pooled rows.
      const Mo = rowsAfterAttn(l);
      const last = compact && l === L - 1;
      const attn = last
        ? attentionPooledForward(gpu, a.lastAtt, a.lastStats, x.qr, x.kr, x.v, a.poolIdx, a.cu, B, M, H, Hkv, D)
        : attentionForward(gpu, x.att, x.lse, x.qr, x.kr, x.v, a.cu, B + 1, T, M, H, Hkv, D); // + the pad-only tail
      const att = last ? a.lastAtt : x.att;
      const resid = last ? a.lastResid : a.resid[l];
      const gather = last ? [gatherPooledRows(gpu, a.lastResid, a.resid[l], a.poolIdx, B, M, C, 'gather_pooled_rows.resid')] : [];
      const oK = fwd(s.o, a.tmpC, att, C, undefined, false, Mo);
      const norm2 = residualRmsnormForward(gpu, x.x2, x.ln2, x.rstd2, resid, a.tmpC, s.postNorm, Mo, C, eps); // x2 = x + o; ln2
      const guK = fwd(s.gu, x.gu, x.ln2, 2 * F, undefined, false, Mo); // gate|up (Mo, 2F)
      // x_{l+1} = x2 + down(h): the residual add in the epilogue. When no trained weight needs h itself (dW of
      // down_proj in full fine-tuning), h = silu(gate)·up is never stored: the down products read gate|up through
      // their load prologue.
      const glu = this.downGlu(s);
      const swiglu = glu ? [] : [swigluRowsForward(gpu, x.h, x.gu, Mo, F)];
      const downK = glu ? fwd(s.down, a.resid[l + 1], x.gu, C, x.x2, true, Mo) : fwd(s.down, a.resid[l + 1], x.h, C, x.x2, false, Mo);
      // float16 storage: the layer's saved activations are packed to f16 once its forward is done
      // (not the last layer: nothing but the head runs before its backward, so the shared set still holds its values)
      const pack = training && a.act16 && l < L - 1 ? [act16Pack(gpu, a.act16.layer[l], this.act16Segments(l, M, false))] : [];
      layers.push([norm1, ...qkvK, qkRope, attn, ...gather, ...oK, norm2, ...guK, ...swiglu, ...downK, ...pack]);
      if (!training || mode === 'none') layersRecompute.push([]);
      // full: everything but the last product (resid[l+1] is kept per layer; the last layer's gathered rows too:
      // nothing else writes last.resid)
      else if (mode === 'full') layersRecompute.push([norm1, ...noXa(qkvK), qkRope, attn, ...noXa(oK), norm2, ...noXa(guK), ...swiglu]);
      else {
        // selective: the kept x2 gives ln2 without the o product (the same rmsnorm on the same x2 values)
        const norm2r = rmsnormForward(gpu, x.ln2, x.rstd2, x.x2, s.postNorm, Mo, C, eps);
        layersRecompute.push([norm1, qkRope, norm2r, ...(mode === 'selective_mlp' ? noXa(guK) : []), ...swiglu]);
      }
    }
    const scoreW = paramRef(w, 'score.weight');
    const Mf = rowsAfterAttn(L - 1); // rows of resid[L]: M, or the B pooled rows (compact)
    const head = [
      rmsnormForward(gpu, a.xf, a.rstdf, a.resid[L], paramRef(w, 'model.norm.weight'), Mf, C, eps),
      rewardHeadForward(gpu, a.rewards, a.poolIdx, a.xf, a.ids, a.cu, scoreW, B, M, C, d.padId, compact),
    ];
    const layersRestore = layers.map((_, l) => (training && a.act16 && l < L - 1 ? [act16Unpack(gpu, a.act16.layer[l], this.act16Segments(l, M, true))] : []));
    const plan: StepPlan = { B, T, M, embed, layers, head, lossByKey: new Map(), layersRestore, layersRecompute, layersBackward: [], headBackward: [], embedBackward: [] };
    if (!training) return plan;

    // ---- backward (mirror of the forward, in reverse) ----
    const normW = 'model.norm.weight';
    const dresL = compact ? a.lastDres : a.dres; // gradient of resid[L]: (B,C) compact, else (M,C)
    plan.headBackward = [
      rewardHeadBackward(gpu, a.dC, gradRef(w, 'score.weight'), a.drewards, a.xf, scoreW, a.poolIdx, a.cu, B, M, C, compact), // dxf (Mf,C) =
      rmsnormBackward(gpu, dresL, this.full ? gradRef(w, normW) : null, a.wsNorm, a.dC, a.resid[L], paramRef(w, normW), a.rstdf, Mf, C), // dres =
    ];
    /** Backward of a fusion group's products: dinp from dout (row stride ld), each group at its columns. */
    const bwd = (gs: LinearGroup[], dinp: GPUBuffer, dout: GPUBuffer, inp: GPUBuffer, ld: number, accumulate: boolean, rows = M) => {
      let col = 0;
      return gs.flatMap((g, i) => {
        const ks = groupBackward(gpu, g, dinp, a.wsLora, dout, inp, rows, accumulate || i > 0, false, { ld, col });
        col += g.N;
        return ks;
      });
    };
    for (let l = 0; l < L; l++) {
      const s = slotsOf(l);
      const x = this.layerActs(l);
      const ks: Kernel[] = [];
      // Last layer (compact): everything down to o_proj's backward runs on the B pooled rows (lastDres, lastDatt).
      const Mo = rowsAfterAttn(l);
      const last = compact && l === L - 1;
      const dres = last ? a.lastDres : a.dres;
      // MLP: x_{l+1} = x2 + down(silu(gate(ln2)) * up(ln2)); dres holds d x_{l+1} = d x2 (residual passes through)
      const glu = this.downGlu(s);
      if (s.down.length === 1 && !s.down[0].lora?.dropout) {
        // dgu (Mo, 2F) = SwiGLU backward of dh = dres · W_down (+ LoRA), applied in the dinp product's store
        ks.push(...groupBackward(gpu, s.down[0], a.dgu, a.wsLora, dres, glu ? x.gu : x.h, Mo, false, false, { ld: C, col: 0 }, { swiglu: { gu: x.gu }, inpGlu: glu }));
      } else if (glu) {
        let col = 0;
        for (const [i, g] of s.down.entries()) {
          ks.push(...groupBackward(gpu, g, a.dh, a.wsLora, dres, x.gu, Mo, i > 0, false, { ld: C, col }, { inpGlu: true }));
          col += g.N;
        }
        ks.push(swigluRowsBackward(gpu, a.dgu, a.dh, x.gu, Mo, F));
      } else {
        ks.push(...bwd(s.down, a.dh, dres, x.h, C, false, Mo));
        ks.push(swigluRowsBackward(gpu, a.dgu, a.dh, x.gu, Mo, F));
      }
      ks.push(...bwd(s.gu, a.dC, a.dgu, x.ln2, 2 * F, false, Mo));
      ks.push(rmsnormBackward(gpu, dres, s.dPostNorm, a.wsNorm, a.dC, x.x2, s.postNorm, x.rstd2, Mo, C, { accumulate: true }));
      // Attention: x2 = x + o_proj(attn(rope(q_norm(q)), rope(k_norm(k)), v)); dres holds d x2 = d x (so far)
      ks.push(...bwd(s.o, last ? a.lastDatt : a.datt, dres, last ? a.lastAtt : x.att, C, false, Mo));
      if (last) {
        // the pooled queries' attention: dq (B rows) scattered back to M rows, dk/dv of every row (0 where no pooled
        // query looks); d x at the pooled rows scattered likewise (no other row of this layer reaches the loss)
        ks.push(attentionPooledBackward(gpu, a.lastDq, a.dk, a.dv, a.lastDatt, x.qr, x.kr, x.v, a.lastAtt, a.lastStats, a.poolIdx, a.cu, B, M, H, Hkv, D));
        ks.push(scatterPooledRows(gpu, a.dq, a.lastDq, a.poolIdx, a.cu, B, M, H * D, 'scatter_pooled_rows.dq'));
        ks.push(scatterPooledRows(gpu, a.dres, a.lastDres, a.poolIdx, a.cu, B, M, C, 'scatter_pooled_rows.dres'));
      } else ks.push(attentionBackward(gpu, a.dq, a.dk, a.dv, a.wsAttn, a.datt, x.qr, x.kr, x.v, x.att, x.lse, a.cu, B + 1, T, M, H, Hkv, D));
      ks.push(qkNormRopeBackward(gpu, a.dqkv, s.dQNorm, s.dKNorm, s.dQNorm ? a.wsNorm : null, a.dq, a.dk, a.dv, x.qkv, x.rstdqk, qk(s)));
      ks.push(...bwd(s.qkv, a.dC, a.dqkv, x.ln1, NQKV, false));
      ks.push(rmsnormBackward(gpu, a.dres, s.dInNorm, a.wsNorm, a.dC, a.resid[l], s.inNorm, x.rstd1, M, C, { accumulate: true }));
      plan.layersBackward.push(ks);
    }
    if (this.full && this.embedPlanBufs) {
      const e = this.embedPlanBufs;
      plan.embedBackward = [embeddingBackward(gpu, gradRef(w, 'model.embed_tokens.weight'), a.dres, e.uniq, e.offsets, e.positions, M, C)];
    }
    return plan;
  }

  /** The loss kernel for P pairs with this weighting and metrics slot (cached: its uniforms are fixed). */
  lossKernel(plan: StepPlan, P: number, hasMargin: boolean, gradScale: number, center: number): Kernel {
    const key = `${P}|${hasMargin}|${gradScale}|${center}`;
    let k = plan.lossByKey.get(key);
    if (!k) {
      k = rewardLossForward(this.gpu, this.acts.metrics, this.acts.drewards, this.acts.rewards, hasMargin ? this.acts.margins : null, P, {
        centerRewardsCoefficient: center, gradScale,
      });
      plan.lossByKey.set(key, k);
    }
    return k;
  }

  /**
   * Writes a micro-batch's inputs: ids (B,T) right-padded with padId, lengths (B,) (each 1..T), margins (P,) or
   * null. The real tokens are packed (packRows) and the next plan() is built for their row bucket. For full
   * fine-tuning also the embedding-backward plan (CSR of the packed ids). Returns the rows the plan processes.
   */
  writeInputs(ids: Uint32Array, lengths: Uint32Array, margins: Float32Array | null, dropoutSeed = 0): number {
    const B = lengths.length;
    const T = B > 0 ? ids.length / B : 0;
    const packed = packRows(ids, lengths, T, this.dims.padId, Math.min(this.opts.maxB * this.opts.maxT, B * T));
    this.rows = packed.M;
    writeBuffer(this.gpu, this.acts.ids, packed.ids);
    writeBuffer(this.gpu, this.acts.cu, packed.cu);
    writeBuffer(this.gpu, this.acts.positions, packed.positions);
    if (margins) writeBuffer(this.gpu, this.acts.margins, margins);
    writeBuffer(this.gpu, this.acts.dropoutSeed, new Uint32Array([dropoutSeed >>> 0]));
    writeBuffer(this.gpu, this.acts.dropRows, new Uint32Array([dropoutSeed >>> 0])); // word 0; the rows: pool_index
    if (this.embedPlanBufs) writeEmbeddingPlan(this.gpu, this.embedPlanBufs, embeddingBackwardPlan(packed.ids, this.dims.V, this.opts.paddingIdx ?? null));
    return packed.M;
  }

  /** Forward kernels in order (embedding, layers, head). */
  forwardKernels(plan: StepPlan): Kernel[] {
    return [...plan.embed, ...plan.layers.flat(), ...plan.head];
  }

  /** Backward kernels in order; with checkpointing each layer's recompute is recorded right before its backward. */
  backwardKernels(plan: StepPlan): Kernel[] {
    const ks: Kernel[] = [...plan.headBackward];
    for (let l = this.dims.L - 1; l >= 0; l--) ks.push(...this.layerBackwardKernels(plan, l));
    ks.push(...plan.embedBackward);
    return ks;
  }

  /** Layer l's part of the backward: the unpack of its f16 activations (float16 storage), what its checkpointing
   *  mode recomputes, then its backward kernels. The
   *  recompute never runs LoRA's x·Aᵀ products (kept per layer: the same values, the dropout seed is the
   *  micro-step's) nor the layer's last product (resid[l+1] is kept per layer). */
  layerBackwardKernels(plan: StepPlan, l: number): Kernel[] {
    return [...plan.layersRestore[l], ...plan.layersRecompute[l], ...plan.layersBackward[l]];
  }

  /** Dispatches of layer l in one training micro-step (forward, recompute, backward): the fusion metric. */
  layerDispatches(plan: StepPlan, l = 0): number {
    const n = (ks: Kernel[]) => ks.reduce((s, k) => s + k.dispatches.filter((d) => d.workgroups[0] * d.workgroups[1] * d.workgroups[2] > 0).length, 0);
    return n(plan.layers[l]) + n(this.layerBackwardKernels(plan, l));
  }

  destroy(): void {
    for (const p of [...this.plans.values(), ...this.evalPlans.values()]) {
      // recompute lists share most kernels with the forward: destroy each once
      destroyKernels([...new Set([...p.embed, ...p.layers.flat(), ...p.head, ...p.lossByKey.values(), ...p.layersRestore.flat(), ...p.layersRecompute.flat(), ...p.layersBackward.flat(), ...p.headBackward, ...p.embedBackward])]);
    }
    this.plans.clear();
    this.evalPlans.clear();
    destroyActivations(this.acts);
    for (const b of this.extra) b.destroy();
  }
}
