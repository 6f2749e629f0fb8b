// Feature variants of a kernel in the tests: each case runs once per variant against the same float64 reference.
// A variant whose feature the adapter lacks is reported plainly and skipped (the portable variant still runs); no
// adapter at all still fails (getTestGpu).
import type { TestContext } from 'vitest';
import type { Gpu } from '../../src/gpu/device.ts';
import { getTestGpu } from './gpu.ts';

export interface ReductionVariant {
  name: 'tree' | 'subgroups';
  subgroups: boolean;
}

/** The workgroup-tree reductions (every adapter) and the subgroup ones (adapters with `subgroups`). */
export const REDUCTION_VARIANTS: ReductionVariant[] = [
  { name: 'tree', subgroups: false },
  { name: 'subgroups', subgroups: true },
];

const told = new Set<string>();

/** The adapter in a few words, for "not offered by this adapter (…)" lines. */
export function adapterName(gpu: Gpu): string {
  const i = gpu.info;
  return [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unknown adapter';
}

/**
 * The test GPU for `variant`; when the adapter lacks its feature: says so once per file and feature, and skips the
 * case (the portable variant still runs). REWARD_STUDIO_EXPECT_F16=1 (npm test's lavapipe pass) makes a missing
 * shader-f16 a failure instead.
 */
export async function gpuForVariant(ctx: TestContext, variant: { subgroups?: boolean; f16?: boolean }): Promise<Gpu> {
  const gpu = await getTestGpu();
  const missing = variant.subgroups && !gpu.hasSubgroups ? 'subgroups' : variant.f16 && !gpu.hasF16 ? 'shader-f16' : null;
  if (missing) {
    const line = `${missing} not offered by this adapter (${adapterName(gpu)}): ${missing === 'subgroups' ? 'subgroup' : 'f16'} variant not tested here`;
    if (missing === 'shader-f16' && process.env.REWARD_STUDIO_EXPECT_F16) throw new Error(`${line}, but REWARD_STUDIO_EXPECT_F16 says this adapter should offer it`);
    const key = `${ctx.task.file?.name ?? ''}|${missing}`;
    if (!told.has(key)) console.log(line);
    told.add(key);
    ctx.skip(line);
  }
  return gpu;
}
