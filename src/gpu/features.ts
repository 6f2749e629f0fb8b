// What the engine uses of the adapter's optional features, and why not when it does not: one summary for the studio's
// GPU status and the CLI. Pure (reads the GpuInfo that requestGpu filled in), so it is tested with fake adapters.
//   subgroups         the reductions' subgroup variants (rmsnorm row sums, gradient norm; src/gpu/variants.ts)
//   shader-f16        the GEMM's f16 weight tiles: 16-bit weights staged as f16 in workgroup memory (src/ops/f16_tiles.ts)
//   timestamp-query   GPU kernel times in the step benchmark (src/gpu/timer.ts); without it wall-clock times
//   subgroup matrices chromium-experimental-subgroup-matrix: the GEMM's matrix-unit variant for 16-bit weights
//                     (src/ops/matmul_sgmat.ts) once its self-test passed; browsers and Dawn offer the feature only
//                     with unsafe APIs allowed (Chrome --enable-unsafe-webgpu; Node: src/gpu/node.ts allows them)
import type { GpuInfo } from './device.ts';

export const SUBGROUP_MATRIX = 'chromium-experimental-subgroup-matrix';

/** One entry of GPUAdapterInfo.subgroupMatrixConfigurations (Chrome/Dawn, experimental). */
export interface SubgroupMatrixConfig {
  componentType: string;
  resultComponentType: string;
  M: number;
  N: number;
  K: number;
}

export interface EngineFeature {
  name: 'subgroups' | 'shader-f16' | 'timestamp-query' | 'subgroup matrices';
  /** The engine uses it on this device. */
  using: boolean;
  /** Short reason: what it is used for, or why not. */
  detail: string;
}

/** The adapter is a software fallback (CPU), not the GPU: the adapter says so, or its name is a known CPU driver. */
export function softwareAdapter(info: Pick<GpuInfo, 'vendor' | 'architecture' | 'device' | 'description' | 'fallback'>): string | null {
  const name = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  const known = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i.exec(name);
  if (!known && !info.fallback) return null;
  const what = known ? known[0].toLowerCase() === 'swiftshader' ? 'SwiftShader' : known[0] : 'a fallback adapter';
  return `WebGPU runs on ${what}, a software renderer on the CPU, not on the GPU: fine for tiny tests, far too slow for real training. ` +
    'Check chrome://gpu (hardware acceleration on, GPU driver current; on Linux start Chrome with ' +
    '--enable-features=Vulkan) or, in Node, that a Vulkan/D3D12/Metal driver for the GPU is installed.';
}

type Check = { ok: boolean; detail: string };

/** The largest f16→f32 subgroup-matrix configuration the adapter lists (null when none). */
export function chooseSgmatConfig(configs: SubgroupMatrixConfig[] | null): SubgroupMatrixConfig | null {
  const ok = (configs ?? []).filter((c) => c.componentType === 'f16' && c.resultComponentType === 'f32');
  ok.sort((a, b) => b.M * b.N * b.K - a.M * a.N * a.K);
  return ok[0] ?? null;
}

