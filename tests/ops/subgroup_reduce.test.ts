// The subgroup variants' plumbing: the WGSL preprocessor of src/gpu/variants.ts, the per-device choice, the subgroup
// size and lane as shaders/subgroup_reduce.wgsl derives them (checked on this adapter), and bit-identical repeats of
// the subgroup rmsnorm. The numbers of each variant are checked against float64 in rmsnorm.test.ts and grad_norm.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import probeCode from '../../shaders/subgroup_layout_probe.wgsl?raw';
import { preprocess, useSubgroups, wgslVariant } from '../../src/gpu/variants.ts';
import { flags, setFlags } from '../../src/gpu/flags.ts';
import { runKernels, simpleKernel } from '../../src/gpu/kernel.ts';
import { createStorage, readU32 } from '../../src/gpu/buffers.ts';
import { rmsnormForward, rmsnormBackward } from '../../src/ops/rmsnorm.ts';
import { describeEngineFeatures, type Gpu } from '../../src/gpu/device.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { f32Buffer, getTestGpu, readF32 } from '../helpers/gpu.ts';
import { roundF32 } from '../helpers/check.ts';
import { gpuForVariant } from '../helpers/variants.ts';

describe('WGSL variants', () => {
  const SRC = ['a', '// #if SUBGROUPS', 'b', '  // #else', 'c', '// #endif', 'd'].join('\n');

  it('keeps the selected branch (line numbers kept: directives become blank lines)', () => {
    expect(preprocess('x', SRC, { SUBGROUPS: true }).split('\n')).toEqual(['a', '', 'b', '', '', '', 'd']);
    expect(preprocess('x', SRC, { SUBGROUPS: false }).split('\n')).toEqual(['a', '', '', '', 'c', '', 'd']);
    const v = wgslVariant('x', SRC, { subgroups: true });
    expect(v.startsWith('enable subgroups;\n')).toBe(true);
    expect(v).toContain('fn sg_workgroup_sum(');
    expect(wgslVariant('x', SRC, { subgroups: false })).not.toContain('subgroup');
  });

  it('names the shader and line of a malformed directive', () => {
    expect(() => preprocess('rmsnorm', '// #if F64\n// #endif', { SUBGROUPS: true })).toThrow(/rmsnorm\.wgsl line 1: unknown "\/\/ #if F64"/);
    expect(() => preprocess('s', '// #if SUBGROUPS\n// #if SUBGROUPS', { SUBGROUPS: true })).toThrow(/s\.wgsl line 2: nested/);
    expect(() => preprocess('s', 'a\n// #if SUBGROUPS\nb', { SUBGROUPS: true })).toThrow(/line 2 has no "\/\/ #endif"/);
    expect(() => preprocess('s', '// #else', { SUBGROUPS: true })).toThrow(/line 1: "\/\/ #else" without/);
  });
});

describe('choice of the variant per device', () => {
  const saved = flags.noSubgroups;
  afterEach(() => setFlags({ noSubgroups: saved }));
  const fake = (hasSubgroups: boolean) => ({ hasSubgroups }) as Gpu;

  it('subgroups where the device has them, unless flags.noSubgroups; an explicit choice wins', () => {
    setFlags({ noSubgroups: false });
    expect(useSubgroups(fake(true), undefined, 'k')).toBe(true);
    expect(useSubgroups(fake(false), undefined, 'k')).toBe(false);
    expect(useSubgroups(fake(true), false, 'k')).toBe(false);
    setFlags({ noSubgroups: true });
    expect(useSubgroups(fake(true), undefined, 'k')).toBe(false);
    expect(useSubgroups(fake(true), true, 'k')).toBe(true);
    expect(() => useSubgroups(fake(false), true, 'rmsnorm_forward')).toThrow(/rmsnorm_forward: the subgroup variant was requested but the device has no 'subgroups'/);
  });

  it('the kernels pick the subgroup pipeline by default on this adapter when it has subgroups', async (ctx) => {
    const gpu = await gpuForVariant(ctx, { subgroups: true });
    setFlags({ noSubgroups: false });
    const b = (n: number) => createStorage(gpu, 'b', n * 4);
    const label = () => rmsnormForward(gpu, b(64), b(2), b(64), b(32), 2, 32, 1e-6).dispatches[0].pipeline.label;
    expect(label()).toMatch(/^rmsnorm\+subgroups:forward/);
    setFlags({ noSubgroups: true });
    expect(label()).toMatch(/^rmsnorm:forward/);
  });
});

