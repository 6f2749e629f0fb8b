// The GEMM autotuner (src/ops/matmul_tune.ts): a recorded choice is what gemmKernel plans with (its grid shows the
// tile) and gives the reference result; the noGemmAutotune flag restores the default; choices persist per adapter
// in a store (memory, and the Node JSON file) and are re-applied from it without timing; a timed run picks one of
// its candidates and records every candidate's time (the test never depends on which is faster).
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TILES, type TileName, gemmKernel, matmulForward, shapeClass } from '../../src/ops/matmul.ts';
import { type GemmShape, type TuneChoice, type TuneStore, adapterKey, autotuneGemm, clearGemmTuning, loadGemmTuning } from '../../src/ops/matmul_tune.ts';
import { fileTuneStore } from '../../src/ops/matmul_tune_node.ts';
import { matmulForwardRef } from '../../src/ops/matmul.ref.ts';
import { runKernels } from '../../src/gpu/kernel.ts';
import { setFlags } from '../../src/gpu/flags.ts';
import { Rng, randomArray } from '../../src/util/random.ts';
import { getTestGpu, f32Buffer, readF32 } from '../helpers/gpu.ts';
import { expectClose, roundF32 } from '../helpers/check.ts';

function memStore(): TuneStore & { data: Map<string, Record<string, TuneChoice>> } {
  const data = new Map<string, Record<string, TuneChoice>>();
  return { data, load: async (k) => data.get(k) ?? null, save: async (k, v) => void data.set(k, { ...v }) };
}

const [M, N, K] = [70, 40, 24];
const shape: GemmShape = { M, N, K, aKContig: true, bKContig: true, dtype: 'f32' };

describe('GEMM autotuner', () => {
  afterEach(async () => {
    setFlags({ noGemmAutotune: false });
    clearGemmTuning(await getTestGpu());
  });

  it('a forced choice is planned by gemmKernel, computes the reference result, and noGemmAutotune restores the default', async () => {
    const gpu = await getTestGpu();
    const rng = new Rng(4);
    const inp = roundF32(randomArray(rng, M * K)), w = roundF32(randomArray(rng, N * K));
    const inpB = f32Buffer(gpu, 'inp', inp), wB = f32Buffer(gpu, 'w', w), out = f32Buffer(gpu, 'out', new Float64Array(M * N));
    const defaultGrid = matmulForward(gpu, out, inpB, wB, M, N, K).dispatches[0].workgroups;
    const store = memStore();
    const res = await autotuneGemm(gpu, [shape, { ...shape, M: M + 1 }], { force: 'tall', allowCpu: true, store });
    expect(res.map((r) => r.choice)).toEqual(['tall']); // M+1 rounds to the same class
    const cls = shapeClass(M, N, K, 1, true, true, 'f32');
    expect(store.data.get(adapterKey(gpu))).toEqual({ [cls]: 'tall' });
    const k = matmulForward(gpu, out, inpB, wB, M, N, K);
    expect(k.dispatches[0].workgroups).toEqual([Math.ceil(N / 16), Math.ceil(M / 128), 1]); // the 128×16 tile
    expect(k.dispatches[0].workgroups).not.toEqual(defaultGrid);
    await runKernels(gpu, [k]);
    const ref = new Float64Array(M * N);
    matmulForwardRef(ref, inp, w, M, N, K);
    expectClose('out (tuned tile)', await readF32(gpu, out), ref, { atol: 1e-5, rtol: 1e-6 });
    // Another layout's class is untouched.
    const other = gemmKernel(gpu, { label: 'tt', c: out, ldc: N, M, N, K, a: { buffer: inpB, kContig: false, ld: M }, b: { buffer: wB, kContig: false, ld: N } });
    expect(other.dispatches[0].workgroups).toEqual(defaultGrid);
    setFlags({ noGemmAutotune: true });
    expect(matmulForward(gpu, out, inpB, wB, M, N, K).dispatches[0].workgroups).toEqual(defaultGrid);
  });

  it('stored choices are re-applied without timing; the Node JSON file round-trips and survives a damaged file', async () => {
    const gpu = await getTestGpu();
    const dir = await mkdtemp(join(tmpdir(), 'gemm-tune-'));
    const file = join(dir, 'sub', 'gemm-tune.json');
    const fs = fileTuneStore(file);
    await autotuneGemm(gpu, [shape], { force: 'tall', allowCpu: true, store: fs });
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, Record<string, string>>;
    expect(saved[adapterKey(gpu)]).toEqual({ [shapeClass(M, N, K, 1, true, true, 'f32')]: 'tall' });
    clearGemmTuning(gpu);
    expect(await loadGemmTuning(gpu, fileTuneStore(file))).toBe(1);
    // No candidates to time: the stored choice must come from the file.
    const res = await autotuneGemm(gpu, [shape], { allowCpu: true, store: fileTuneStore(file), candidates: [] });
    expect(res[0].choice).toBe('tall');
    expect(res[0].timings).toBeUndefined();
    await writeFile(file, '{not json');
    expect(await fileTuneStore(file).load(adapterKey(gpu))).toBeNull();
  });

  it('a timed run picks one of its candidates and reports every candidate time', async () => {
    const gpu = await getTestGpu();
    const store = memStore();
    const small: GemmShape = { M: 20, N: 12, K: 16, aKContig: true, bKContig: true, dtype: 'bf16' };
    const [r] = await autotuneGemm(gpu, [small], { allowCpu: true, store, reps: 1, candidates: ['tall', 'wide'] });
    expect(['tall', 'wide']).toContain(r.choice);
    expect(Object.keys(r.timings ?? {}).sort()).toEqual(['tall', 'wide']);
    for (const ms of Object.values(r.timings!)) expect(ms).toBeGreaterThan(0);
    expect(r.method).toBe(gpu.hasTimestamps ? 'timestamp' : 'wall');
    expect(Object.values(store.data.get(adapterKey(gpu))!)).toEqual([r.choice]);
    expect(TILES[r.choice as TileName]).toBeDefined(); // SwiftShader: no subgroup-matrix candidate
  });
});
