// Argument checks shared by the elementwise/norm ops (rmsnorm, rope, embedding, residual): buffer sizes and
// aliasing. A buffer argument is a `Buf`: a whole GPUBuffer or a range of one (parameters live at offsets in
// blocks). WebGPU rejects a dispatch that binds one GPUBuffer both writable and read-only, even through disjoint
// ranges, so aliasing is checked here on the CPU with a message naming the arguments.
import { type Buf, bufLabel, bufSize, isRange } from '../gpu/kernel.ts';

export function bufferOf(b: Buf): GPUBuffer {
  return isRange(b) ? b.buffer : b;
}

function rangeOf(b: Buf): [number, number] {
  const offset = isRange(b) ? (b.offset ?? 0) : 0;
  return [offset, offset + bufSize(b)];
}

/** Same GPUBuffer, same offset and size: the argument pair of an in-place call. */
export function sameRange(a: Buf, b: Buf): boolean {
  if (bufferOf(a) !== bufferOf(b)) return false;
  const [a0, a1] = rangeOf(a), [b0, b1] = rangeOf(b);
  return a0 === b0 && a1 === b1;
}

export function needBytes(label: string, name: string, b: Buf, bytes: number): void {
  const have = bufSize(b);
  if (have < bytes) throw new Error(`${label}: ${name} (${bufLabel(b)}) holds ${have} bytes, needs ${bytes}`);
}

export function checkDims(label: string, dims: Record<string, number>): void {
  for (const [n, v] of Object.entries(dims))
    if (!Number.isInteger(v) || v < 1) throw new Error(`${label}: ${n}=${v} must be a positive integer`);
}

/**
 * Throws if a written argument shares its GPUBuffer with a read argument, or overlaps another written one, in
 * one dispatch. `writes`/`reads` map argument names to buffers (null entries are skipped).
 */
export function checkAliasing(label: string, writes: Record<string, Buf | null>, reads: Record<string, Buf | null>): void {
  const w = Object.entries(writes).filter((e): e is [string, Buf] => e[1] !== null);
  const r = Object.entries(reads).filter((e): e is [string, Buf] => e[1] !== null);
  for (const [wn, wb] of w) {
    for (const [rn, rb] of r)
      if (bufferOf(wb) === bufferOf(rb))
        throw new Error(`${label}: ${wn} (${bufLabel(wb)}) and ${rn} (${bufLabel(rb)}) are in the same GPUBuffer; WebGPU ` +
          'cannot bind one buffer writable and read-only in one dispatch: pass separate buffers (or the same range where in place is supported)');
  }
  for (let i = 0; i < w.length; i++)
    for (let j = i + 1; j < w.length; j++) {
      if (bufferOf(w[i][1]) !== bufferOf(w[j][1])) continue;
      const [a0, a1] = rangeOf(w[i][1]), [b0, b1] = rangeOf(w[j][1]);
      if (a0 < b1 && b0 < a1) throw new Error(`${label}: outputs ${w[i][0]} and ${w[j][0]} overlap in ${bufLabel(w[i][1])}`);
    }
}
