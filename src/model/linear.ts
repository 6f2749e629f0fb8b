// The linear layers of the model as the forward/backward code sees them: groups of linears that read the same
// input (q|k|v, gate|up; o and down alone), each a frozen or trainable weight optionally wrapped by LoRA (PEFT
// semantics), run as ONE product over the concatenated outputs when their tensors lie adjacent in their blocks
// (the parameter table places them so; weights are read in place, never copied):
//   y (M, ΣN) = x (M,K) · [W_1; W_2; …]ᵀ  [+ scale · dropout(x)·A_gᵀ·B_gᵀ for the output columns of linear g]
// Forward with LoRA: xa (M, G·R) = x · [A_1; …]ᵀ, then the base product with the low-rank term in its epilogue.
// Backward: ws = dy_g·B_g (every part in one launch), dx = dy·W + scale·ws·A (epilogue), dB of every part and
// dA in one launch (src/ops/lora_grads.ts), dW (one product) — and in full fine-tuning dx and dW alone.
// Weight gradients are written with `=` on the first micro-step of an accumulation group (`assign`), `+=` after.
// LoRA dropout draws an independent mask per module (PEFT), so with dropout the x·Aᵀ products run per linear (the
// grouped dA applies each part's mask).
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, isRange } from '../gpu/kernel.ts';
import { gemmKernel, matmulForward, weightRowStride, type GemmEpilogue } from '../ops/matmul.ts';
import { loraDoutB, loraGrads } from '../ops/lora_grads.ts';
import type { LinearName, StoreDtype } from './params.ts';
import type { Ref } from './weights.ts';

export interface LoraSlot {
  A: Ref; // (R,K)
  B: Ref; // (N,R)
  dA: Ref;
  dB: Ref;
  R: number;
  scale: number;
  /** Training-time dropout on the LoRA input; `salt` makes each module's mask independent. `rows`: the seed buffer is
   *  [seed, batch row of row 0, …]: the products' rows are rows of a larger batch whose masks they use (the last
   *  layer's pooled rows, matmul.wgsl DROP_ROWS). */
  dropout: { p: number; seed: GPUBuffer; salt: number; rows?: boolean } | undefined;
}

export interface LinearSlot {
  name: LinearName;
  layer: number;
  W: Ref; // (N,K)
  dW: Ref | null; // (N,K) when W trains (full fine-tuning)
  dtype: StoreDtype;
  N: number;
  K: number;
  lora: LoraSlot | null;
}

/** A fusion group: linears sharing their input, with the spans of their adjacent tensors. */
export interface LinearGroup {
  parts: LinearSlot[];
  N: number; // Σ N of the parts
  K: number;
  dtype: StoreDtype;
  W: Ref; // (N,K) span
  dW: Ref | null;
  lora: { A: Ref; B: Ref; dA: Ref; dB: Ref; R: number; scale: number; dropout: boolean } | null;
  /** xa (M, parts·R) saved for backward (LoRA). */
  xa: GPUBuffer | null;
}

const off = (b: Buf) => (isRange(b) ? (b.offset ?? 0) : 0);
const len = (b: Buf) => (isRange(b) ? (b.size ?? b.buffer.size - off(b)) : b.size);
const bufOf = (b: Buf) => (isRange(b) ? b.buffer : b);

/** One range covering `refs` when each starts where the previous ends (in one buffer), else null. */
export function adjacentSpan(refs: Ref[]): GPUBufferBinding | null {
  for (let i = 1; i < refs.length; i++) {
    if (bufOf(refs[i]) !== bufOf(refs[0]) || off(refs[i]) !== off(refs[i - 1]) + len(refs[i - 1])) return null;
  }
  return { buffer: bufOf(refs[0]), offset: off(refs[0]), size: off(refs[refs.length - 1]) + len(refs[refs.length - 1]) - off(refs[0]) };
}

/**
 * Groups `slots` (in order) for fusion: one group when every tensor kind is adjacent and the parts agree on K,
 * dtype and LoRA rank; otherwise one group per linear. `xa` allocates a group's (M, parts·R) LoRA buffer.
 */
