// One way to get a WebGPU device, in the browser (navigator.gpu) and in Node (pass the `webgpu` package's GPU,
// see ./node.ts). Requests the limits the engine needs up to what the adapter offers, the optional features
// shader-f16 / subgroups / timestamp-query when present, and turns device loss and uncaptured errors into
// readable messages. GpuInfo also carries what the engine uses of the optional features and why not
// (./features.ts), for the studio's GPU status and the CLI.
import { SUBGROUP_MATRIX, engineFeatures, engineFeaturesLine, readSubgroupMatrixConfigs, softwareAdapter, type EngineFeature, type SubgroupMatrixConfig } from './features.ts';
import { flags } from './flags.ts';

export class WebGpuUnavailableError extends Error {
  override name = 'WebGpuUnavailableError';
}

export class GpuError extends Error {
  override name = 'GpuError';
  constructor(
    message: string,
    readonly kind: 'validation' | 'out-of-memory' | 'internal' | 'device-lost',
    readonly label: string,
  ) {
    super(message);
  }
}

export interface GpuInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** Features of the device (those the engine requested and got). */
  features: string[];
  limits: Record<string, number>;
  /** Features the adapter offered (may include some the engine does not request, e.g. subgroup matrices). */
  adapterFeatures: string[];
  /** GPUAdapterInfo.isFallbackAdapter (a software adapter). */
  fallback: boolean;
  /** Subgroup sizes the adapter reports (0 when unknown). */
  subgroupMinSize: number;
  subgroupMaxSize: number;
  /** chromium-experimental-subgroup-matrix configurations, null where the adapter lists none. */
  subgroupMatrixConfigs: SubgroupMatrixConfig[] | null;
  /** What the engine uses of the optional features, and why not (./features.ts). */
  engine: EngineFeature[];
  /** A warning when the adapter is a software fallback (SwiftShader, …) rather than the GPU; null on a GPU. */
  software: string | null;
}

export interface Gpu {
  device: GPUDevice;
  info: GpuInfo;
  hasF16: boolean;
  hasSubgroups: boolean;
  hasTimestamps: boolean;
  /** The f16 weight tiles' self-test on this device (src/ops/f16_check.ts): undefined until it ran. The GEMM uses
   *  f16 tiles by default only after it passed (bit-identical to the f32 tiles on this driver). */
  f16Check?: { ok: boolean; detail: string };
  /** The device has chromium-experimental-subgroup-matrix (requested wherever the adapter offers it). */
  hasSubgroupMatrix: boolean;
  /** The subgroup-matrix GEMM's self-test on this device (src/ops/sgmat_check.ts): undefined until it ran (or where the
   *  variant cannot run). The GEMM uses the variant by default only after it passed. */
  sgmatCheck?: { ok: boolean; detail: string };
  /** Set once the device is lost; every later call should fail with it. */
  lost: GpuError | null;
  /** Set by simulateDeviceLoss (fault injection): its device.destroy() counts as a loss. */
  simulatedLoss?: string;
}

const LOST_ADVICE = 'Training state up to the last checkpoint is safe: resume the run (the studio requests a new device; the CLI takes --resume).';

/**
 * Fault injection (flags.ts `device-lost@step:N`): destroys the device the way a driver reset loses it. The loss is
 * reported at once (gpu.lost, onLost) and again when the device's lost promise settles.
 */
export function simulateDeviceLoss(gpu: Gpu, where: string): void {
  gpu.simulatedLoss = where;
  gpu.lost ??= new GpuError(`The GPU device was lost (injected device.destroy() at ${where}). ${LOST_ADVICE}`, 'device-lost', 'device');
  gpu.device.destroy();
}

/** Limits the engine asks for: as much as the adapter offers. */
export const REQUESTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
] as const;

// chromium-experimental-subgroup-matrix: offered only with unsafe APIs allowed (Chrome --enable-unsafe-webgpu; Dawn in
// Node: allow_unsafe_apis, src/gpu/node.ts). Requesting it changes nothing for pipelines that do not use it.
export const OPTIONAL_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups', 'timestamp-query', SUBGROUP_MATRIX as GPUFeatureName];

export const NO_WEBGPU_HINT =
  'WebGPU is not available here. Use Chrome or Edge 113+ (on Linux start Chrome with --enable-unsafe-webgpu ' +
  '--enable-features=Vulkan), open the studio from http://localhost (WebGPU needs a secure context), and check ' +
  'chrome://gpu. In Node, install the `webgpu` package; without a GPU on Linux, install Debian\'s chromium ' +
  '(apt-get install -y chromium) and set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json.';

export interface RequestGpuOptions {
  powerPreference?: GPUPowerPreference;
  /** Disable optional features, e.g. to test the f32-only path on a GPU that has shader-f16. */
  disableFeatures?: GPUFeatureName[];
  onLost?: (err: GpuError) => void;
}

