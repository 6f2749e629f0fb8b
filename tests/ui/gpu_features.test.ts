// The GPU status summary (src/gpu/features.ts) for fake adapters: what the engine uses of the optional features and
// why not, the software-adapter warning, the one-line text the CLI prints, and reading subgroup matrix configurations.
import { describe, expect, it } from 'vitest';
import { engineFeatures, engineFeaturesLine, readSubgroupMatrixConfigs, softwareAdapter, SUBGROUP_MATRIX } from '../../src/gpu/features.ts';
import type { GpuInfo } from '../../src/gpu/device.ts';
import { dawnOptionsFromEnv } from '../../src/gpu/node.ts';

function info(o: Partial<GpuInfo>): GpuInfo {
  return {
    vendor: '', architecture: '', device: '', description: '', features: [], limits: {}, adapterFeatures: [],
    fallback: false, subgroupMinSize: 0, subgroupMaxSize: 0, subgroupMatrixConfigs: null, engine: [], software: null, ...o,
  };
}

const SWIFTSHADER = info({
  vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0',
  features: ['core-features-and-limits', 'subgroups', 'timestamp-query'], adapterFeatures: ['subgroups', 'subgroup-size-control', 'timestamp-query'],
  fallback: true, subgroupMinSize: 4, subgroupMaxSize: 4,
});
const RTX = info({
  vendor: 'nvidia', architecture: 'blackwell', description: 'NVIDIA GeForce RTX 5090',
  features: ['shader-f16', 'subgroups', 'timestamp-query', SUBGROUP_MATRIX], adapterFeatures: ['shader-f16', 'subgroups', 'timestamp-query', SUBGROUP_MATRIX],
  subgroupMinSize: 32, subgroupMaxSize: 32,
  subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 }, { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 }],
});
const INTEL_NO_TS = info({
  vendor: 'intel', architecture: 'gen-12lp', features: ['subgroups'], adapterFeatures: ['subgroups', 'shader-f16', 'timestamp-query'],
  subgroupMinSize: 8, subgroupMaxSize: 32,
});

