// CPU reference for src/ops/act16.ts (shaders/act16.wgsl): the same segments, with the value-level f16 conversions of
// ./convert.ref.ts (independent of the shader's bit tricks).
import { f16BitsToNumber, numberToF16Bits } from './convert.ref.ts';

export interface Act16SegmentRef {
  f32: Float32Array;
  rows: number;
  cols: number;
  fStride?: number;
  fOffset?: number;
  hOffset: number;
  hStride?: number;
}

function* elements(s: Act16SegmentRef): Generator<[number, number]> {
  const fs = s.fStride ?? s.cols, hs = s.hStride ?? s.cols, fo = s.fOffset ?? 0;
  for (let r = 0; r < s.rows; r++) for (let c = 0; c < s.cols; c++) yield [fo + r * fs + c, s.hOffset + r * hs + c];
}

/** Writes each segment's f16 bits into `halves` (the packed buffer seen as 16-bit elements). */
export function act16PackRef(halves: Uint16Array, segments: Act16SegmentRef[]): void {
  for (const s of segments) for (const [f, h] of elements(s)) halves[h] = numberToF16Bits(s.f32[f]);
}

/** Writes each segment's f32 values (exact f16 values) from `halves`. */
export function act16UnpackRef(halves: Uint16Array, segments: Act16SegmentRef[]): void {
  for (const s of segments) for (const [f, h] of elements(s)) s.f32[f] = f16BitsToNumber(halves[h]);
}
