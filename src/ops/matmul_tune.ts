// GEMM autotuner: for each shape class (layout, B dtype, M/N/K rounded up to powers of two; see shapeClass in
// ./matmul.ts) it times a few candidate tiles on this adapter, once, and records the fastest with setTunedTile, so
// every product planned afterwards without an explicit tile uses it (gemmKernel → resolveTile). Choices persist in
// a TuneStore keyed by the adapter (vendor, architecture, device, description: a driver update that changes the
// description re-tunes): IndexedDB in the browser (idbTuneStore), a JSON file in Node (./matmul_tune_node.ts).
// Deterministic: a choice never changes a result's bits run to run (every tile sums in the same order, see
// shaders/matmul.wgsl), the timing only picks which tile runs; ties keep the earlier candidate. The flag
// `noGemmAutotune` (src/gpu/flags.ts) ignores tuned choices; tests force tiles and never depend on timing.
// CPU adapters (SwiftShader) are never tuned: they always get the CPU tile of ./matmul.ts.
// Where the subgroup-matrix GEMM (./matmul_sgmat.ts) can run (16-bit B, self-test passed), it is one more candidate:
// the choice is then 'sgmat', or the fastest tile with the variant ruled out for that class ('<tile>+nosgmat'), so a
// device whose matrix units do not beat its tiles keeps the tiled kernel (the variant's results differ from the
// tiles' in rounding only: f32-level, not bit-identical).
import type { Gpu } from '../gpu/device.ts';
import { destroyKernels } from '../gpu/kernel.ts';
import { createStorage } from '../gpu/buffers.ts';
import { type TimingMethod, timeGpu } from '../gpu/timer.ts';
import { type TileConfig, type TileName, type WeightDtype, TILES, checkTile, clearTunedTiles, gemmKernel, isCpuDevice, setTunedSgmat, setTunedTile, shapeClass, tileSharedBytes } from './matmul.ts';
import { useSgmat } from './matmul_sgmat.ts';
import { bf16ScaleRange, recordBf16Range } from './f16_tiles.ts';

/** What a shape class runs: a tile; the subgroup-matrix variant; or a tile that was timed faster than the variant. */
export type TuneChoice = TileName | 'sgmat' | `${TileName}+nosgmat`;
/** A candidate the tuner times: a tile, or the subgroup-matrix variant. */
export type Candidate = TileName | 'sgmat';

/** One product to tune for: C(M,N) = A·Bᵀ with A/B contraction-contiguous or not, B's dtype. */
export interface GemmShape {
  M: number;
  N: number;
  K: number;
  batch?: number;
  aKContig: boolean;
  bKContig: boolean;
  dtype: WeightDtype;
}

/** Persistent choices: per adapter key, shape class → choice. */
export interface TuneStore {
  load(adapter: string): Promise<Record<string, TuneChoice> | null>;
  save(adapter: string, choices: Record<string, TuneChoice>): Promise<void>;
}

/** What identifies an adapter (and its driver) for the cache. */
export function adapterKey(gpu: Gpu): string {
  const i = gpu.info;
  return [i.vendor, i.architecture, i.device, i.description].map((s) => s || '?').join('|');
}

/**
 * Candidates for a shape: the GPU tiles of ./matmul.ts that fit the device and are not far too big for it, and the
 * subgroup-matrix variant for 16-bit B where it may run on this device.
 */
export function candidates(gpu: Gpu, s: GemmShape): Candidate[] {
  const sgmat: Candidate[] = s.dtype !== 'f32' && gpu.hasF16 && useSgmat(gpu, undefined, 'autotune') ? ['sgmat'] : [];
  return [...tileCandidates(gpu, s), ...sgmat];
}

function tileCandidates(gpu: Gpu, s: GemmShape): TileName[] {
  const lim = gpu.device.limits;
  return (Object.keys(TILES) as TileName[]).filter((name) => {
    const t: TileConfig = TILES[name];
    if (t.wgM * t.wgN > lim.maxComputeInvocationsPerWorkgroup || tileSharedBytes(t) > lim.maxComputeWorkgroupStorageSize) return false;
    // Skinny tiles only for skinny products and the other way round.
    if (name === 'tall') return s.N <= 32;
    if (name === 'wide') return s.M <= 32;
    return s.M > 16 && s.N > 16;
  });
}

export interface TuneResult {
  shapeClass: string;
  choice: TuneChoice;
  /** ms per product of each candidate timed (absent: came from the store). */
  timings?: Partial<Record<Candidate, number>>;
  method?: TimingMethod;
}

