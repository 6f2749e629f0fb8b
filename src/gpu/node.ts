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

async function createDawn(dawnOptions: string[]): Promise<GPU> {
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  return webgpu.create(dawnOptions);
}

/**
 * A device from Dawn. With `swiftShaderFallback` (the CLI's default), a machine whose Vulkan drivers offer no usable
 * adapter retries once on SwiftShader when Debian's chromium provides it (slow, but it runs).
 */
export async function requestNodeGpu(opts: RequestGpuOptions & { dawnOptions?: string[]; swiftShaderFallback?: boolean } = {}): Promise<Gpu> {
  // Dawn's Vulkan backend warns without it on Linux; any writable folder will do.
  if (process.platform === 'linux' && !process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  dawn ??= await createDawn(opts.dawnOptions ?? []);
  try {
    return await requestGpu(dawn, opts);
  } catch (e) {
    if (!opts.swiftShaderFallback || !useSwiftShaderIfNoIcd()) throw e;
    console.error('[gpu] no hardware adapter; falling back to SwiftShader (CPU, slow)');
    dawn = await createDawn(opts.dawnOptions ?? []);
    return requestGpu(dawn, opts);
  }
}
