// The GEMM's subgroup-matrix variant (shaders/matmul_sgmat.wgsl: the GPU's matrix units through
// chromium-experimental-subgroup-matrix, f16 operands, f32 accumulation, f32-accurate by splitting A into two f16
// parts). gemmKernel (./matmul.ts) runs it for products whose B is a 16-bit weight it may stage as f16 (./f16_tiles.ts)
// when the device has the feature, an f16→f32 configuration, shader-f16 and subgroups, and this variant's self-test
// passed on the device (./sgmat_check.ts); everything else keeps the tiled f32 kernel. Test: tests/sgmat/.
import shaderCode from '../../shaders/matmul.wgsl?raw';
import sgmatCode from '../../shaders/matmul_sgmat.wgsl?raw';
import commonMath from '../../shaders/common_math.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { chooseSgmatConfig, type SubgroupMatrixConfig } from '../gpu/features.ts';
import { flags } from '../gpu/flags.ts';
import { preprocess } from '../gpu/variants.ts';

/** The subgroup-matrix tile of a device: one f16→f32 configuration and how many result matrices a subgroup owns. */
export interface SgmatTile {
  config: SubgroupMatrixConfig;
  /** Result matrices per subgroup along rows / columns; contraction steps per staged slice. */
  rm: number;
  rn: number;
  ksteps: number;
  /** Threads per workgroup: 4 subgroups of the adapter's largest size. */
  threads: number;
}

/** The workgroup's output tile (4 subgroups in a 2×2 arrangement) and its contraction slice. */
export function sgmatBlock(t: SgmatTile): { BM: number; BN: number; BK: number } {
  return { BM: 2 * t.rm * t.config.M, BN: 2 * t.rn * t.config.N, BK: t.ksteps * t.config.K };
}

/** Why the device cannot run the variant at all, or null when it can (the self-test still has to pass). */
export function sgmatUnavailable(gpu: Gpu): string | null {
  if (!gpu.hasSubgroupMatrix) return 'the device has no chromium-experimental-subgroup-matrix feature';
  if (!gpu.hasF16) return 'subgroup matrices with f16 operands need shader-f16, which the device lacks';
  if (!gpu.hasSubgroups) return 'subgroup matrices need the subgroups feature, which the device lacks';
  if (!chooseSgmatConfig(gpu.info.subgroupMatrixConfigs)) return 'the adapter lists no f16→f32 subgroup-matrix configuration';
  if (!(gpu.info.subgroupMaxSize > 0)) return 'the adapter reports no subgroup size';
  return null;
}

/** The device's tile: 2×2 result matrices per subgroup, two contraction steps per slice while workgroup memory allows. */
export function sgmatTile(gpu: Gpu): SgmatTile {
  const config = chooseSgmatConfig(gpu.info.subgroupMatrixConfigs);
  if (!config) throw new Error(`subgroup-matrix GEMM: ${sgmatUnavailable(gpu)}`);
  const threads = 4 * gpu.info.subgroupMaxSize;
  const t: SgmatTile = { config, rm: 2, rn: 2, ksteps: 2, threads };
  if (sgmatSharedBytes(t) > gpu.device.limits.maxComputeWorkgroupStorageSize) t.ksteps = 1;
  return t;
}

/** Workgroup memory (bytes) of the variant: A hi and lo and B as f16, one f32 result matrix per subgroup, the row
 *  maxima and scales. */
export function sgmatSharedBytes(t: SgmatTile): number {
  const { BM, BN, BK } = sgmatBlock(t);
  return 2 * (2 * BM * BK + BN * BK) + 4 * 4 * t.config.M * t.config.N + 8 * BM;
}

/**
 * Whether gemmKernel runs a product with 16-bit B (already eligible for f16 staging) on subgroup matrices:
 * `requested` (a test's choice: true throws where it cannot run) or the device default — available, flag
 * noSubgroupMatrix off, and the self-test passed on this device (gpu.sgmatCheck).
 */
export function useSgmat(gpu: Gpu, requested: boolean | undefined, label: string): boolean {
  if (requested === true) {
    const why = sgmatUnavailable(gpu);
    if (why) throw new Error(`${label}: the subgroup-matrix GEMM was requested but ${why}`);
    return true;
  }
  if (requested === false || flags.noSubgroupMatrix) return false;
  return sgmatUnavailable(gpu) === null && gpu.sgmatCheck?.ok === true;
}

const codeCache = new Map<string, string>();

/** The shader text for a tile: enables, the tile's constants, matmul.wgsl's f16 variant, the variant's entries. */
export function sgmatShader(t: SgmatTile): string {
  const c = t.config;
  const key = `${c.M}x${c.N}x${c.K}|${t.rm}|${t.rn}|${t.ksteps}|${t.threads}`;
  let code = codeCache.get(key);
  if (code === undefined) {
    code = [
      'enable f16;',
      'enable chromium_experimental_subgroup_matrix;',
      'diagnostic(off, chromium_experimental.subgroup_matrix_uniformity);',
      `const SM_M = ${c.M}u; const SM_N = ${c.N}u; const SM_K = ${c.K}u;`,
      `const RM = ${t.rm}u; const RN = ${t.rn}u; const KSTEPS = ${t.ksteps}u; const SG_THREADS = ${t.threads}u;`,
      preprocess('matmul', shaderCode, { F16: true }),
      sgmatCode,
      commonMath,
    ].join('\n');
    codeCache.set(key, code);
  }
  return code;
}