const applied = new WeakMap<GPUDevice, Map<string, TuneChoice>>();

/** The tile and the verdict on the subgroup-matrix variant a choice stands for (null: not a valid choice). */
export function parseChoice(choice: string): { tile: TileName | null; sgmat: boolean | null } | null {
  if (choice === 'sgmat') return { tile: null, sgmat: true };
  const [name, rest] = choice.split('+');
  if (!(name in TILES) || (rest !== undefined && rest !== 'nosgmat')) return null;
  return { tile: name as TileName, sgmat: rest === 'nosgmat' ? false : null };
}

function apply(gpu: Gpu, cls: string, choice: TuneChoice): void {
  const c = parseChoice(choice)!;
  let m = applied.get(gpu.device);
  if (!m) applied.set(gpu.device, (m = new Map()));
  m.set(cls, choice);
  setTunedTile(gpu, cls, c.tile ? TILES[c.tile] : null);
  setTunedSgmat(gpu, cls, c.sgmat);
}

/** Forgets every tuned choice of this device. */
export function clearGemmTuning(gpu: Gpu): void {
  applied.delete(gpu.device);
  clearTunedTiles(gpu);
}

/** Loads the stored choices for this adapter and applies them. Returns how many were applied. */
export async function loadGemmTuning(gpu: Gpu, store: TuneStore): Promise<number> {
  const saved = (await store.load(adapterKey(gpu))) ?? {};
  let n = 0;
  for (const [cls, choice] of Object.entries(saved)) {
    if (parseChoice(choice)) {
      apply(gpu, cls, choice);
      n++;
    }
  }
  return n;
}

export interface TuneOptions {
  store?: TuneStore;
  /** Timed repetitions per candidate (default 10). */
  reps?: number;
  /** Skip timing: record this tile for every class (deterministic, for tests and reproducible runs). */
  force?: TileName;
  /** Candidates to time instead of candidates(gpu, shape). */
  candidates?: Candidate[];
  /** Tune a CPU adapter too (tests of the tuner on SwiftShader; normally CPU adapters keep the CPU tile). */
  allowCpu?: boolean;
  log?: (line: string) => void;
}

/**
 * Makes sure every shape's class has a tile choice: stored ones are applied, the rest are timed now (each
 * candidate `reps` times on scratch buffers of the shape's size, GPU timestamps where available) and saved.
 */
export async function autotuneGemm(gpu: Gpu, shapes: GemmShape[], opts: TuneOptions = {}): Promise<TuneResult[]> {
  if (isCpuDevice(gpu) && !opts.allowCpu) return [];
  if (opts.store) await loadGemmTuning(gpu, opts.store);
  const have = applied.get(gpu.device) ?? new Map<string, TuneChoice>();
  const results: TuneResult[] = [];
  const done = new Set<string>();
  for (const s of shapes) {
    const batch = s.batch ?? 1;
    const cls = shapeClass(s.M, s.N, s.K, batch, s.aKContig, s.bKContig, s.dtype);
    if (done.has(cls)) continue;
    done.add(cls);
    if (opts.force) {
      checkTile(gpu, 'autotune', TILES[opts.force]);
      apply(gpu, cls, opts.force);
      results.push({ shapeClass: cls, choice: opts.force });
      continue;
    }
    const names = opts.candidates ?? candidates(gpu, s);
    const known = have.get(cls);
    // a stored tile choice from before the subgroup-matrix variant could run here (another version, the flag, a
    // failed self-test then) has no verdict on it: timed again, so the variant never runs untimed against the tiles
    if (known && !(names.includes('sgmat') && parseChoice(known)?.sgmat === null)) {
      results.push({ shapeClass: cls, choice: known });
      continue;
    }
    const r = await timeCandidates(gpu, s, cls, opts.reps ?? 10, names);
    apply(gpu, cls, r.choice);
    opts.log?.(`autotune ${cls}: ${r.choice} (${Object.entries(r.timings ?? {}).map(([n, ms]) => `${n} ${ms!.toFixed(3)} ms`).join(', ')}; ${r.method})`);
    results.push(r);
  }
  if (opts.store) {
    const all = Object.fromEntries(applied.get(gpu.device) ?? []);
    await opts.store.save(adapterKey(gpu), all);
  }
  return results;
}