describe('subgroups on this adapter', () => {
  it('GpuInfo says what the engine uses (subgroups as the device has them) and flags SwiftShader as software', async () => {
    const gpu = await getTestGpu();
    const sg = gpu.info.engine.find((f) => f.name === 'subgroups');
    expect(sg?.using).toBe(gpu.hasSubgroups && !flags.noSubgroups);
    console.log(`this adapter: ${describeEngineFeatures(gpu)}`);
    if (/swiftshader/i.test(gpu.info.description + gpu.info.architecture)) {
      expect(gpu.info.software).toMatch(/SwiftShader, a software renderer on the CPU/);
      expect(gpu.info.subgroupMinSize).toBe(4);
    }
  });

  it('subgroupAdd(1) / subgroupExclusiveAdd(1) give the subgroup size and lane (what subgroup_reduce.wgsl uses)', async (ctx) => {
    const gpu = await gpuForVariant(ctx, { subgroups: true });
    for (const WG of [32, 64, 256]) {
      const out = createStorage(gpu, 'probe', WG * 16);
      const code = wgslVariant('subgroup_layout_probe', probeCode, { subgroups: true });
      await runKernels(gpu, [simpleKernel(gpu, { label: 'subgroup_layout_probe', code, constants: { WG } }, [out], null, [1, 1, 1])]);
      const o = await readU32(gpu, out, WG * 4);
      const S = o[0];
      if (WG === 256) console.log(`subgroup size on this adapter: ${S}`);
      expect(S >= 4 && S <= 128 && (S & (S - 1)) === 0, `subgroup size ${S} is a power of two in [4, 128]`).toBe(true);
      for (let lid = 0; lid < WG; lid++) {
        const [size, sgid, count, lane] = o.subarray(4 * lid, 4 * lid + 4);
        expect([count, lane], `WG ${WG}, invocation ${lid}: [subgroupAdd(1), subgroupExclusiveAdd(1)]`).toEqual([Math.min(size, WG), sgid]);
      }
    }
  });

  it('the subgroup rmsnorm gives identical bits run to run (forward, backward)', async (ctx) => {
    const gpu = await gpuForVariant(ctx, { subgroups: true });
    const N = 6, C = 1000;
    const rng = new Rng(9);
    const inp = f32Buffer(gpu, 'inp', roundF32(randomArray(rng, N * C, -3, 3)));
    const w = f32Buffer(gpu, 'w', roundF32(randomArray(rng, C, 0.5, 1.5)));
    const dout = f32Buffer(gpu, 'dout', roundF32(randomArray(rng, N * C)));
    const run = async () => {
      const out = createStorage(gpu, 'out', N * C * 4), rstd = createStorage(gpu, 'rstd', N * 4), dinp = createStorage(gpu, 'dinp', N * C * 4);
      await runKernels(gpu, [
        rmsnormForward(gpu, out, rstd, inp, w, N, C, 1e-6, { subgroups: true }),
        rmsnormBackward(gpu, dinp, null, null, dout, inp, w, rstd, N, C, { subgroups: true }),
      ]);
      return [...(await readF32(gpu, out)), ...(await readF32(gpu, rstd)), ...(await readF32(gpu, dinp))];
    };
    const a = await run(), b = await run();
    expect(b.every((x, i) => Object.is(x, a[i])), 'bit-identical').toBe(true);
  });
});
