// The LoRA parameter gradients of one fusion group in one launch: dB of every part and dA of the group.
// Shader: shaders/lora_grads.wgsl. Reference: ./lora_grads.ref.ts. Test: tests/ops/lora_grads.test.ts.
// Letters: M rows, N = Σ N_g output columns of the G ≤ 3 parts, K in features, R rank.
//   dB (N, R)   (=|+=) scale · doutᵀ · xa_g(n)      dout (M, ·) at columns [dcol, dcol + N), row stride ldo
//   dA (G·R, K) (=|+=) scale · wsᵀ · drop_g(inp)    xa, ws (M, G·R); inp (M, K)
// Replaces per-part dB products and the dA product(s) (2–3 dispatches per group, or G + 1 … with dropout) by one.
// Also loraDoutB: ws = dout_g·B_g for every part in one launch (shaders/lora_ws.wgsl).
import shaderCode from '../../shaders/lora_grads.wgsl?raw';
import commonMath from '../../shaders/common_math.wgsl?raw';
import wsCode from '../../shaders/lora_ws.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, cdiv, simpleKernel } from '../gpu/kernel.ts';
import { checkDims, needBytes } from './args.ts';
import { dropoutThreshold } from './matmul.ts';

const code = `${shaderCode}\n${commonMath}`;

export interface LoraGradsArgs {
  dB: Buf; // (N, R) f32
  dA: Buf; // (G·R, K) f32
  dout: Buf;
  ldo: number;
  dcol: number;
  xa: Buf; // (M, G·R)
  ws: Buf; // (M, G·R)
  inp: Buf; // (M, K)
  M: number;
  K: number;
  R: number;
  /** Output columns of each part (G = partN.length ≤ 3). */
  partN: number[];
  scale: number;
  accumulate: boolean;
  /** u32[1] seed buffer (any 4-byte buffer without dropout). */
  seed: Buf;
  /** LoRA dropout on inp for dA: probability and one salt per part (the forward's xa salts). */
  dropout?: { p: number; salts: number[]; rows?: boolean };
  /** inp holds [gate | up] rows (M, 2K): the input is h = silu(gate)·up (down_proj without a stored h). */
  inpGlu?: boolean;
}

const NONE = 0xffffffff;

export function loraGrads(gpu: Gpu, a: LoraGradsArgs): Kernel {
  const label = 'lora_grads';
  const { M, K, R, partN } = a;
  const G = partN.length;
  if (G < 1 || G > 3) throw new Error(`${label}: ${G} parts, expected 1..3`);
  const N = partN.reduce((s, n) => s + n, 0);
  checkDims(label, { M, N, K, R });
  needBytes(label, 'dB', a.dB, N * R * 4); needBytes(label, 'dA', a.dA, G * R * K * 4);
  needBytes(label, 'xa', a.xa, M * G * R * 4); needBytes(label, 'ws', a.ws, M * G * R * 4);
  needBytes(label, 'inp', a.inp, M * K * (a.inpGlu ? 2 : 1) * 4); needBytes(label, 'dout', a.dout, ((M - 1) * a.ldo + a.dcol + N) * 4);
  const tilesR = cdiv(R, 16);
  const nB = cdiv(N, 64) * tilesR;
  const nA = cdiv(K, 64) * G * tilesR;
  const drop = a.dropout && a.dropout.p > 0 ? a.dropout : null;
  if (drop && drop.salts.length !== G) throw new Error(`${label}: ${drop.salts.length} dropout salts for ${G} parts`);
  const salts = drop ? drop.salts : [0, 0, 0];
  const params = [
    M, N, K, R, G, a.ldo, a.dcol, G * R,
    G > 1 ? partN[0] : NONE, G > 2 ? partN[0] + partN[1] : NONE,
    nB, tilesR, a.accumulate ? 1 : 0,
    drop ? 1 : 0, drop ? dropoutThreshold(drop.p) : 0, drop ? Math.fround(1 / (1 - drop.p)) : 1,
    salts[0] ?? 0, salts[1] ?? 0, salts[2] ?? 0, a.scale, a.inpGlu ? 1 : 0, drop?.rows ? 1 : 0,
  ];
  if (drop?.rows) needBytes(label, 'seed (dropout row map)', a.seed, (1 + M) * 4);
  return simpleKernel(gpu, { label, code, entryPoint: 'main' },
    [a.dout, a.xa, a.ws, a.inp, a.dB, a.dA, a.seed], params, [nB + nA, 1, 1], new Set([15, 19]));
}

// ws (M, G·R): part g's columns = dout_g (M, N_g) · B_g (N_g, R), every part in one launch (parts may differ in
// width). dout at columns [dcol, dcol + ΣN_g), row stride ldo; B the group's (ΣN_g, R) span.
export function loraDoutB(gpu: Gpu, ws: Buf, dout: Buf, ldo: number, dcol: number, B: Buf, M: number, R: number, partN: number[]): Kernel {
  const label = 'lora_dout_b';
  const G = partN.length;
  if (G < 1 || G > 3) throw new Error(`${label}: ${G} parts, expected 1..3`);
  const N = partN.reduce((s, n) => s + n, 0);
  checkDims(label, { M, N, R });
  needBytes(label, 'ws', ws, M * G * R * 4); needBytes(label, 'B', B, N * R * 4);
  needBytes(label, 'dout', dout, ((M - 1) * ldo + dcol + N) * 4);
  const tilesR = cdiv(R, 16);
  const n1 = G > 1 ? partN[0] : N;
  const n2 = G > 2 ? partN[0] + partN[1] : N;
  return simpleKernel(gpu, { label, code: wsCode, entryPoint: 'main' }, [dout, B, ws], [M, R, G, ldo, dcol, tilesR, n1, n2, N], [cdiv(M, 64) * G * tilesR, 1, 1]);
}
