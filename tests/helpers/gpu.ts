// The test GPU: Dawn in Node, SwiftShader when no other Vulkan driver is chosen. No adapter → the test fails
// with the fix (never skips). TEST_DISABLE_FEATURES=subgroups,shader-f16 runs the tests as on an adapter without those
// features (the feature variants then say they were not run).
import { requestNodeGpu, useSwiftShaderIfNoIcd } from '../../src/gpu/node.ts';
import type { Gpu } from '../../src/gpu/device.ts';
import { uploadBuffer, readF32 } from '../../src/gpu/buffers.ts';

let cached: Promise<Gpu> | undefined;

export function getTestGpu(): Promise<Gpu> {
  if (!cached) {
    useSwiftShaderIfNoIcd();
    const disableFeatures = (process.env.TEST_DISABLE_FEATURES ?? '').split(',').filter(Boolean) as GPUFeatureName[];
    cached = requestNodeGpu({ disableFeatures }).catch((e: Error) => {
      throw new Error(
        `${e.message}\nThe GPU tests need a WebGPU adapter. On Linux without a GPU: apt-get update && ` +
          'apt-get install -y chromium libvulkan1, then run the tests through `npm test` (it sets ' +
          'VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json).',
      );
    });
  }
  return cached;
}

/** Uploads a float64 array as f32. */
export function f32Buffer(gpu: Gpu, label: string, data: ArrayLike<number>): GPUBuffer {
  return uploadBuffer(gpu, label, Float32Array.from(data));
}

export function u32Buffer(gpu: Gpu, label: string, data: ArrayLike<number>): GPUBuffer {
  return uploadBuffer(gpu, label, Uint32Array.from(data));
}

export { readF32 };
