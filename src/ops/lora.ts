// LoRA linear layer with PEFT semantics: y = x·Wᵀ + scale·(dropout(x)·Aᵀ)·Bᵀ, W frozen (f32, f16 or bf16),
// A and B trainable f32, scale = lora_alpha / r (or lora_alpha / √r with use_rslora). Composed of matmul.wgsl
// products (src/ops/matmul.ts): the frozen product plus R-sized ones (R ≤ 64), so the cost stays close to the
// frozen matmul's. The low-rank update rides in the frozen product's epilogue (forward: 2 dispatches, xa then the
// base product + scale·xa·Bᵀ; backward: 4, the dinp low-rank term in the base product's epilogue unless dropout
// masks it). Reference: ./lora.ref.ts. Test: tests/ops/lora.test.ts.
// Letters: M rows (tokens, B*T), N out features, K in features, R rank.
// inp is (M,K), weight (N,K) (packed 16-bit rows when weightDtype is f16/bf16), loraA (R,K), loraB (N,R),
// out (M,N), xa (M,R) = dropout(inp)·Aᵀ saved for backward.
// Dropout: element (m,k) of inp is kept with probability 1−p and then scaled by 1/(1−p) (inverted dropout, like
// torch), decided by dropoutHash(seed, salt, m·K + k) (src/ops/matmul.ts, mirrored in the shader) where seed is
// read from a u32[1] GPU buffer the trainer writes each step; backward recomputes the same mask from the same seed.
// With p = 0 (or no dropout option) no mask code runs. For evaluation (model.eval()) plan kernels without dropout.
import type { Gpu } from '../gpu/device.ts';
import type { Buf, Kernel } from '../gpu/kernel.ts';
import { type WeightDtype, gemmKernel, matmulBackwardInput, matmulForward } from './matmul.ts';

export { dropoutHash, dropoutMultiplier, dropoutThreshold } from './matmul.ts';

export interface LoraDropout {
  /** lora_dropout probability, in [0, 1). */
  p: number;
  /** u32[1] GPU buffer with this step's seed (written by the trainer before each step). */
  seed: GPUBuffer;
  /** Distinguishes modules sharing one seed buffer (e.g. layer·8 + projection index). Default 0. */
  salt?: number;
}

export interface LoraOpts {
  weightDtype?: WeightDtype;
  dropout?: LoraDropout;
}

/** Merges a Kernel list into one Kernel whose dispatches run in order. */
function sequence(label: string, kernels: Kernel[]): Kernel {
  return { label, dispatches: kernels.flatMap((k) => k.dispatches), owned: kernels.flatMap((k) => k.owned) };
}

function checkRank(label: string, R: number): void {
  if (!Number.isInteger(R) || R < 1) throw new Error(`${label}: LoRA rank r = ${R} must be a positive integer (adapter_config.json "r")`);
}

// out (M,N) = inp·Wᵀ + scale·xa·Bᵀ; xa (M,R) = dropout(inp)·Aᵀ is assigned and saved for backward.
export function loraForward(
  gpu: Gpu, out: Buf, xa: Buf, inp: Buf, weight: Buf, loraA: Buf, loraB: Buf,
  M: number, N: number, K: number, R: number, scale: number, opts: LoraOpts = {},
): Kernel {
  checkRank('lora_forward', R);
  const drop = opts.dropout ? { on: 'a' as const, ...opts.dropout } : undefined;
  return sequence('lora_forward', [
    // xa (M,R) = dropout(inp (M,K)) · A(R,K)ᵀ
    gemmKernel(gpu, {
      label: 'lora_forward.xa', c: xa, ldc: R, M, N: R, K, dropout: drop,
      a: { buffer: inp, kContig: true, ld: K }, b: { buffer: loraA, kContig: true, ld: K },
    }),
    // out (M,N) = inp · W(N,K)ᵀ + scale · xa(M,R) · B(N,R)ᵀ   (the low-rank term in the epilogue)
    matmulForward(gpu, out, inp, weight, M, N, K, {
      weightDtype: opts.weightDtype, label: 'lora_forward.base',
      epilogue: { lowRank: { x: xa, ldx: R, y: loraB, yJ: R, yR: 1, R, scale } },
    }),
  ]);
}

