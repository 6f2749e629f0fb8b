// Node entry to WebGPU through Dawn (npm package `webgpu`). Browser code never imports this file.
// Without a GPU on Linux, SwiftShader (Debian's chromium ships it) provides a CPU Vulkan device:
// `useSwiftShaderIfNoIcd()` points VK_ICD_FILENAMES at it when nothing else was chosen.
import { existsSync } from 'node:fs';
import { requestGpu, type Gpu, type RequestGpuOptions } from './device.ts';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Points the Vulkan loader at SwiftShader if VK_ICD_FILENAMES is unset and the file exists. Returns whether it did. */
export function useSwiftShaderIfNoIcd(): boolean {
  if (process.platform !== 'linux' || process.env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) return false;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return true;
}

let dawn: GPU | undefined;

export async function requestNodeGpu(opts: RequestGpuOptions & { dawnOptions?: string[] } = {}): Promise<Gpu> {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  if (!dawn) {
    const webgpu = await import('webgpu');
    Object.assign(globalThis, webgpu.globals);
    dawn = webgpu.create(opts.dawnOptions ?? []);
  }
  return requestGpu(dawn, opts);
}