export async function requestGpu(gpuApi: GPU | undefined, opts: RequestGpuOptions = {}): Promise<Gpu> {
  if (!gpuApi) throw new WebGpuUnavailableError(NO_WEBGPU_HINT);
  const adapter = await gpuApi.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new WebGpuUnavailableError(`No WebGPU adapter was found. ${NO_WEBGPU_HINT}`);

  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  const disabled = new Set(opts.disableFeatures ?? []);
  // subgroup matrices depend on subgroups: not without it
  if (disabled.has('subgroups')) disabled.add(SUBGROUP_MATRIX as GPUFeatureName);
  const requiredFeatures = OPTIONAL_FEATURES.filter((f) => adapter.features.has(f) && !disabled.has(f));
  const device = await adapter.requestDevice({ label: 'reward-studio', requiredFeatures, requiredLimits });

  const ai = adapter.info ?? ({} as GPUAdapterInfo);
  const limits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) limits[name] = (device.limits as unknown as Record<string, number>)[name];
  const extra = ai as GPUAdapterInfo & { isFallbackAdapter?: boolean; subgroupMinSize?: number; subgroupMaxSize?: number };
  const info: GpuInfo = {
    vendor: ai.vendor ?? '',
    architecture: ai.architecture ?? '',
    device: ai.device ?? '',
    description: ai.description ?? '',
    features: [...device.features].map(String).sort(),
    limits,
    adapterFeatures: [...adapter.features].map(String).sort(),
    fallback: Boolean(extra.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter),
    subgroupMinSize: extra.subgroupMinSize ?? 0,
    subgroupMaxSize: extra.subgroupMaxSize ?? 0,
    subgroupMatrixConfigs: readSubgroupMatrixConfigs(ai),
    engine: [],
    software: null,
  };
  info.engine = engineFeatures(info, { noSubgroups: flags.noSubgroups, noF16: flags.noF16, noSubgroupMatrix: flags.noSubgroupMatrix });
  info.software = softwareAdapter(info);
  const gpu: Gpu = {
    device,
    info,
    hasF16: device.features.has('shader-f16'),
    hasSubgroups: device.features.has('subgroups'),
    hasTimestamps: device.features.has('timestamp-query'),
    hasSubgroupMatrix: device.features.has(SUBGROUP_MATRIX),
    lost: null,
  };
  device.lost.then((info) => {
    if (info.reason === 'destroyed' && !gpu.simulatedLoss) return;
    gpu.lost ??= new GpuError(
      `The GPU device was lost (${info.message || info.reason}). This happens when the driver resets ` +
        `(a kernel ran too long, or the GPU ran out of memory). ${LOST_ADVICE}`,
      'device-lost',
      'device',
    );
    opts.onLost?.(gpu.lost);
  });
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    console.error(`[webgpu] uncaptured ${e.constructor.name}: ${e.message}`);
  });
  return gpu;
}

/** Recomputes gpu.info.engine after a self-test ran (the f16 tiles', the subgroup-matrix GEMM's) or a flag changed. */
export function refreshEngineFeatures(gpu: Gpu): void {
  gpu.info.engine = engineFeatures(gpu.info, {
    noSubgroups: flags.noSubgroups, noF16: flags.noF16, noSubgroupMatrix: flags.noSubgroupMatrix, f16Check: gpu.f16Check, sgmatCheck: gpu.sgmatCheck,
  });
}

/** What the engine uses of the optional features, one line (the CLI prints it beside describeGpu). */
export function describeEngineFeatures(gpu: Gpu): string {
  return engineFeaturesLine(gpu.info.engine);
}

/** One line describing the adapter, for logs and benchmark headers. */
export function describeGpu(gpu: Gpu): string {
  const i = gpu.info;
  const name = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ');
  return `${name || 'unknown adapter'} [${i.features.join(', ') || 'core'}]`;
}

/**
 * Runs `fn` inside validation and out-of-memory error scopes and throws a GpuError naming `label` if either
 * caught something. Use around allocation and the first recording of a plan, not around every step.
 */
export async function checked<T>(gpu: Gpu, label: string, fn: () => T | Promise<T>): Promise<T> {
  if (gpu.lost) throw gpu.lost;
  const d = gpu.device;
  d.pushErrorScope('internal');
  d.pushErrorScope('out-of-memory');
  d.pushErrorScope('validation');
  let result: T | undefined;
  let thrown: unknown = null;
  try {
    result = await fn();
  } catch (e) {
    thrown = e;
  }
  // Pop the scopes whatever happened, so they never leak; a GPU error explains a JS error, so it wins.
  const validation = await d.popErrorScope();
  const oom = await d.popErrorScope();
  const internal = await d.popErrorScope();
  if (oom) throw new GpuError(`${label}: GPU out of memory: ${oom.message}. Lower per_device_train_batch_size or max_length, or turn on gradient_checkpointing.`, 'out-of-memory', label);
  if (validation) throw new GpuError(`${label}: ${validation.message}`, 'validation', label);
  if (internal) throw new GpuError(`${label}: internal GPU error: ${internal.message}`, 'internal', label);
  if (thrown) throw thrown;
  return result as T;
}