describe('GPU feature summary', () => {
  it('SwiftShader: subgroups used (size 4), no f16, timestamps, matrices need unsafe APIs; a software warning', () => {
    const line = engineFeaturesLine(engineFeatures(SWIFTSHADER, { noSubgroups: false }));
    expect(line).toBe(
      'subgroups ✓ (norm and grad-norm reductions, size 4) · shader-f16 ✗ (not offered by this adapter) · ' +
        'timestamp-query ✓ (GPU kernel times in the benchmark) · subgroup matrices ✗ (not offered: needs ' +
        '--enable-unsafe-webgpu in Chrome (Dawn: allow_unsafe_apis), a GPU with matrix units and a Vulkan or Metal ' +
        'backend (Dawn has none on Direct3D 12; the CLI on Windows: REWARD_STUDIO_DAWN_BACKEND=vulkan))',
    );
    expect(softwareAdapter(SWIFTSHADER)).toMatch(/^WebGPU runs on SwiftShader, a software renderer on the CPU, not on the GPU/);
  });

  it('a GPU with subgroup matrices: f16 weight tiles and the matrix GEMM used once their self-tests passed; why not otherwise; no warning', () => {
    const sgOk = { ok: true, detail: '3 products within f32 accuracy of float64' };
    const list = engineFeatures(RTX, { noSubgroups: false, f16Check: { ok: true, detail: 'bit-identical on 3 products' }, sgmatCheck: sgOk });
    expect(list.map((f) => [f.name, f.using])).toEqual([['subgroups', true], ['shader-f16', true], ['timestamp-query', true], ['subgroup matrices', true]]);
    expect(list[0].detail).toBe('norm and grad-norm reductions, size 32');
    expect(list[1].detail).toBe('f16 weight tiles in the GEMM for frozen 16-bit weights (LoRA on f16/bf16 checkpoints; bf16 tensors when exact in f16 up to a power of two); self-test passed');
    // before the self-test, and after a failed one: not used, and why
    expect(engineFeatures(RTX, { noSubgroups: false })[1]).toEqual({ name: 'shader-f16', using: false, detail: 'offered; the f16 weight tiles are used once their self-test passes (it runs when a model loads)' });
    expect(engineFeatures(RTX, { noSubgroups: false, f16Check: { ok: false, detail: 'bf16 37×70×96: element 5 is 1 with f16 tiles, 2 with f32 tiles' } })[1])
      .toEqual({ name: 'shader-f16', using: false, detail: 'self-test failed on this driver (bf16 37×70×96: element 5 is 1 with f16 tiles, 2 with f32 tiles): the GEMM keeps f32 tiles' });
    expect(engineFeatures(RTX, { noSubgroups: false, noF16: true })[1]).toEqual({ name: 'shader-f16', using: false, detail: 'turned off (flag noF16)' });
    expect(list[3].detail).toBe('GEMM on f16→f32 16×16×16 matrices for frozen 16-bit weights (A split into two f16 parts: f32-level accuracy); self-test passed');
    const sm = (o: Parameters<typeof engineFeatures>[1], i = RTX) => engineFeatures(i, o)[3].detail;
    expect(sm({ noSubgroups: false })).toBe('offered (f16→f32 16×16×16); used for 16-bit weights once its self-test passes (it runs when a model loads)');
    expect(sm({ noSubgroups: false, sgmatCheck: { ok: false, detail: 'bf16 37×70×96: element (0, 0) is 0.5, float64 says 0.25' } }))
      .toBe('self-test failed on this driver (bf16 37×70×96: element (0, 0) is 0.5, float64 says 0.25): the GEMM keeps its f32 kernel');
    expect(sm({ noSubgroups: false, noSubgroupMatrix: true, sgmatCheck: sgOk })).toBe('turned off (flag noSubgroupMatrix)');
    expect(sm({ noSubgroups: false, noF16: true })).toBe('not used: it stages weights as the f16 tiles do, which are turned off (flag noF16)');
    expect(sm({ noSubgroups: false }, { ...RTX, features: RTX.features.filter((f) => f !== SUBGROUP_MATRIX) })).toBe('offered (f16→f16 16×16×16, f16→f32 16×16×16); disabled when the device was requested');
    expect(sm({ noSubgroups: false }, { ...RTX, subgroupMatrixConfigs: [{ componentType: 'f16', resultComponentType: 'f16', M: 8, N: 8, K: 8 }] }))
      .toBe('offered (f16→f16 8×8×8); not used: the GEMM needs an f16→f32 configuration');
    expect(sm({ noSubgroups: false }, { ...RTX, features: RTX.features.filter((f) => f !== 'shader-f16') }))
      .toBe('offered (f16→f16 16×16×16, f16→f32 16×16×16); not used: the GEMM also needs shader-f16 and subgroups');
    expect(softwareAdapter(RTX)).toBeNull();
  });

  it('features offered but not on the device say so; the noSubgroups flag is named; size ranges', () => {
    const list = engineFeatures(INTEL_NO_TS, { noSubgroups: false });
    expect(list[0].detail).toBe('norm and grad-norm reductions, sizes 8–32');
    expect(list[1].detail).toBe('disabled when the device was requested');
    expect(list[2]).toEqual({ name: 'timestamp-query', using: false, detail: 'disabled when the device was requested: wall-clock times' });
    expect(engineFeatures(INTEL_NO_TS, { noSubgroups: true })[0]).toEqual({ name: 'subgroups', using: false, detail: 'turned off (flag noSubgroups)' });
    expect(engineFeatures(info({}), { noSubgroups: false })[0]).toEqual({ name: 'subgroups', using: false, detail: 'not offered by this adapter' });
  });

  it('software adapters by flag or by name (llvmpipe, WARP); real GPUs are not flagged', () => {
    expect(softwareAdapter(info({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }))).toMatch(/runs on llvmpipe/);
    expect(softwareAdapter(info({ description: 'Microsoft Basic Render Driver' }))).toMatch(/runs on Microsoft Basic Render/);
    expect(softwareAdapter(info({ vendor: 'x', fallback: true }))).toMatch(/runs on a fallback adapter/);
    expect(softwareAdapter(info({ vendor: 'amd', architecture: 'rdna-3', description: 'AMD Radeon RX 7900 XTX' }))).toBeNull();
    expect(softwareAdapter(info({ vendor: 'apple', architecture: 'metal-3', description: 'Apple M2 Max' }))).toBeNull();
  });

  it('reads subgroup matrix configurations where the adapter info lists them, else null', () => {
    expect(readSubgroupMatrixConfigs({})).toBeNull();
    expect(readSubgroupMatrixConfigs(null)).toBeNull();
    const set = new Set([{ componentType: 'f16', resultComponentType: 'f16', M: 8, N: 8, K: 8 }, { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 }]);
    expect(readSubgroupMatrixConfigs({ subgroupMatrixConfigurations: set })).toEqual([...set]);
    expect(readSubgroupMatrixConfigs({ subgroupMatrixConfigs: [...set] })).toEqual([...set]); // Dawn's name (webgpu npm)
  });

  it('REWARD_STUDIO_DAWN_BACKEND picks Dawn\'s backend (Vulkan on Windows for subgroup matrices); a typo is named', () => {
    expect(dawnOptionsFromEnv({})).toEqual([]);
    expect(dawnOptionsFromEnv({ REWARD_STUDIO_DAWN_BACKEND: ' Vulkan ' })).toEqual(['backend=vulkan']);
    expect(() => dawnOptionsFromEnv({ REWARD_STUDIO_DAWN_BACKEND: 'vulcan' })).toThrow(/REWARD_STUDIO_DAWN_BACKEND=vulcan: unknown Dawn backend \(use one of vulkan, d3d12/);
  });
});
