// Qwen3ForSequenceClassification on WebGPU: embed → L decoder layers → final norm → score at the rightmost
// non-pad token (transformers' modeling_qwen3.py + GenericForSequenceClassification), and its backward mirrored
// in reverse, straight-line. Kernels are planned once per (B,T) shape and recorded into one command encoder per
// micro-step; nothing is allocated or read back inside a step.
//
// Legend: B sequences (2P: chosen rows [0,P), rejected [P,2P)), T tokens, M = B*T rows, C hidden, H query heads,
// Hkv kv heads, D head dim, F ffn dim, V vocab, R LoRA rank, L layers.
import type { Gpu } from '../gpu/device.ts';
import { type Kernel, destroyKernels } from '../gpu/kernel.ts';
import { writeBuffer } from '../gpu/buffers.ts';
import { embeddingForward, embeddingBackward, createEmbeddingPlanBuffers, writeEmbeddingPlan, embeddingBackwardPlan, type EmbeddingPlanBuffers } from '../ops/embedding.ts';
import { rmsnormForward, rmsnormBackward, residualRmsnormForward } from '../ops/rmsnorm.ts';
import { residualForward } from '../ops/residual.ts';
import { ropeForward, ropeBackward, ropeTable } from '../ops/rope.ts';
import { attentionForward, attentionBackward } from '../ops/attention.ts';
import { swigluForward, swigluBackward } from '../ops/swiglu.ts';
import { rewardHeadForward, rewardHeadBackward } from '../ops/reward_head.ts';
import { rewardLossForward } from '../ops/reward_loss.ts';
import { allocateActivations, destroyActivations, type Activations, type LayerActs } from './activations.ts';
import { linearBackward, linearForward, type LinearSlot } from './linear.ts';
import { LINEAR_NAMES, layerPrefix, linearWeightName, loraName, loraScale, type LinearName, type ModelDims } from './params.ts';
import { gradRef, paramRef, type ModelWeights, type Ref } from './weights.ts';


export interface ModelOptions {
  maxB: number; // sequences per micro-batch (2 × pairs)
  maxT: number; // tokens per sequence (max_length, bucketed)
  gradientCheckpointing: boolean;
  training: boolean;
  /**
   * nn.Embedding's padding_idx: config.json's pad_token_id *as loaded* (Qwen3Model builds the embedding from it, before
   * TRL sets the tokenizer's pad id), or null when config.json names none. That row gets no gradient in full
   * fine-tuning (weight decay still applies).
   */
  paddingIdx?: number | null;
}

/** The kernels of one (B,T) shape. */
export interface StepPlan {
  B: number;
  T: number;
  embed: Kernel[];
  layers: Kernel[][]; // forward of layer l (re-recorded by the backward when checkpointing)
  head: Kernel[]; // final norm + reward head
  lossByKey: Map<string, Kernel>; // loss kernels by (P, gradScale, center, metrics slot)
  layersBackward: Kernel[][]; // backward of layer l (without its recompute)
  headBackward: Kernel[]; // reward head + final norm backward
  embedBackward: Kernel[];
}

