// Dtype conversions on the GPU for loading checkpoints (bf16/f16 → f32, bf16 → f16) and exporting them (f32 → bf16).
// Shader: shaders/convert.wgsl. CPU references: ./convert.ref.ts. Test: tests/ops/convert.test.ts.
//
// 16-bit data is packed two per u32 word (raw safetensors bytes uploaded as u32): element k is the low half of word
// k>>1 when k is even, the high half when odd. `count` may be odd. Everything is integer bit manipulation: results do
// not depend on the GPU's float rounding, subnormal flushing or NaN handling, and no shader-f16 is needed.
// (We do not use pack2x16float: WGSL leaves its rounding, overflow and subnormal results implementation-defined.)
//
// Optional offsets, in elements: opts.inOffset into `inp` (any value, so a tensor may start at an odd halfword of a
// safetensors file), opts.outOffset into `out` (must be even for packed 16-bit outputs, whose threads own whole words).
// Buffer arguments may be whole GPUBuffers or ranges of one (Buf); element offsets count from the range's start.
import convertCode from '../../shaders/convert.wgsl?raw';
import halfBits from '../../shaders/half_bits.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, bufLabel, bufSize, cdiv, simpleKernel } from '../gpu/kernel.ts';
import { elementwiseGrid, WG_1D } from './grid.ts';

const code = `${convertCode}\n${halfBits}`;

export interface ConvertOptions {
  inOffset?: number;
  outOffset?: number;
}

type Width = 16 | 32;

function convertKernel(gpu: Gpu, entry: string, out: Buf, inp: Buf, count: number, inBits: Width, outBits: Width,
  opts: ConvertOptions): Kernel {
  const label = `convert_${entry}`;
  const inOffset = opts.inOffset ?? 0, outOffset = opts.outOffset ?? 0;
  if (!Number.isInteger(count) || count < 1) throw new Error(`${label}: count ${count} must be an integer ≥ 1`);
  for (const [k, v] of [['inOffset', inOffset], ['outOffset', outOffset]] as const)
    if (!Number.isInteger(v) || v < 0) throw new Error(`${label}: ${k} ${v} must be an integer ≥ 0`);
  if (outBits === 16 && outOffset % 2 !== 0)
    throw new Error(`${label}: outOffset ${outOffset} must be even for a packed 16-bit output (threads write whole words)`);
  const threads = outBits === 16 ? cdiv(count, 2) : count;
  const outWord = outBits === 16 ? outOffset / 2 : outOffset;
  // Bytes touched: 16-bit data is read and written as whole u32 words.
  const inBytes = inBits === 16 ? cdiv(inOffset + count, 2) * 4 : (inOffset + count) * 4;
  const outBytes = (outWord + threads) * 4;
  if (inBytes > bufSize(inp))
    throw new Error(`${label}: input [${inOffset}, ${inOffset + count}) of ${inBits}-bit elements needs ${inBytes} bytes, ${bufLabel(inp) || 'inp'} has ${bufSize(inp)}`);
  if (outBytes > bufSize(out))
    throw new Error(`${label}: output [${outOffset}, ${outOffset + count}) of ${outBits}-bit elements needs ${outBytes} bytes, ${bufLabel(out) || 'out'} has ${bufSize(out)}`);
  if (inOffset + count > 0xffffffff || outWord + threads > 0xffffffff) throw new Error(`${label}: range does not fit u32 indexing`);
  return simpleKernel(gpu, { label, code, entryPoint: entry, constants: { WG: WG_1D } },
    [out, inp], [count, inOffset, outWord, 0], elementwiseGrid(threads));
}

// out (N,) f32 ← inp (N,) bf16 packed. Exact.
export function bf16ToF32(gpu: Gpu, out: Buf, inp: Buf, count: number, opts: ConvertOptions = {}): Kernel {
  return convertKernel(gpu, 'bf16_to_f32', out, inp, count, 16, 32, opts);
}

// out (N,) f32 ← inp (N,) f16 packed. Exact.
export function f16ToF32(gpu: Gpu, out: Buf, inp: Buf, count: number, opts: ConvertOptions = {}): Kernel {
  return convertKernel(gpu, 'f16_to_f32', out, inp, count, 16, 32, opts);
}

// out (N,) f16 packed ← inp (N,) bf16 packed. Round to nearest even; |x| ≥ 65520 → ±Inf (bf16 has 8 exponent bits,
// f16 only 5: such weights do not fit f16); tiny values become f16 subnormals or ±0; NaN stays NaN.
export function bf16ToF16(gpu: Gpu, out: Buf, inp: Buf, count: number, opts: ConvertOptions = {}): Kernel {
  return convertKernel(gpu, 'bf16_to_f16', out, inp, count, 16, 16, opts);
}

// out (N,) bf16 packed ← inp (N,) f32. Round to nearest even, exactly as torch's tensor.to(torch.bfloat16)
// (values above the largest bf16 round to ±Inf; any NaN becomes 0x7fc0).
export function f32ToBf16(gpu: Gpu, out: Buf, inp: Buf, count: number, opts: ConvertOptions = {}): Kernel {
  return convertKernel(gpu, 'f32_to_bf16', out, inp, count, 32, 16, opts);
}