export function groupLinears(slots: LinearSlot[], xa: (parts: number, R: number) => GPUBuffer): LinearGroup[] {
  const single = (s: LinearSlot): LinearGroup => ({
    parts: [s], N: s.N, K: s.K, dtype: s.dtype, W: s.W, dW: s.dW,
    lora: s.lora ? { A: s.lora.A, B: s.lora.B, dA: s.lora.dA, dB: s.lora.dB, R: s.lora.R, scale: s.lora.scale, dropout: !!s.lora.dropout } : null,
    xa: s.lora ? xa(1, s.lora.R) : null,
  });
  if (slots.length === 1) return [single(slots[0])];
  const s0 = slots[0];
  const same = slots.every((s) => s.K === s0.K && s.dtype === s0.dtype && !!s.dW === !!s0.dW && !!s.lora === !!s0.lora && s.lora?.R === s0.lora?.R && s.lora?.scale === s0.lora?.scale);
  if (!same) return slots.map(single); // e.g. LoRA on q and v but not k: one product per linear
  const W = adjacentSpan(slots.map((s) => s.W));
  const dW = s0.dW ? adjacentSpan(slots.map((s) => s.dW!)) : null;
  const l = s0.lora;
  // only when every part has LoRA (same): a part without it (e.g. q_proj targeted, k_proj not) has no A/B to span
  const spans = l && same ? (['A', 'B', 'dA', 'dB'] as const).map((k) => adjacentSpan(slots.map((s) => s.lora![k]))) : [];
  if (!same || !W || (s0.dW && !dW) || spans.some((x) => !x) || (s0.dtype !== 'f32' && s0.K % 2 !== 0)) return slots.map(single);
  return [{
    parts: slots, N: slots.reduce((a, s) => a + s.N, 0), K: s0.K, dtype: s0.dtype, W, dW,
    lora: l ? { A: spans[0]!, B: spans[1]!, dA: spans[2]!, dB: spans[3]!, R: l.R, scale: l.scale, dropout: !!l.dropout } : null,
    xa: l ? xa(slots.length, l.R) : null,
  }];
}

/** Column boundaries of the parts for the low-rank epilogue (up to 3 parts). */
function columnGroups(g: LinearGroup): [number, number] {
  const NONE = 0xffffffff;
  const b = g.parts.slice(0, -1).map((_, i) => g.parts.slice(0, i + 1).reduce((a, s) => a + s.N, 0));
  if (b.length > 2) throw new Error(`linear group of ${g.parts.length} parts: the epilogue handles at most 3`);
  return [b[0] ?? NONE, b[1] ?? NONE];
}

/** Where a group's output columns sit in a wider buffer: row stride `ld`, first column `col` (default: dense). */
export interface Columns {
  ld: number;
  col: number;
}

// out (M, ΣN) = inp (M,K) · Wᵀ [+ LoRA] [+ residual (M, ΣN)]. `train` false: no dropout (evaluation and scoring).
// `glu`: inp holds [gate | up] rows (M, 2K) and the products read h = silu(gate)·up (the SwiGLU forward as their load
// prologue; down_proj without a stored h).
export function groupForward(gpu: Gpu, g: LinearGroup, out: Buf, inp: Buf, M: number, train = true, residual?: Buf, cols: Columns = { ld: g.N, col: 0 }, glu = false): Kernel[] {
  const { K, N } = g;
  const ks: Kernel[] = [];
  const epilogue: GemmEpilogue = residual ? { residual: { buffer: residual, ld: cols.ld, offset: cols.col } } : {};
  const l = g.lora;
  if (l && g.xa) {
    const G = g.parts.length;
    const drop = train && l.dropout;
    if (!drop) {
      // xa (M, G·R) = inp · [A_1; …; A_G]ᵀ
      ks.push(gemmKernel(gpu, { label: 'lora.xa', c: g.xa, ldc: G * l.R, M, N: G * l.R, K, a: { buffer: inp, kContig: true, ld: glu ? 2 * K : K, glu }, b: { buffer: l.A, kContig: true, ld: K } }));
    } else {
      g.parts.forEach((s, i) => {
        const d = s.lora!.dropout!;
        ks.push(gemmKernel(gpu, {
          label: 'lora.xa', c: g.xa!, ldc: G * l.R, cOffset: i * l.R, M, N: l.R, K, dropout: { on: 'a', p: d.p, seed: d.seed, salt: d.salt, rows: d.rows },
          a: { buffer: inp, kContig: true, ld: glu ? 2 * K : K, glu }, b: { buffer: s.lora!.A, kContig: true, ld: K },
        }));
      });
    }
    epilogue.lowRank = { x: g.xa, ldx: G * l.R, y: l.B, yJ: l.R, yR: 1, R: l.R, scale: l.scale, groups: columnGroups(g) };
  }
  ks.push(matmulForward(gpu, out, inp, g.W, M, N, K, {
    weightDtype: g.dtype, label: `linear_forward.${g.parts.map((s) => s.name).join('|')}`, epilogue, inpGlu: glu,
    strides: { outRow: cols.ld, outOffset: cols.col },
  }));
  return ks;
}