async function timeCandidates(gpu: Gpu, s: GemmShape, cls: string, reps: number, names: Candidate[]): Promise<TuneResult> {
  const batch = s.batch ?? 1;
  const packed = s.dtype !== 'f32';
  const Kp = packed ? 2 * Math.ceil(s.K / 2) : s.K;
  // Dense operands in the shape's layout: A (M,K) or (K,M); B (N,K) or (K,N) (packed along its contiguous dim).
  const bLd = s.bKContig ? Kp : packed ? 2 * Math.ceil(s.N / 2) : s.N;
  const bRows = s.bKContig ? s.N : s.K;
  const a = createStorage(gpu, 'autotune.a', batch * s.M * s.K * 4);
  const b = createStorage(gpu, 'autotune.b', batch * bRows * bLd * (packed ? 2 : 4));
  const c = createStorage(gpu, 'autotune.c', batch * s.M * s.N * 4);
  // zero bf16 weights are exact in f16: recorded as the loader records a checked tensor, so the candidates stage B
  // as real (checked) weights are staged
  if (s.dtype === 'bf16') recordBf16Range(b, 0, b.size, bf16ScaleRange(new Uint16Array(0)));
  const timings: Partial<Record<Candidate, number>> = {};
  let method: TimingMethod = 'wall';
  let best: Candidate | null = null;
  try {
    for (const name of names) {
      const sgmat = name === 'sgmat';
      const k = gemmKernel(gpu, {
        label: `autotune.${name}`, c, ldc: s.N, cBatchStride: s.M * s.N, M: s.M, N: s.N, K: s.K, batch, tile: sgmat ? undefined : TILES[name],
        a: { buffer: a, kContig: s.aKContig, ld: s.aKContig ? s.K : s.M, batchStride: s.M * s.K },
        b: { buffer: b, kContig: s.bKContig, ld: bLd, batchStride: bRows * bLd, dtype: s.dtype, ...(sgmat ? { sgmat: true } : {}) },
      });
      const t = await timeGpu(gpu, [k], reps);
      destroyKernels([k]);
      timings[name] = t.ms;
      method = t.method;
      if (best === null || t.ms < timings[best]!) best = name;
    }
  } finally {
    a.destroy();
    b.destroy();
    c.destroy();
  }
  if (!best) throw new Error(`autotune ${cls}: no candidate tile fits this adapter`);
  const choice: TuneChoice = best === 'sgmat' || !names.includes('sgmat') ? best : `${best}+nosgmat`;
  return { shapeClass: cls, choice, timings, method };
}

/** The products of one transformer layer's linears at M tokens: forward (kk), input gradient (kt), weight gradient (tt). */
export function linearShapes(M: number, linears: { N: number; K: number }[], dtype: WeightDtype, weightGrad: boolean): GemmShape[] {
  const out: GemmShape[] = [];
  for (const { N, K } of linears) {
    out.push({ M, N, K, aKContig: true, bKContig: true, dtype });
    out.push({ M, N: K, K: N, aKContig: true, bKContig: false, dtype });
    if (weightGrad) out.push({ M: N, N: K, K: M, aKContig: false, bKContig: false, dtype: 'f32' });
  }
  return out;
}

/**
 * The linear-layer products of a Qwen3 model at M = sequences·tokens rows (and M/4, a short batch): q, k/v, o,
 * gate/up, down; weight gradients only when the base weights train (full fine-tuning, all f32).
 */
export function modelGemmShapes(d: { C: number; F: number; H: number; Hkv: number; D: number }, M: number, frozenDtype: WeightDtype | null): GemmShape[] {
  const linears = [{ N: d.H * d.D, K: d.C }, { N: d.Hkv * d.D, K: d.C }, { N: d.C, K: d.H * d.D }, { N: d.F, K: d.C }, { N: d.C, K: d.F }];
  const Ms = [...new Set([M, Math.max(1, Math.ceil(M / 4))])];
  return Ms.flatMap((m) => linearShapes(m, linears, frozenDtype ?? 'f32', frozenDtype === null));
}

/** A TuneStore in IndexedDB (browser): database 'reward-studio-gemm-tune', one record per adapter. */
export function idbTuneStore(): TuneStore {
  const open = async () => {
    const { openDB } = await import('idb');
    return openDB('reward-studio-gemm-tune', 1, { upgrade: (db) => void db.createObjectStore('choices') });
  };
  return {
    async load(adapter) {
      const db = await open();
      try {
        return ((await db.get('choices', adapter)) as Record<string, TuneChoice> | undefined) ?? null;
      } finally {
        db.close();
      }
    },
    async save(adapter, choices) {
      const db = await open();
      try {
        await db.put('choices', choices, adapter);
      } finally {
        db.close();
      }
    },
  };
}