// dinp (M,K) (=|+= with opts.accumulate) dout·W + scale·((dout·B)·A)∘mask;
// dloraB (N,R) += scale·doutᵀ·xa; dloraA (R,K) += scale·(dout·B)ᵀ·dropout(inp).
// workspace (M,R) f32 scratch: receives dout·B. xa (M,R) is the forward's saved value.
export function loraBackward(
  gpu: Gpu, dinp: Buf, dloraA: Buf, dloraB: Buf, workspace: Buf,
  dout: Buf, inp: Buf, xa: Buf, weight: Buf, loraA: Buf, loraB: Buf,
  M: number, N: number, K: number, R: number, scale: number, opts: LoraOpts & { accumulate?: boolean } = {},
): Kernel {
  checkRank('lora_backward', R);
  const dropout = opts.dropout;
  return sequence('lora_backward', [
    // workspace (M,R) = dout(M,N) · B(N,R)        [B read as (j=r, c=n) at n·R + r]
    gemmKernel(gpu, {
      label: 'lora_backward.doutB', c: workspace, ldc: R, M, N: R, K: N,
      a: { buffer: dout, kContig: true, ld: N }, b: { buffer: loraB, kContig: false, ld: R },
    }),
    ...(dropout && dropout.p > 0 ? [
      // dinp (M,K) (=|+=) dout(M,N) · W(N,K)
      matmulBackwardInput(gpu, dinp, dout, weight, M, N, K, { weightDtype: opts.weightDtype, accumulate: opts.accumulate, label: 'lora_backward.base' }),
      // dinp (M,K) += scale · (workspace(M,R) · A(R,K)) ∘ mask      [A read as (j=k, c=r) at r·K + k]
      gemmKernel(gpu, {
        label: 'lora_backward.dinp', c: dinp, ldc: K, M, N: K, K: R, alpha: scale, accumulate: true,
        dropout: { on: 'c', ...dropout },
        a: { buffer: workspace, kContig: true, ld: R }, b: { buffer: loraA, kContig: false, ld: K },
      }),
    ] : [
      // dinp (M,K) (=|+=) dout(M,N) · W(N,K) + scale · workspace(M,R) · A(R,K)   (low-rank term in the epilogue)
      matmulBackwardInput(gpu, dinp, dout, weight, M, N, K, {
        weightDtype: opts.weightDtype, accumulate: opts.accumulate, label: 'lora_backward.base',
        epilogue: { lowRank: { x: workspace, ldx: R, y: loraA, yJ: 1, yR: K, R, scale } },
      }),
    ]),
    // dloraB (N,R) += scale · dout(M,N)ᵀ · xa(M,R)  [dout read as (i=n, c=m), xa as (j=r, c=m)]
    gemmKernel(gpu, {
      label: 'lora_backward.dB', c: dloraB, ldc: R, M: N, N: R, K: M, alpha: scale, accumulate: true,
      a: { buffer: dout, kContig: false, ld: N }, b: { buffer: xa, kContig: false, ld: R },
    }),
    // dloraA (R,K) += scale · workspace(M,R)ᵀ · dropout(inp)(M,K)   [workspace as (i=r, c=m), inp as (j=k, c=m)]
    gemmKernel(gpu, {
      label: 'lora_backward.dA', c: dloraA, ldc: K, M: R, N: K, K: M, alpha: scale, accumulate: true,
      dropout: dropout ? { on: 'b', ...dropout } : undefined,
      a: { buffer: workspace, kContig: false, ld: R }, b: { buffer: inp, kContig: false, ld: K },
    }),
  ]);
}