interface LayerSlots {
  lin: Record<LinearName, LinearSlot>;
  inNorm: Ref;
  qNorm: Ref;
  kNorm: Ref;
  postNorm: Ref;
  dInNorm: Ref | null;
  dQNorm: Ref | null;
  dKNorm: Ref | null;
  dPostNorm: Ref | null;
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
      maxB: opts.maxB, maxT: opts.maxT, gradientCheckpointing: opts.gradientCheckpointing && opts.training,
      loraTargets: lora?.targets ?? [], loraR: lora?.r ?? 0, training: opts.training,
    });
    const { cos, sin } = ropeTable(opts.maxT, this.dims.D, this.dims.theta);
    writeBuffer(gpu, this.acts.cos, cos);
    writeBuffer(gpu, this.acts.sin, sin);
    this.embedPlanBufs = opts.training && this.full ? createEmbeddingPlanBuffers(gpu, opts.maxB * opts.maxT) : null;

    this.hasDropout = opts.training && (lora?.dropout ?? 0) > 0;
    const grad = (name: string) => (opts.training && t.byName.get(name)!.trainable ? gradRef(weights, name) : null);
    this.slots = [];
    for (let i = 0; i < this.dims.L; i++) {
      const acts = this.layerActs(i);
      const lin = {} as Record<LinearName, LinearSlot>;
      for (const n of LINEAR_NAMES) {
        const wName = linearWeightName(i, n);
        const e = t.byName.get(wName)!;
        const targeted = lora?.targets.includes(n) ?? false;
        lin[n] = {
          name: n, layer: i, W: paramRef(weights, wName), dW: grad(wName), dtype: e.dtype, N: e.shape[0], K: e.shape[1],
          lora: targeted && lora ? {
            A: paramRef(weights, loraName(i, n, 'A')), B: paramRef(weights, loraName(i, n, 'B')),
            dA: opts.training ? gradRef(weights, loraName(i, n, 'A')) : paramRef(weights, loraName(i, n, 'A')),
            dB: opts.training ? gradRef(weights, loraName(i, n, 'B')) : paramRef(weights, loraName(i, n, 'B')),
            xa: acts.xa.get(n)!, R: lora.r, scale: loraScale(lora),
            dropout: lora.dropout > 0 && opts.training ? { p: lora.dropout, seed: this.acts.dropoutSeed, salt: i * LINEAR_NAMES.length + LINEAR_NAMES.indexOf(n) } : undefined,
          } : null,
        };
      }
      const p = layerPrefix(i);
      this.slots.push({
        lin,
        inNorm: paramRef(weights, `${p}.input_layernorm.weight`), dInNorm: grad(`${p}.input_layernorm.weight`),
        qNorm: paramRef(weights, `${p}.self_attn.q_norm.weight`), dQNorm: grad(`${p}.self_attn.q_norm.weight`),
        kNorm: paramRef(weights, `${p}.self_attn.k_norm.weight`), dKNorm: grad(`${p}.self_attn.k_norm.weight`),
        postNorm: paramRef(weights, `${p}.post_attention_layernorm.weight`), dPostNorm: grad(`${p}.post_attention_layernorm.weight`),
      });
    }
  }

  private layerActs(l: number): LayerActs {
    return this.acts.layers[this.acts.layers.length === 1 ? 0 : l];
  }

  /** The training kernels of shape (B,T), built on first use and cached (bind groups included). */
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
    const key = `${B}x${T}`;
    let p = cache.get(key);
    if (!p) {
      p = this.buildPlan(B, T, train);
      cache.set(key, p);
    }
    return p;
  }

  private buildPlan(B: number, T: number, train: boolean): StepPlan {
    const { gpu, acts: a, dims: d } = this;
    const M = B * T;
    const { C, F, H, Hkv, D, L, eps } = d;
    const w = this.weights;
    const training = this.opts.training && train;

    // ---- forward ----
    const embedDtype = w.table.byName.get('model.embed_tokens.weight')!.dtype;
    const embed = [embeddingForward(gpu, a.resid[0], a.ids, paramRef(w, 'model.embed_tokens.weight'), M, C, { weightDtype: embedDtype })];
    const layers: Kernel[][] = [];
    for (let l = 0; l < L; l++) {
      const s = this.slots[l];
      const x = this.layerActs(l);
      layers.push([
        rmsnormForward(gpu, x.ln1, x.rstd1, a.resid[l], s.inNorm, M, C, eps),
        linearForward(gpu, s.lin.q_proj, x.q, x.ln1, M, train),
        linearForward(gpu, s.lin.k_proj, x.k, x.ln1, M, train),
        linearForward(gpu, s.lin.v_proj, x.v, x.ln1, M, train),
        rmsnormForward(gpu, x.qr, x.rstdq, x.q, s.qNorm, M * H, D, eps), // q_norm per head
        rmsnormForward(gpu, x.kr, x.rstdk, x.k, s.kNorm, M * Hkv, D, eps),
        ropeForward(gpu, x.qr, x.qr, a.cos, a.sin, B, T, H, D),
        ropeForward(gpu, x.kr, x.kr, a.cos, a.sin, B, T, Hkv, D),
        attentionForward(gpu, x.att, x.lse, x.qr, x.kr, x.v, a.lengths, B, T, H, Hkv, D),
        linearForward(gpu, s.lin.o_proj, a.tmpC, x.att, M, train),
        residualRmsnormForward(gpu, x.x2, x.ln2, x.rstd2, a.resid[l], a.tmpC, s.postNorm, M, C, eps), // x2 = x + o; ln2
        linearForward(gpu, s.lin.gate_proj, x.gate, x.ln2, M, train),
        linearForward(gpu, s.lin.up_proj, x.up, x.ln2, M, train),
        swigluForward(gpu, x.h, x.gate, x.up, M * F),
        linearForward(gpu, s.lin.down_proj, a.tmpC, x.h, M, train),
        residualForward(gpu, a.resid[l + 1], x.x2, a.tmpC, M * C), // x_{l+1} = x2 + mlp
      ]);
    }
    const scoreW = paramRef(w, 'score.weight');
    const head = [
      rmsnormForward(gpu, a.xf, a.rstdf, a.resid[L], paramRef(w, 'model.norm.weight'), M, C, eps),
      rewardHeadForward(gpu, a.rewards, a.poolIdx, a.xf, a.ids, scoreW, B, T, C, d.padId),
    ];
    const plan: StepPlan = { B, T, embed, layers, head, lossByKey: new Map(), layersBackward: [], headBackward: [], embedBackward: [] };
    if (!training) return plan;

    // ---- backward (mirror of the forward, in reverse) ----
    const normW = 'model.norm.weight';
    plan.headBackward = [
      rewardHeadBackward(gpu, a.dC, gradRef(w, 'score.weight'), a.drewards, a.xf, scoreW, a.poolIdx, B, T, C), // dxf (M,C) =
      rmsnormBackward(gpu, a.dres, this.full ? gradRef(w, normW) : null, a.wsNorm, a.dC, a.resid[L], paramRef(w, normW), a.rstdf, M, C), // dres =
    ];
    for (let l = 0; l < L; l++) {
      const s = this.slots[l];
      const x = this.layerActs(l);
      const ks: Kernel[] = [];
      // MLP: x_{l+1} = x2 + down(silu(gate(ln2)) * up(ln2)); dres holds d x_{l+1} = d x2 (residual passes through)
      ks.push(...linearBackward(gpu, s.lin.down_proj, a.dh, a.wsLora, a.dres, x.h, M, false));
      ks.push(swigluBackward(gpu, a.dgate, a.dup, a.dh, x.gate, x.up, M * F));
      ks.push(...linearBackward(gpu, s.lin.gate_proj, a.dC, a.wsLora, a.dgate, x.ln2, M, false));
      ks.push(...linearBackward(gpu, s.lin.up_proj, a.dC, a.wsLora, a.dup, x.ln2, M, true));
      ks.push(rmsnormBackward(gpu, a.dres, s.dPostNorm, a.wsNorm, a.dC, x.x2, s.postNorm, x.rstd2, M, C, { accumulate: true }));
      // Attention: x2 = x + o_proj(attn(rope(q_norm(q)), rope(k_norm(k)), v)); dres holds d x2 = d x (so far)
      ks.push(...linearBackward(gpu, s.lin.o_proj, a.datt, a.wsLora, a.dres, x.att, M, false));
      ks.push(attentionBackward(gpu, a.dqr, a.dkr, a.dv, a.wsAttn, a.datt, x.qr, x.kr, x.v, x.att, x.lse, a.lengths, B, T, H, Hkv, D));
      ks.push(ropeBackward(gpu, a.datt, a.dqr, a.cos, a.sin, B, T, H, D)); // datt ← d q_normed
      ks.push(ropeBackward(gpu, a.dk, a.dkr, a.cos, a.sin, B, T, Hkv, D)); // dk ← d k_normed
      ks.push(rmsnormBackward(gpu, a.dqr, s.dQNorm, a.wsNorm, a.datt, x.q, s.qNorm, x.rstdq, M * H, D)); // dqr ← dq
      ks.push(rmsnormBackward(gpu, a.dkr, s.dKNorm, a.wsNorm, a.dk, x.k, s.kNorm, x.rstdk, M * Hkv, D)); // dkr ← dk
      ks.push(...linearBackward(gpu, s.lin.q_proj, a.dC, a.wsLora, a.dqr, x.ln1, M, false));
      ks.push(...linearBackward(gpu, s.lin.k_proj, a.dC, a.wsLora, a.dkr, x.ln1, M, true));
      ks.push(...linearBackward(gpu, s.lin.v_proj, a.dC, a.wsLora, a.dv, x.ln1, M, true));
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
   * Writes a micro-batch's inputs: ids (B,T) right-padded with padId, lengths (B,), margins (P,) or null.
   * For full fine-tuning also the embedding-backward plan (CSR of the ids).
   */
  writeInputs(ids: Uint32Array, lengths: Uint32Array, margins: Float32Array | null, dropoutSeed = 0): void {
    writeBuffer(this.gpu, this.acts.ids, ids);
    writeBuffer(this.gpu, this.acts.lengths, lengths);
    if (margins) writeBuffer(this.gpu, this.acts.margins, margins);
    writeBuffer(this.gpu, this.acts.dropoutSeed, new Uint32Array([dropoutSeed >>> 0]));
    if (this.embedPlanBufs) writeEmbeddingPlan(this.gpu, this.embedPlanBufs, embeddingBackwardPlan(ids, this.dims.V, this.opts.paddingIdx ?? null));
  }

  /** Forward kernels in order (embedding, layers, head). */
  forwardKernels(plan: StepPlan): Kernel[] {
    return [...plan.embed, ...plan.layers.flat(), ...plan.head];
  }

  /** Backward kernels in order; with checkpointing each layer's forward is recorded again before its backward. */
  backwardKernels(plan: StepPlan): Kernel[] {
    const ks: Kernel[] = [...plan.headBackward];
    const recompute = this.acts.layers.length === 1 && this.dims.L > 1;
    for (let l = this.dims.L - 1; l >= 0; l--) {
      if (recompute) ks.push(...plan.layers[l]);
      ks.push(...plan.layersBackward[l]);
    }
    ks.push(...plan.embedBackward);
    return ks;
  }

  destroy(): void {
    for (const p of [...this.plans.values(), ...this.evalPlans.values()]) {
      destroyKernels([...p.embed, ...p.layers.flat(), ...p.head, ...p.lossByKey.values(), ...p.layersBackward.flat(), ...p.headBackward, ...p.embedBackward]);
    }
    this.plans.clear();
    this.evalPlans.clear();
    destroyActivations(this.acts);
  }
}