export function engineFeatures(info: GpuInfo, opts: { noSubgroups: boolean; noF16?: boolean; noSubgroupMatrix?: boolean; f16Check?: Check; sgmatCheck?: Check }): EngineFeature[] {
  const has = (f: string) => info.features.includes(f);
  const offered = (f: string) => info.adapterFeatures.includes(f);
  const notOffered = 'not offered by this adapter';
  const sizes = info.subgroupMinSize
    ? info.subgroupMinSize === info.subgroupMaxSize ? `size ${info.subgroupMinSize}` : `sizes ${info.subgroupMinSize}–${info.subgroupMaxSize}`
    : '';
  const subgroups: EngineFeature = has('subgroups')
    ? opts.noSubgroups
      ? { name: 'subgroups', using: false, detail: 'turned off (flag noSubgroups)' }
      : { name: 'subgroups', using: true, detail: `norm and grad-norm reductions${sizes ? `, ${sizes}` : ''}` }
    : { name: 'subgroups', using: false, detail: offered('subgroups') ? 'disabled when the device was requested' : notOffered };
  const f16: EngineFeature = has('shader-f16')
    ? opts.noF16
      ? { name: 'shader-f16', using: false, detail: 'turned off (flag noF16)' }
      : !opts.f16Check
        ? { name: 'shader-f16', using: false, detail: 'offered; the f16 weight tiles are used once their self-test passes (it runs when a model loads)' }
        : opts.f16Check.ok
          ? { name: 'shader-f16', using: true, detail: 'f16 weight tiles in the GEMM for frozen 16-bit weights (LoRA on f16/bf16 checkpoints; bf16 tensors when exact in f16 up to a power of two); self-test passed' }
          : { name: 'shader-f16', using: false, detail: `self-test failed on this driver (${opts.f16Check.detail}): the GEMM keeps f32 tiles` }
    : { name: 'shader-f16', using: false, detail: offered('shader-f16') ? 'disabled when the device was requested' : notOffered };
  const ts: EngineFeature = has('timestamp-query')
    ? { name: 'timestamp-query', using: true, detail: 'GPU kernel times in the benchmark' }
    : { name: 'timestamp-query', using: false, detail: `${offered('timestamp-query') ? 'disabled when the device was requested' : notOffered}: wall-clock times` };
  const configs = info.subgroupMatrixConfigs ?? [];
  const listed = configs.length ? configs.map(formatConfig).join(', ') : 'no configurations listed';
  const cfg = chooseSgmatConfig(configs);
  const off = (detail: string): EngineFeature => ({ name: 'subgroup matrices', using: false, detail });
  const matrices: EngineFeature = !offered(SUBGROUP_MATRIX)
    ? off('not offered: needs --enable-unsafe-webgpu in Chrome (Dawn: allow_unsafe_apis), a GPU with matrix units and a Vulkan or Metal backend (Dawn has none on Direct3D 12; the CLI on Windows: REWARD_STUDIO_DAWN_BACKEND=vulkan)')
    : !has(SUBGROUP_MATRIX)
      ? off(`offered (${listed}); disabled when the device was requested`)
      : !cfg
        ? off(`offered (${listed}); not used: the GEMM needs an f16→f32 configuration`)
        : !has('shader-f16') || !has('subgroups')
          ? off(`offered (${listed}); not used: the GEMM also needs shader-f16 and subgroups`)
          : opts.noSubgroupMatrix
            ? off('turned off (flag noSubgroupMatrix)')
            : opts.noF16
              ? off('not used: it stages weights as the f16 tiles do, which are turned off (flag noF16)')
            : !opts.sgmatCheck
              ? off(`offered (${formatConfig(cfg)}); used for 16-bit weights once its self-test passes (it runs when a model loads)`)
              : opts.sgmatCheck.ok
                ? { name: 'subgroup matrices', using: true, detail: `GEMM on ${formatConfig(cfg)} matrices for frozen 16-bit weights (A split into two f16 parts: f32-level accuracy); self-test passed` }
                : off(`self-test failed on this driver (${opts.sgmatCheck.detail}): the GEMM keeps its f32 kernel`);
  return [subgroups, f16, ts, matrices];
}

export function formatConfig(c: SubgroupMatrixConfig): string {
  return `${c.componentType}→${c.resultComponentType} ${c.M}×${c.N}×${c.K}`;
}

/** The one-line summary: `subgroups ✓ (…) · shader-f16 ✗ (…) · …`. */
export function engineFeaturesLine(list: EngineFeature[]): string {
  return list.map((f) => `${f.name} ${f.using ? '✓' : '✗'} (${f.detail})`).join(' · ');
}

/** Reads GPUAdapterInfo.subgroupMatrixConfigurations (Chrome) or .subgroupMatrixConfigs (Dawn) where present (experimental), else null. */
export function readSubgroupMatrixConfigs(ai: unknown): SubgroupMatrixConfig[] | null {
  // Chrome's name, then Dawn's (the webgpu npm package)
  const info = ai as { subgroupMatrixConfigurations?: unknown; subgroupMatrixConfigs?: unknown } | null;
  const list = info?.subgroupMatrixConfigurations ?? info?.subgroupMatrixConfigs;
  if (!list || typeof (list as Iterable<unknown>)[Symbol.iterator] !== 'function') return null;
  const out: SubgroupMatrixConfig[] = [];
  for (const c of list as Iterable<Record<string, unknown>>) {
    out.push({ componentType: String(c.componentType), resultComponentType: String(c.resultComponentType), M: Number(c.M), N: Number(c.N), K: Number(c.K) });
  }
  return out;
}