/**
 * dinp (M,K) (=|+= accumulate) dout (M,ΣN) · W (+ LoRA); parameter gradients (=|+= per `assign`).
 * workspace: (M, parts·R) f32 for LoRA.
 */
// opts.swiglu: dinp is dgu (see below). opts.inpGlu: inp holds [gate | up] rows standing for h (as groupForward's glu).
export function groupBackward(gpu: Gpu, g: LinearGroup, dinp: Buf, workspace: Buf, dout: Buf, inp: Buf, M: number, accumulate: boolean, assign: boolean, cols: Columns = { ld: g.N, col: 0 }, opts: { swiglu?: { gu: Buf }; inpGlu?: boolean } = {}): Kernel[] {
  const swiglu = opts.swiglu;
  if (opts.inpGlu && g.dW) throw new Error(`linear_backward: a trained weight's dW needs the stored input, not [gate | up]`);
  const { K, N } = g;
  const ldo = cols.ld;
  const ks: Kernel[] = [];
  const l = g.lora;
  const acc = !assign;
  const label = g.parts.map((s) => s.name).join('|');
  let epilogue: GemmEpilogue | undefined;
  let dropDinp: Kernel | null = null;
  if (l && g.xa) {
    const G = g.parts.length;
    const R = l.R;
    // ws (M, G·R): columns of part i = dout_i (M, N_i) · B_i (N_i, R), every part in one launch.
    ks.push(loraDoutB(gpu, workspace, dout, ldo, cols.col, l.B, M, R, g.parts.map((s) => s.N)));
    if (!l.dropout) epilogue = { lowRank: { x: workspace, ldx: G * R, y: l.A, yJ: 1, yR: K, R: G * R, scale: l.scale } };
    else {
      // Dropout masks the low-rank part of dinp per module: separate products (mask on the result).
      dropDinp = {
        label: 'lora.dinp', owned: [],
        dispatches: g.parts.flatMap((s, i) => {
          const d = s.lora!.dropout!;
          return gemmKernel(gpu, {
            label: 'lora.dinp', c: dinp, ldc: K, M, N: K, K: R, alpha: l.scale, accumulate: true, dropout: { on: 'c', p: d.p, seed: d.seed, salt: d.salt, rows: d.rows },
            a: { buffer: workspace, kContig: true, ld: G * R, offset: i * R }, b: { buffer: s.lora!.A, kContig: false, ld: K },
          }).dispatches;
        }),
      };
    }
  }
  // dinp (M,K) (=|+=) dout · W [+ scale · ws · A]; with `swiglu` (down_proj: dinp = dh) the SwiGLU backward is
  // applied in the store: dinp is dgu (M, 2K), assigned, from the forward's gu (M, 2K).
  if (swiglu) {
    if (dropDinp || accumulate) throw new Error(`linear_backward.${label}: the fused SwiGLU backward needs no LoRA dropout and an assigned dinp`);
    epilogue = { ...epilogue, swigluBackward: { gu: swiglu.gu, ld: 2 * K } };
  }
  ks.push(gemmKernel(gpu, {
    label: `linear_backward.${label}`, c: dinp, ldc: swiglu ? 2 * K : K, M, N: K, K: N, accumulate, epilogue,
    a: { buffer: dout, kContig: true, ld: ldo, offset: cols.col },
    b: { buffer: g.W, kContig: false, ld: weightRowStride(K, g.dtype), dtype: g.dtype },
  }));
  if (dropDinp) ks.push(dropDinp);
  if (l && g.xa) {
    // dB (ΣN, R) (=|+=) scale · doutᵀ · xa (each part's rows with its own xa columns) and
    // dA (G·R, K) (=|+=) scale · wsᵀ · dropout(inp): one launch for the group.
    const d0 = g.parts[0].lora!.dropout;
    ks.push(loraGrads(gpu, {
      dB: l.dB, dA: l.dA, dout, ldo, dcol: cols.col, xa: g.xa, ws: workspace, inp, M, K, R: l.R,
      partN: g.parts.map((s) => s.N), scale: l.scale, accumulate: acc, seed: d0 ? d0.seed : g.xa,
      dropout: d0 ? { p: d0.p, salts: g.parts.map((s) => s.lora!.dropout!.salt), rows: d0.rows } : undefined, inpGlu: opts.inpGlu,
    }));
  }
  // dW (ΣN, K) (=|+=) doutᵀ · inp
  if (g.dW) {
    ks.push(gemmKernel(gpu, {
      label: 'matmul_backward_weight', c: g.dW, ldc: K, M: N, N: K, K: M, accumulate: acc,
      a: { buffer: dout, kContig: false, ld: ldo, offset: cols.col }, b: { buffer: inp, kContig: false, ld: K },
    }));
  }
  return ks;
}

