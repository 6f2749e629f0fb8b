// Buffer helpers: labelled storage buffers, uploads and readbacks. Readback is for tests, metrics at
// logging_steps and export — never inside a training step.
import type { Gpu } from './device.ts';


export function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** A zero-filled storage buffer of `bytes` (rounded up to 4). */
export function createStorage(gpu: Gpu, label: string, bytes: number): GPUBuffer {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  return gpu.device.createBuffer({ label, size, usage: storageUsage() });
}

/** A storage buffer holding `data` (f32, u32 or i32 array, or raw bytes). */
export function uploadBuffer(gpu: Gpu, label: string, data: ArrayBufferView): GPUBuffer {
  const buf = createStorage(gpu, label, data.byteLength);
  writeBuffer(gpu, buf, data);
  return buf;
}

export function writeBuffer(gpu: Gpu, buf: GPUBuffer, data: ArrayBufferView, offsetBytes = 0): void {
  // writeBuffer needs a size multiple of 4: pad a copy if needed.
  if (data.byteLength % 4 !== 0) {
    const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
    padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    gpu.device.queue.writeBuffer(buf, offsetBytes, padded);
  } else {
    gpu.device.queue.writeBuffer(buf, offsetBytes, data.buffer, data.byteOffset, data.byteLength);
  }
}

/** Copies `bytes` from `buf` (at `offsetBytes`) back to the CPU. */
export async function readBytes(gpu: Gpu, buf: GPUBuffer, bytes = buf.size, offsetBytes = 0): Promise<ArrayBuffer> {
  if (gpu.lost) throw gpu.lost;
  const size = Math.ceil(bytes / 4) * 4;
  const staging = gpu.device.createBuffer({ label: `${buf.label}.readback`, size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = gpu.device.createCommandEncoder({ label: `${buf.label}.readback` });
  enc.copyBufferToBuffer(buf, offsetBytes, staging, 0, size);
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(gpu: Gpu, buf: GPUBuffer, count?: number, offsetElems = 0): Promise<Float32Array> {
  const n = count ?? buf.size / 4 - offsetElems;
  return new Float32Array(await readBytes(gpu, buf, n * 4, offsetElems * 4));
}

export async function readU32(gpu: Gpu, buf: GPUBuffer, count?: number): Promise<Uint32Array> {
  const n = count ?? buf.size / 4;
  return new Uint32Array(await readBytes(gpu, buf, n * 4));
}
