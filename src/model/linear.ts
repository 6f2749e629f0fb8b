// One linear layer of the model as the forward/backward code sees it: a frozen or trainable weight, optionally
// wrapped by LoRA (PEFT semantics). Picks the matmul or LoRA kernels so qwen3.ts reads as straight-line calls.
//   y (M,N) = x (M,K) · Wᵀ [+ scale · dropout(x) · Aᵀ · Bᵀ]
import type { Gpu } from '../gpu/device.ts';
import type { Kernel } from '../gpu/kernel.ts';
import { matmulForward, matmulBackwardInput, matmulBackwardWeight } from '../ops/matmul.ts';
import { loraForward, loraBackward } from '../ops/lora.ts';
import type { LinearName, StoreDtype } from './params.ts';
import type { Ref } from './weights.ts';

export interface LoraSlot {
  A: Ref; // (R,K)
  B: Ref; // (N,R)
  dA: Ref;
  dB: Ref;
  xa: GPUBuffer; // (M,R) saved dropout(x)·Aᵀ
  R: number;
  scale: number;
  /** Training-time dropout on the LoRA input; `salt` makes each module's mask independent. */
  dropout: { p: number; seed: GPUBuffer; salt: number } | undefined;
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


// out (M,N) from inp (M,K). `train` false: no dropout (evaluation and scoring).
export function linearForward(gpu: Gpu, s: LinearSlot, out: GPUBuffer, inp: GPUBuffer, M: number, train = true): Kernel {
  if (s.lora) {
    const l = s.lora;
    return loraForward(gpu, out, l.xa, inp, s.W, l.A, l.B, M, s.N, s.K, l.R, l.scale, { weightDtype: s.dtype, dropout: train ? l.dropout : undefined });
  }
  return matmulForward(gpu, out, inp, s.W, M, s.N, s.K, { weightDtype: s.dtype });
}

// dinp (M,K) = or += (accumulate) dout·W (+ LoRA path); dW/dA/dB += their gradients. workspace (M,R) for LoRA.
export function linearBackward(gpu: Gpu, s: LinearSlot, dinp: GPUBuffer, workspace: GPUBuffer, dout: GPUBuffer, inp: GPUBuffer, M: number, accumulate: boolean): Kernel[] {
  const ks: Kernel[] = [];
  if (s.lora) {
    const l = s.lora;
    ks.push(loraBackward(gpu, dinp, l.dA, l.dB, workspace, dout, inp, l.xa, s.W, l.A, l.B, M, s.N, s.K, l.R, l.scale, { weightDtype: s.dtype, dropout: l.dropout, accumulate }));
  } else {
    ks.push(matmulBackwardInput(gpu, dinp, dout, s.W, M, s.N, s.K, { weightDtype: s.dtype, accumulate }));
  }
  if (s.dW) ks.push(matmulBackwardWeight(gpu, s.dW, dout, inp, M, s.N, s.K));
  return ks;
}
