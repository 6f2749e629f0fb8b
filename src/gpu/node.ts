// Node entry to WebGPU through Dawn (npm package `webgpu`). Browser code never imports this file.
// Without a GPU on Linux, SwiftShader (Debian's chromium ships it) provides a CPU Vulkan device:
// `useSwiftShaderIfNoIcd()` points VK_ICD_FILENAMES at it when nothing else was chosen.
import { existsSync } from 'node:fs';
import { requestGpu, WebGpuUnavailableError, type Gpu, type RequestGpuOptions } from './device.ts';

/** Where Linux distributions put the Vulkan loader Dawn opens (libvulkan.so.1). */
const VULKAN_LOADER_PATHS = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1', '/usr/lib64/libvulkan.so.1', '/usr/lib/libvulkan.so.1'];
const CHROMIUM_LOADER = '/usr/lib/chromium/libvulkan.so.1';

export interface NodeGpuEnv {
  platform: string;
  /** A system Vulkan loader was found (Linux). */
  hasVulkanLoader: boolean;
  /** Debian's chromium ships SwiftShader's ICD (and a loader of its own). */
  hasSwiftShader: boolean;
  hasChromiumLoader: boolean;
  /** VK_ICD_FILENAMES as set. */
  icd: string | undefined;
  ldLibraryPath: string | undefined;
}

export function nodeGpuEnv(): NodeGpuEnv {
  return {
    platform: process.platform,
    hasVulkanLoader: VULKAN_LOADER_PATHS.some((p) => existsSync(p)),
    hasSwiftShader: existsSync(SWIFTSHADER_ICD),
    hasChromiumLoader: existsSync(CHROMIUM_LOADER),
    icd: process.env.VK_ICD_FILENAMES,
    ldLibraryPath: process.env.LD_LIBRARY_PATH,
  };
}

/** What is missing when Dawn offers no adapter in Node, and how to fix it (the browser's advice does not apply). */
export function noAdapterMessage(env: NodeGpuEnv): string {
  const head = 'No WebGPU adapter: Dawn (the `webgpu` package) found no GPU it can use.';
  const swift = env.hasSwiftShader
    ? `To run on the CPU instead (slow), set VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader, from Debian's chromium; the CLI does this by itself when VK_ICD_FILENAMES is unset).`
    : `To run on the CPU instead (slow), install SwiftShader with Debian's chromium (sudo apt-get install -y chromium libvulkan1); the CLI then uses ${SWIFTSHADER_ICD} when VK_ICD_FILENAMES is unset.`;
  if (env.platform === 'linux') {
    const chromiumLoaderInUse = env.hasChromiumLoader && (env.ldLibraryPath ?? '').split(':').includes('/usr/lib/chromium');
    if (!env.hasVulkanLoader && !chromiumLoaderInUse) {
      return `${head} The Vulkan loader (libvulkan.so.1) is missing: install it with \`sudo apt-get install -y libvulkan1\` (Debian/Ubuntu; Fedora: vulkan-loader)` +
        (env.hasChromiumLoader ? ', or run with LD_LIBRARY_PATH=/usr/lib/chromium to use the copy chromium ships' : '') + `. ${swift}`;
    }
    const icd = env.icd ? ` VK_ICD_FILENAMES is set to ${env.icd}: check that the file exists and names a driver that is installed.` : '';
    return `${head} The Vulkan loader is installed but no Vulkan driver offered an adapter:${icd} install your GPU's Vulkan driver ` +
      `(NVIDIA: the proprietary driver; AMD/Intel: sudo apt-get install -y mesa-vulkan-drivers) and check with \`vulkaninfo --summary\`. ${swift}`;
  }
  if (env.platform === 'win32') return `${head} Update the GPU driver (Dawn uses Direct3D 12 on Windows), or use the studio in Chrome or Edge.`;
  if (env.platform === 'darwin') return `${head} Dawn uses Metal on macOS: a Mac from 2016 or later with macOS 11+ is needed.`;
  return `${head} Install a Vulkan driver and the Vulkan loader for this system.`;
}

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Points the Vulkan loader at SwiftShader if VK_ICD_FILENAMES is unset and the file exists. Returns whether it did. */
export function useSwiftShaderIfNoIcd(): boolean {
  if (process.platform !== 'linux' || process.env.VK_ICD_FILENAMES || !existsSync(SWIFTSHADER_ICD)) return false;
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  return true;
}

let dawn: GPU | undefined;

// Dawn offers chromium-experimental-subgroup-matrix (the GEMM's matrix-unit variant) only with unsafe APIs allowed, as
// Chrome does only with --enable-unsafe-webgpu. The toggle exposes experimental features; the engine requests only
// those it uses (src/gpu/device.ts OPTIONAL_FEATURES).
// REWARD_STUDIO_DAWN_BACKEND=vulkan|d3d12|metal picks Dawn's backend: on Windows Dawn defaults to Direct3D 12, which
// has no subgroup matrices; Vulkan (NVIDIA/AMD/Intel drivers) has them where the GPU does.
export const DAWN_DEFAULT_OPTIONS = ['enable-dawn-features=allow_unsafe_apis'];
const BACKENDS = ['vulkan', 'd3d12', 'd3d11', 'metal', 'opengl', 'opengles'];

export function dawnOptionsFromEnv(env: Record<string, string | undefined> = process.env): string[] {
  const b = env.REWARD_STUDIO_DAWN_BACKEND?.trim().toLowerCase();
  if (!b) return [];
  if (!BACKENDS.includes(b)) throw new Error(`REWARD_STUDIO_DAWN_BACKEND=${b}: unknown Dawn backend (use one of ${BACKENDS.join(', ')})`);
  return [`backend=${b}`];
}

async function createDawn(dawnOptions: string[]): Promise<GPU> {
  const webgpu = await import('webgpu');
  Object.assign(globalThis, webgpu.globals);
  return webgpu.create([...DAWN_DEFAULT_OPTIONS, ...dawnOptionsFromEnv(), ...dawnOptions]);
}

/**
 * A device from Dawn. With `swiftShaderFallback` (the CLI's default), a machine whose Vulkan drivers offer no usable
 * adapter retries once on SwiftShader when Debian's chromium provides it (slow, but it runs).
 */
export async function requestNodeGpu(opts: RequestGpuOptions & { dawnOptions?: string[]; swiftShaderFallback?: boolean } = {}): Promise<Gpu> {
  // Dawn's Vulkan backend warns without it on Linux; any writable folder will do.
  if (process.platform === 'linux' && !process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  dawn ??= await createDawn(opts.dawnOptions ?? []);
  const nodeMessage = (e: unknown) => (e instanceof WebGpuUnavailableError ? new WebGpuUnavailableError(noAdapterMessage(nodeGpuEnv())) : e);
  try {
    return await requestGpu(dawn, opts);
  } catch (e) {
    if (!opts.swiftShaderFallback || !useSwiftShaderIfNoIcd()) throw nodeMessage(e);
    console.error('[gpu] no hardware adapter; falling back to SwiftShader (CPU, slow)');
    dawn = await createDawn(opts.dawnOptions ?? []);
    try {
      return await requestGpu(dawn, opts);
    } catch (e2) {
      throw nodeMessage(e2);
    }
  }
}
