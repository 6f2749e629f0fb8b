// Matrix products of the linear layers (frozen base weights and trainable f32 weights) and the generic tiled
// product `gemmKernel` they are built from (LoRA composes it too). Shader: shaders/matmul.wgsl.
// Reference: ./matmul.ref.ts. Test: tests/ops/matmul.test.ts. Benchmark: bench/ops/matmul.bench.ts.
// Letters: M rows (tokens, B*T), N output features, K input features. inp is (M,K), weight (N,K) like
// torch.nn.Linear, out (M,N). Activations are f32; weights are f32, or f16/bf16 packed two per u32 along K
// (element (n,k) in word n*ceil(K/2) + k/2, low half first; see packWeight). Accumulation is always f32.
import shaderCode from '../../shaders/matmul.wgsl?raw';
import commonMath from '../../shaders/common_math.wgsl?raw';
import type { Gpu } from '../gpu/device.ts';
import { type Buf, type Kernel, type Dispatch, bindBuffers, bufLabel, bufSize, cdiv, checkWorkgroups, createUniform, getPipeline, isRange } from '../gpu/kernel.ts';
import { flags } from '../gpu/flags.ts';
import { preprocess, useF16 } from '../gpu/variants.ts';
import { bf16TileScale } from './f16_tiles.ts';
import { sgmatBlock, sgmatShader, sgmatSharedBytes, sgmatTile, useSgmat, type SgmatTile } from './matmul_sgmat.ts';

// The portable kernel and the shader-f16 variant (16-bit B staged as f16 in workgroup memory: see f16_tiles.ts).
const code = `${preprocess('matmul', shaderCode, { F16: false })}\n${commonMath}`;
let codeF16: string | undefined;
const f16Code = () => (codeF16 ??= `enable f16;\n${preprocess('matmul', shaderCode, { F16: true })}\n${commonMath}`);

export type WeightDtype = 'f32' | 'f16' | 'bf16';

const DTYPE_CODE: Record<WeightDtype, number> = { f32: 0, f16: 1, bf16: 2 };

// ---- tiles ----

/**
 * Threads per workgroup (wgM×wgN), outputs per thread (tm×tn, each 4 or 8), contraction slice bk (a multiple of
 * 4). The optional switches pick the kernel variant; left out, the device decides (GPUs: all on; CPU: all off).
 */
export interface TileConfig {
  wgM: number;
  wgN: number;
  tm: number;
  tn: number;
  bk: number;
  /** Global loads as vec4 (packed 16-bit B: 4 whole words) where the operand's offsets and strides allow it. */
  vector?: boolean;
  /** Next contraction slice through registers while the current one is consumed (when ≤ 4 loads per thread). */
  prefetch?: boolean;
  /** Layouts and B's dtype as pipeline constants (no branches in the loads) instead of uniforms. */
  specialize?: boolean;
}

export const TILES = {
  large: { wgM: 16, wgN: 16, tm: 8, tn: 8, bk: 8 }, // 128×128: big M·N
  big: { wgM: 16, wgN: 16, tm: 8, tn: 4, bk: 16 }, // 128×64, 256 threads
  medium: { wgM: 16, wgN: 16, tm: 4, tn: 4, bk: 16 }, // 64×64
  tall: { wgM: 32, wgN: 4, tm: 4, tn: 4, bk: 16 }, // 128×16: N ≤ 16 (LoRA xa, dout·B, dB)
  wide: { wgM: 4, wgN: 32, tm: 4, tn: 4, bk: 16 }, // 16×128: M ≤ 16 (LoRA dA, one-token forward)
} satisfies Record<string, TileConfig>;
export type TileName = keyof typeof TILES;

/**
 * Enough workgroups to fill a large GPU (~4 resident 256-thread workgroups on each of 130–170 SMs); below half of
 * it the contraction is split (deterministically), e.g. a full fine-tuning weight gradient (1024×1024 over 8192
 * tokens: 128 tiles of 128×64) runs as 4 splits.
 */
const TARGET_WORKGROUPS = 512;
/** Contraction length each split keeps at least. */
const MIN_SPLIT_CHUNK = 256;
/** Largest split-K scratch (bytes) the heuristic will ask for. */
const MAX_SCRATCH_BYTES = 64 << 20;

/** The deterministic default tile for a GPU (what runs when the autotuner is off or has no entry). */
export function chooseTile(M: number, N: number, batch = 1): TileConfig {
  if (N <= 16 && M > 16) return TILES.tall;
  if (M <= 16 && N > 16) return TILES.wide;
  if (cdiv(M, 128) * cdiv(N, 64) * batch >= 128) return TILES.big;
  return TILES.medium;
}

// CPU devices (SwiftShader, what CI and machines without a GPU run on) cost differently: every invocation runs, even
// one whose rows and columns all lie past M and N, a barrier turns each 4-lane group of a workgroup into a
// coroutine, and workgroup-memory reads are per-lane gathers. So: the largest block per thread (8×8: 4 vec4 reads
// per 64 fma), at most 8×8 threads, only as many threads per dimension as the shape needs (rounded up to a power of
// two so that few pipelines get compiled: 0.4–2 s each there), short contraction slices (bk 8), scalar loads, no
// register prefetch and layouts read from the uniform (one pipeline per tile for every layout and dtype).
// Same fma order per element as any other tile, so results are bit-identical to the GPU tiles (without split-K).
const CPU_THREADS = [1, 2, 4, 8];
function cpuTile(M: number, N: number): TileConfig {
  const threads = (n: number) => CPU_THREADS.find((t) => 8 * t >= n) ?? 8;
  return { wgM: threads(M), wgN: threads(N), tm: 8, tn: 8, bk: 8, vector: false, prefetch: false, specialize: false };
}

/** Whether `gpu` is a CPU implementation (SwiftShader; Mesa's llvmpipe/lavapipe, the tests' second adapter), which
 *  gets cpuTile's tiles. */
export function isCpuDevice(gpu: Gpu): boolean {
  const i = gpu.info;
  return /swiftshader|llvmpipe|lavapipe/i.test(`${i?.architecture ?? ''} ${i?.description ?? ''}`);
}

export function chooseSplits(M: number, N: number, K: number, batch: number, tile: TileConfig): number {
  const tiles = cdiv(M, tile.wgM * tile.tm) * cdiv(N, tile.wgN * tile.tn) * batch;
  if (tiles >= TARGET_WORKGROUPS / 2 || K < 2 * MIN_SPLIT_CHUNK) return 1;
  let s = Math.min(cdiv(TARGET_WORKGROUPS, tiles), Math.floor(K / MIN_SPLIT_CHUNK), 32);
  while (s > 1 && s * batch * M * N * 4 > MAX_SCRATCH_BYTES) s--;
  return s;
}

/** Workgroup memory (bytes) a tile's double-buffered slices take; `f16B`: B staged as f16 (half its bytes). */
export function tileSharedBytes(t: TileConfig, f16B = false): number {
  return 2 * t.bk * (((t.wgM * t.tm) / 4 + 1) * 16 + ((t.wgN * t.tn) / 4 + 1) * (f16B ? 8 : 16));
}

/** Throws unless the kernel can run `tile` on `gpu`. */
export function checkTile(gpu: Gpu, label: string, t: TileConfig, f16B = false): void {
  const lim = gpu.device.limits;
  const bad = (why: string) => new Error(`${label}: tile ${JSON.stringify(t)}: ${why}`);
  if (![4, 8].includes(t.tm) || ![4, 8].includes(t.tn)) throw bad('tm and tn must be 4 or 8');
  if (!(t.bk >= 4 && t.bk % 4 === 0)) throw bad('bk must be a positive multiple of 4');
  if (!(Number.isInteger(t.wgM) && Number.isInteger(t.wgN) && t.wgM >= 1 && t.wgN >= 1)) throw bad('wgM and wgN must be positive integers');
  if (t.wgM * t.wgN > lim.maxComputeInvocationsPerWorkgroup) throw bad(`${t.wgM * t.wgN} threads exceed maxComputeInvocationsPerWorkgroup ${lim.maxComputeInvocationsPerWorkgroup}`);
  if (tileSharedBytes(t, f16B) > lim.maxComputeWorkgroupStorageSize) throw bad(`${tileSharedBytes(t, f16B)} bytes of workgroup memory exceed ${lim.maxComputeWorkgroupStorageSize}`);
}

// Tile choices the autotuner (./matmul_tune.ts) measured for this device, by shape class; consulted when a product
// is planned without an explicit tile.
const tunedTiles = new WeakMap<GPUDevice, Map<string, TileConfig>>();

/** Records the tile to use for products of `shapeClass` on this device (the autotuner calls this). */
export function setTunedTile(gpu: Gpu, shapeClass: string, tile: TileConfig | null): void {
  let m = tunedTiles.get(gpu.device);
  if (!m) tunedTiles.set(gpu.device, (m = new Map()));
  if (tile) m.set(shapeClass, tile);
  else m.delete(shapeClass);
}

/** Forgets every tuned choice of this device (products planned afterwards get the default tiles). */
export function clearTunedTiles(gpu: Gpu): void {
  tunedTiles.delete(gpu.device);
  tunedSgmat.delete(gpu.device);
}

// Shape classes whose subgroup-matrix variant the autotuner timed against the tiles: true = it was fastest, false =
// a tile was faster (the class then keeps the tiled kernel by default). Unrecorded classes use the variant wherever
// it can run.
const tunedSgmat = new WeakMap<GPUDevice, Map<string, boolean>>();

/** Records the autotuner's verdict on the subgroup-matrix variant for products of `shapeClass` (null: forget it). */
export function setTunedSgmat(gpu: Gpu, shapeClass: string, use: boolean | null): void {
  let m = tunedSgmat.get(gpu.device);
  if (!m) tunedSgmat.set(gpu.device, (m = new Map()));
  if (use === null) m.delete(shapeClass);
  else m.set(shapeClass, use);
}

export function getTunedTile(gpu: Gpu, shapeClass: string): TileConfig | undefined {
  return tunedTiles.get(gpu.device)?.get(shapeClass);
}

/** Layout tag of a product: A then B, 'k' = contraction contiguous, 't' = not (NN forward: 'kk'). */
export function layoutTag(aKContig: boolean, bKContig: boolean): string {
  return `${aKContig ? 'k' : 't'}${bKContig ? 'k' : 't'}`;
}

/** Rounds up to a power of two (the shape classes' buckets). */
const pow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));

/** The autotuner's key for a product: layout, B dtype, batch > 1, and M, N, K rounded up to powers of two. */
export function shapeClass(M: number, N: number, K: number, batch: number, aKContig: boolean, bKContig: boolean, dtype: WeightDtype): string {
  return `${layoutTag(aKContig, bKContig)}.${dtype}.b${batch > 1 ? 'n' : '1'}.m${pow2(M)}.n${pow2(N)}.k${pow2(K)}`;
}

// ---- dropout mask (mirrors dropKey/dropMul in shaders/matmul.wgsl) ----

/** lowbias32: a bijective u32 mixer. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h;
}

/** The u32 hash deciding whether element `e` (its index in its own buffer) survives dropout. */
export function dropoutHash(seed: number, salt: number, e: number): number {
  const key = mix32((seed ^ mix32(salt)) >>> 0);
  return mix32((mix32(e) ^ key) >>> 0);
}

/** Elements whose hash is ≥ this survive: P(keep) = 1 − p up to 2⁻³². */
export function dropoutThreshold(p: number): number {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout p = ${p}: lora_dropout must be in [0, 1)`);
  return Math.min(Math.floor(p * 2 ** 32), 0xffffffff);
}

/** The multiplier dropout applies to element `e`: 0 or 1/(1−p) rounded to f32 (inverted dropout, like torch). */
export function dropoutMultiplier(seed: number, salt: number, p: number, e: number): number {
  return dropoutHash(seed, salt, e) >= dropoutThreshold(p) ? Math.fround(1 / (1 - p)) : 0;
}

// ---- the generic product ----

/** One operand of C(i,j) = Σ_c X(i,c)·Y(j,c). `kContig`: element (i,c) at i·ld + c, else at c·ld + i. */
export interface GemmOperand {
  buffer: Buf;
  kContig: boolean;
  /** Row stride in elements (for packed 16-bit B: in 16-bit elements, even). */
  ld: number;
  offset?: number;
  batchStride?: number;
  /**
   * A only, c-contiguous: the stored rows are [gate | up] (2K values each, within row stride ld) and the product
   * reads A(i, c) = silu(gate(i, c))·up(i, c) — the SwiGLU forward as a load prologue. A dropout mask on A then
   * uses the element index i·K + c of the (M, K) input it stands for.
   */
  glu?: boolean;
}

export interface Gemm {
  label: string;
  /** C is (batch, M, N) row-major with row stride ldc. */
  c: Buf;
  ldc: number;
  cOffset?: number;
  cBatchStride?: number;
  a: GemmOperand;
  b: GemmOperand & {
    dtype?: WeightDtype;
    /**
     * Stage B's tiles as f16 in workgroup memory (the shader-f16 variant; 16-bit B only). Default: where the device
     * has shader-f16 (flag noF16 off), for f16 B always and for bf16 B when its bytes were recorded f16-exact up to
     * a power of two (./f16_tiles.ts; the weight loader does that). true: required (throws when it cannot be
     * used); false: the f32 tiles. Results are bit-identical either way.
     */
    f16Tiles?: boolean;
    /**
     * Run the product on subgroup matrices (./matmul_sgmat.ts; 16-bit B staged as f16 only). Default: where the
     * device has the variant and its self-test passed, unless an explicit tile was given. true: required (throws
     * when it cannot run); false: the tiled kernel. Not bit-identical to the tiled kernel: f32-level accuracy.
     */
    sgmat?: boolean;
  };
  M: number;
  N: number;
  K: number;
  batch?: number;
  alpha?: number;
  accumulate?: boolean;
  /** Inverted dropout on operand a, b, or on the result c (before accumulation). */
  dropout?: { on: 'a' | 'b' | 'c'; p: number; seed: GPUBuffer; salt?: number; rows?: boolean };
  tile?: TileConfig;
  splitK?: number;
  /** Fused epilogue on each finished element, before accumulate: see GemmEpilogue. */
  epilogue?: GemmEpilogue;
}

/**
 * Work folded into a product's store (shaders/matmul.wgsl epilogue()), so it costs no dispatch of its own:
 *   C(i,j) (=|+=) alpha·Σ_c A·B [+ lowRank.scale·Σ_r X(i, g(j)·R + r)·Y(j, r)] [+ residual(i,j)]
 * lowRank: the LoRA term. X (·, ldx) f32 at element offset offX; Y(j, r) at offY + j·yJ + r·yR; column groups
 * g(j) = (j ≥ groups[0]) + (j ≥ groups[1]) let one product over concatenated outputs (q|k|v, gate|up) use each
 * output's own rank-R columns of X. residual: res(i, j) at offset + i·ld + j. Not with batch > 1.
 */
export interface GemmEpilogue {
  lowRank?: { x: Buf; ldx: number; offX?: number; y: Buf; yJ: number; yR: number; offY?: number; R: number; scale: number; groups?: [number, number] };
  residual?: { buffer: Buf; ld: number; offset?: number };
  /**
   * The SwiGLU backward fused into the down_proj dinp product (result dh (M, N=F)): C becomes dgu (M, 2F), ldc ≥ 2N,
   * dgate at columns [0, N) and dup at [N, 2N), assigned; gu (M, 2F) the forward's gate|up at offset + i·ld + j.
   */
  swigluBackward?: { gu: Buf; ld: number; offset?: number };
}

const DROP_CODE = { a: 1, b: 2, c: 3 } as const;

// Split-K partial sums live in one scratch buffer per device: kernels run in queue order, and each split kernel
// writes (stage 1) then reads (stage 2) it before the next one starts.
const scratchCache = new WeakMap<GPUDevice, GPUBuffer>();
function splitScratch(gpu: Gpu, bytes: number): GPUBuffer {
  const have = scratchCache.get(gpu.device);
  if (have && have.size >= bytes) return have;
  const buf = gpu.device.createBuffer({ label: 'matmul.splitk_scratch', size: Math.max(bytes, have?.size ?? 0), usage: GPUBufferUsage.STORAGE });
  scratchCache.set(gpu.device, buf);
  return buf;
}

/** Throws unless `buf` holds every element the layout reaches (rows×cols, row stride ld, batch stride bs). */
function checkExtent(label: string, what: string, buf: Buf, rows: number, cols: number, ld: number, offset: number, batch: number, bs: number, bytesPer: number): void {
  if (rows === 0 || cols === 0 || batch === 0) return;
  if (cols > ld) throw new Error(`${label}: ${what} row stride ${ld} is shorter than its ${cols} columns`);
  const need = (offset + (batch - 1) * bs + (rows - 1) * ld + cols) * bytesPer;
  if (bufSize(buf) < need) throw new Error(`${label}: ${what} buffer '${bufLabel(buf)}' holds ${bufSize(buf)} bytes, the product reads up to byte ${need}`);
}

// Dummy 16-byte buffer bound to the vec4 views (a4/b4) when a product loads its operands as scalars.
const vec4DummyCache = new WeakMap<GPUDevice, GPUBuffer>();
function vec4Dummy(gpu: Gpu): GPUBuffer {
  let d = vec4DummyCache.get(gpu.device);
  if (!d) vec4DummyCache.set(gpu.device, (d = gpu.device.createBuffer({ label: 'matmul.unused_vec4_view', size: 16, usage: GPUBufferUsage.STORAGE })));
  return d;
}

/** The vec4 view of a Buf: the same range, its size rounded down to 16 bytes (null when under 16). */
function vec4View(b: Buf): GPUBufferBinding | null {
  const size = Math.floor(bufSize(b) / 16) * 16;
  if (size < 16) return null;
  return isRange(b) ? { buffer: b.buffer, offset: b.offset ?? 0, size } : { buffer: b, offset: 0, size };
}

/** Elements per global load of an operand: `unit` when offset, row stride, batch stride and tile edge allow, else 1. */
function unitFor(unit: number, offset: number, ld: number, batchStride: number, batch: number, tileEdge: number, view: GPUBufferBinding | null): number {
  const words = unit === 8 ? 4 : unit; // packed 16-bit: 8 values = 4 u32 words
  if (!view) return 1;
  if (offset % words !== 0 || ld % words !== 0 || (batch > 1 && batchStride % words !== 0) || tileEdge % unit !== 0) return 1;
  return unit;
}

/** The tile a product runs with when the caller gives none: the autotuner's choice, else the default heuristic. */
export function resolveTile(gpu: Gpu, M: number, N: number, K: number, batch: number, aKContig: boolean, bKContig: boolean, dtype: WeightDtype): TileConfig {
  if (!flags.noGemmAutotune) {
    const tuned = getTunedTile(gpu, shapeClass(M, N, K, batch, aKContig, bKContig, dtype));
    if (tuned) return tuned;
  }
  return isCpuDevice(gpu) ? cpuTile(M, N) : chooseTile(M, N, batch);
}

/** Plans C (=|+=) alpha·A·Bᵀ over the given layouts: one dispatch, or two with split-K. */
export function gemmKernel(gpu: Gpu, g: Gemm): Kernel {
  const { label, M, N, K } = g;
  const batch = g.batch ?? 1;
  const dtype = g.b.dtype ?? 'f32';
  const packed = dtype !== 'f32';
  const f16 = f16Staging(gpu, label, g.b.buffer, dtype, g.b.f16Tiles);
  const sg = sgmatFor(gpu, label, f16, g);
  // the subgroup-matrix variant's block as a tile (split-K, the dropout row map); its own limits are checked there
  const tile = sg ? sgPseudoTile(sg) : g.tile ?? resolveTile(gpu, M, N, K, batch, g.a.kContig, g.b.kContig, dtype);
  if (sg) checkSgmat(gpu, label, sg);
  else checkTile(gpu, label, tile, f16 !== null);
  const cpu = isCpuDevice(gpu);
  // the subgroup-matrix variant always loads in vector units where layouts allow (it stages through them; CPU or not)
  const vector = sg ? true : tile.vector ?? !cpu;
  const prefetch = tile.prefetch ?? !cpu;
  const specialize = tile.specialize ?? !cpu;
  const BM = tile.wgM * tile.tm;
  const BN = tile.wgN * tile.tn;
  const NT = tile.wgM * tile.wgN;
  let splits = Math.max(1, Math.min(g.splitK ?? chooseSplits(M, N, K, batch, tile), Math.max(1, K)));
  const kChunk = Math.max(tile.bk, cdiv(cdiv(K, splits), tile.bk) * tile.bk);
  splits = Math.max(1, cdiv(K, kChunk));

  // Operand extents (in storage elements) and packed-B word strides.
  const [aRows, aCols] = g.a.kContig ? [M, K] : [K, M];
  const [bRows, bCols] = g.b.kContig ? [N, K] : [K, N];
  const words = (x: number, what: string) => {
    if (!packed) return x;
    if (x % 2 !== 0) throw new Error(`${label}: packed ${dtype} B ${what} ${x} must be even (rows are padded to even length)`);
    return x / 2;
  };
  const ldbW = words(g.b.ld, 'row stride');
  const offBW = words(g.b.offset ?? 0, 'offset');
  const batchBW = words(g.b.batchStride ?? 0, 'batch stride');
  const glu = !!g.a.glu;
  if (glu && (!g.a.kContig || batch > 1)) throw new Error(`${label}: the SwiGLU prologue needs A c-contiguous and batch 1`);
  checkExtent(label, 'A', g.a.buffer, aRows, glu ? 2 * aCols : aCols, g.a.ld, g.a.offset ?? 0, batch, g.a.batchStride ?? 0, 4);
  if (packed) checkExtent(label, 'B', g.b.buffer, bRows, cdiv(bCols, 2), ldbW, offBW, batch, batchBW, 4);
  else checkExtent(label, 'B', g.b.buffer, bRows, bCols, g.b.ld, offBW, batch, batchBW, 4);
  const sw = g.epilogue?.swigluBackward;
  checkExtent(label, 'C', g.c, M, sw ? 2 * N : N, g.ldc, g.cOffset ?? 0, batch, g.cBatchStride ?? 0, 4);

  const drop = g.dropout;
  const dropP = drop?.p ?? 0;
  const dropOn = drop && dropP > 0 ? DROP_CODE[drop.on] : 0;
  const seed = dropOn ? drop!.seed : null;
  if (dropOn === DROP_CODE.b && packed) throw new Error(`${label}: dropout on operand b needs f32 b, not ${dtype}`);
  // rows: the seed buffer is [seed, mask row of row 0, …] (u32, 1 + M): the product's rows are rows of a larger batch.
  const dropRows = dropOn && drop!.rows ? 1 : 0;
  if (dropRows) {
    if (dropOn === DROP_CODE.b || (dropOn === DROP_CODE.a && !g.a.kContig)) throw new Error(`${label}: a dropout row map needs the mask on c or on a c-contiguous a`);
    if (tile.wgM * tile.tm > 128) throw new Error(`${label}: a dropout row map needs tiles of ≤ 128 rows, not ${tile.wgM * tile.tm}`);
    if (drop!.seed.size < (1 + M) * 4) throw new Error(`${label}: the dropout row map '${drop!.seed.label}' holds ${drop!.seed.size} bytes, needs ${(1 + M) * 4}`);
  }
  const params = [
    M, N, K, g.a.ld, ldbW, g.ldc,
    g.a.offset ?? 0, offBW, g.cOffset ?? 0,
    g.a.batchStride ?? 0, batchBW, g.cBatchStride ?? 0,
    splits, kChunk,
    // bf16 staged as value·2^s: alpha·2^-s restores the scale exactly (f16_tiles.ts)
    (g.alpha ?? 1) * 2 ** -(f16 ?? 0),
    dropOn ? dropoutThreshold(dropP) : 0, dropOn ? 1 / (1 - dropP) : 1, (drop?.salt ?? 0) >>> 0,
    g.a.kContig ? 1 : 0, g.b.kContig ? 1 : 0, DTYPE_CODE[dtype], g.accumulate ? 1 : 0,
  ];
  const epi = g.epilogue ?? {};
  const lr = epi.lowRank;
  const NONE = 0xffffffff;
  if ((lr || epi.residual) && batch > 1) throw new Error(`${label}: a fused epilogue needs batch 1`);
  if (lr) {
    const groups = lr.groups ?? [NONE, NONE];
    const nGroups = 1 + (groups[0] < N ? 1 : 0) + (groups[1] < N ? 1 : 0);
    checkExtent(label, 'epilogue X', lr.x, M, nGroups * lr.R, lr.ldx, lr.offX ?? 0, 1, 0, 4);
    const yNeed = ((lr.offY ?? 0) + (N - 1) * lr.yJ + (lr.R - 1) * lr.yR + 1) * 4;
    if (bufSize(lr.y) < yNeed) throw new Error(`${label}: epilogue Y buffer '${bufLabel(lr.y)}' holds ${bufSize(lr.y)} bytes, the epilogue reads up to byte ${yNeed}`);
    params.push(lr.R, lr.scale, lr.ldx, lr.offX ?? 0, lr.yJ, lr.yR, lr.offY ?? 0, groups[0], groups[1]);
  } else params.push(0, 0, 0, 0, 0, 0, 0, NONE, NONE);
  if (sw && (epi.residual || g.accumulate || batch > 1 || (dropOn === DROP_CODE.c)))
    throw new Error(`${label}: the SwiGLU backward store assigns dgu: no residual, accumulate, batch or dropout on C with it`);
  if (epi.residual) {
    checkExtent(label, 'epilogue residual', epi.residual.buffer, M, N, epi.residual.ld, epi.residual.offset ?? 0, 1, 0, 4);
    params.push(epi.residual.ld, epi.residual.offset ?? 0);
  } else if (sw) {
    checkExtent(label, 'epilogue gate|up', sw.gu, M, 2 * N, sw.ld, sw.offset ?? 0, 1, 0, 4);
    params.push(sw.ld, sw.offset ?? 0);
  } else params.push(0, 0);
  params.push(2 ** (f16 ?? 0));
  const EPI = (lr ? 1 : 0) | (epi.residual ? 2 : 0) | (sw ? 4 : 0);
  const uniform = createUniform(gpu, label, params, F32_PARAMS);
  // Epilogue operands are statically used by every entry point: unused ones get a 4-byte dummy.
  const dummy = epilogueDummy(gpu);
  const epiBufs: Buf[] = [lr?.x ?? dummy, lr?.y ?? dummy, epi.residual?.buffer ?? sw?.gu ?? dummy];

  // Load units: vec4 (A, f32 B) or 4 packed words (16-bit B) along each operand's contiguous dimension.
  const aView = vector ? vec4View(g.a.buffer) : null;
  const bView = vector ? vec4View(g.b.buffer) : null;
  const UA = glu && K % 4 !== 0 ? 1 : unitFor(4, g.a.offset ?? 0, g.a.ld, g.a.batchStride ?? 0, batch, g.a.kContig ? tile.bk : BM, aView);
  const UB = unitFor(packed ? 8 : 4, offBW, ldbW, batchBW, batch, g.b.kContig ? tile.bk : BN, bView);
  const LA = cdiv((BM * tile.bk) / UA, NT);
  const LB = cdiv((BN * tile.bk) / UB, NT);
  const PREFETCH = prefetch && LA <= 4 && LB <= 4 ? 1 : 0;

  // Pipeline constants: the tile and variant, and where the dropout mask goes (the result's waits for the reduce).
  const constants = {
    WG_M: tile.wgM, WG_N: tile.wgN, TM: tile.tm, TN: tile.tn, BK: tile.bk, UA, UB, PREFETCH,
    LA: PREFETCH ? LA : 1, LB: PREFETCH ? LB : 1,
    A_K: specialize ? (g.a.kContig ? 1 : 0) : 2, B_K: specialize ? (g.b.kContig ? 1 : 0) : 2, B_DT: specialize ? DTYPE_CODE[dtype] : 3,
    DROP_ON: splits > 1 && dropOn === 3 ? 0 : dropOn, EPI: splits > 1 ? 0 : EPI, A_GLU: glu ? 1 : 0,
    ...(dropRows && !(splits > 1 && dropOn === 3) ? { DROP_ROWS: 1 } : {}),
  };
  const tileGrid: [number, number, number] = [cdiv(N, BN), cdiv(M, BM), batch * splits];
  checkWorkgroups(gpu, label, tileGrid);
  const dispatch = (entry: string, consts: Record<string, number>, bufs: (Buf | null)[], workgroups: [number, number, number]): Dispatch => {
    const [plabel, pcode] = sg && entry.startsWith('matmul') ? ['matmul+sgmat', sgmatShader(sg)] : f16 !== null ? ['matmul+f16', f16Code()] : ['matmul', code];
    const pipeline = getPipeline(gpu, { label: plabel, code: pcode, entryPoint: entry, constants: consts });
    return { pipeline, bindGroup: bindBuffers(gpu, label, pipeline, bufs), workgroups };
  };
  const views = [UA === 4 ? aView : vec4Dummy(gpu), UB > 1 ? bView : vec4Dummy(gpu)];
  // the subgroup-matrix entries stage through loadA/loadB's units over their own tile (see matmul_sgmat.wgsl)
  if (sg) Object.assign(constants, { PREFETCH: 0, LA: 1, LB: 1 });
  const dispatches: Dispatch[] = [];
  const entry = (sg ? 'matmul_sgmat' : 'matmul') + (constants.DROP_ON ? '_dropout' : '');
  // a, b, c, the three epilogue operands and the two vec4 views (+ the seed with dropout) are storage bindings.
  const storageNeeded = 8 + (constants.DROP_ON ? 1 : 0);
  if (gpu.device.limits.maxStorageBuffersPerShaderStage < storageNeeded)
    throw new Error(`${label}: the matmul kernel binds ${storageNeeded} storage buffers; this device allows ${gpu.device.limits.maxStorageBuffersPerShaderStage} (maxStorageBuffersPerShaderStage). Use a browser/GPU that offers at least 9.`);
  if (splits === 1) {
    dispatches.push(dispatch(entry, constants, [g.a.buffer, g.b.buffer, g.c, seed, uniform, ...epiBufs, ...views], tileGrid));
  } else {
    const scratch = splitScratch(gpu, batch * splits * M * N * 4);
    dispatches.push(dispatch(entry, constants, [g.a.buffer, g.b.buffer, scratch, constants.DROP_ON ? seed : null, uniform, ...epiBufs, ...views], tileGrid));
    const red = { WG_M: 16, WG_N: 16, DROP_ON: dropOn === 3 ? 3 : 0, EPI, ...(dropRows && dropOn === 3 ? { DROP_ROWS: 1 } : {}) };
    const redGrid: [number, number, number] = [cdiv(N, 16), cdiv(M, 16), batch];
    checkWorkgroups(gpu, label, redGrid);
    dispatches.push(dispatch(red.DROP_ON ? 'reduce_dropout' : 'reduce', red, [scratch, null, g.c, red.DROP_ON ? seed : null, uniform, ...epiBufs], redGrid));
  }
  return { label, dispatches, owned: [uniform] };
}
const F32_PARAMS: ReadonlySet<number> = new Set([14, 16, 23, 33]);

/** The subgroup-matrix variant's tile when the product runs on it (see Gemm.b.sgmat), else null. */
function sgmatFor(gpu: Gpu, label: string, f16: number | null, g: Gemm): SgmatTile | null {
  const req = g.b.sgmat;
  if (req === false) return null;
  if (req === true && f16 === null)
    throw new Error(`${label}: the subgroup-matrix GEMM was requested, but B is not a 16-bit weight staged as f16 (f32 B, f16 tiles off, or bf16 weights not recorded as exact in f16)`);
  if (f16 === null || (g.tile && req !== true) || !useSgmat(gpu, req, label)) return null;
  if (req === undefined && !flags.noGemmAutotune) {
    const cls = shapeClass(g.M, g.N, g.K, g.batch ?? 1, g.a.kContig, g.b.kContig, g.b.dtype ?? 'f32');
    if (tunedSgmat.get(gpu.device)?.get(cls) === false) return null; // the autotuner timed a tile faster here
  }
  return sgmatTile(gpu);
}

/** The variant's workgroup block in TileConfig terms (BM = wgM·tm, BN = wgN·tn, bk = its slice). */
function sgPseudoTile(t: SgmatTile): TileConfig {
  const { BM, BN, BK } = sgmatBlock(t);
  return { wgM: BM / 4, tm: 4, wgN: BN / 4, tn: 4, bk: BK };
}

function checkSgmat(gpu: Gpu, label: string, t: SgmatTile): void {
  const lim = gpu.device.limits;
  if (t.threads > lim.maxComputeInvocationsPerWorkgroup || t.threads > lim.maxComputeWorkgroupSizeX)
    throw new Error(`${label}: the subgroup-matrix GEMM needs ${t.threads} threads per workgroup; this device allows ${lim.maxComputeInvocationsPerWorkgroup}`);
  if (sgmatSharedBytes(t) > lim.maxComputeWorkgroupStorageSize)
    throw new Error(`${label}: the subgroup-matrix GEMM needs ${sgmatSharedBytes(t)} bytes of workgroup memory; this device allows ${lim.maxComputeWorkgroupStorageSize}`);
}

/**
 * Whether B's tiles are staged as f16, and with which scale exponent s (the staged value is B·2^s): 0 for f16 B,
 * the recorded one for bf16 B (./f16_tiles.ts); null: the f32 tiles.
 */
function f16Staging(gpu: Gpu, label: string, b: Buf, dtype: WeightDtype, requested: boolean | undefined): number | null {
  if (dtype === 'f32') {
    if (requested) throw new Error(`${label}: f16 tiles were requested for an f32 B (they are for 16-bit weights)`);
    return null;
  }
  if (requested === false || !useF16(gpu, requested, label)) return null;
  if (dtype === 'f16') return 0;
  const s = bf16TileScale(b);
  if (s === null && requested) throw new Error(`${label}: f16 tiles were requested for bf16 weights '${bufLabel(b)}' that are not recorded as exact in f16 (src/ops/f16_tiles.ts)`);
  return s;
}

const dummyCache = new WeakMap<GPUDevice, GPUBuffer>();
function epilogueDummy(gpu: Gpu): GPUBuffer {
  let b = dummyCache.get(gpu.device);
  if (!b) dummyCache.set(gpu.device, (b = gpu.device.createBuffer({ label: 'matmul.epilogue_dummy', size: 4, usage: GPUBufferUsage.STORAGE })));
  return b;
}

// ---- linear layers ----

/** Batched products: batch item z reads inp/weight/out at offset + z·batch stride; rows at the given strides. */
export interface MatmulStrides {
  /** Element offsets of item 0 (weight: in 16-bit elements when packed, even). */
  inpOffset?: number;
  weightOffset?: number;
  outOffset?: number;
  /** Elements between batch items; default the dense matrix size. */
  inpBatch?: number;
  weightBatch?: number;
  outBatch?: number;
  /** Elements between rows; default the dense row (K, K or its even padding when packed, N). */
  inpRow?: number;
  weightRow?: number;
  outRow?: number;
}

export interface MatmulOpts {
  weightDtype?: WeightDtype;
  /** out += instead of out =. */
  accumulate?: boolean;
  /** Scales the product: out (=|+=) alpha·(…). Default 1. */
  alpha?: number;
  batch?: number;
  strides?: MatmulStrides;
  tile?: TileConfig;
  splitK?: number;
  label?: string;
  epilogue?: GemmEpilogue;
  /** inp holds [gate | up] rows (row stride strides.inpRow, default 2K): the product reads silu(gate)·up. */
  inpGlu?: boolean;
}

/** Row length in elements of a stored (N,K) weight: K for f32, K padded to even for packed 16-bit. */
export function weightRowStride(K: number, dtype: WeightDtype = 'f32'): number {
  return dtype === 'f32' ? K : 2 * cdiv(K, 2);
}

// out is (M,N), inp is (M,K), weight is (N,K). out (=|+=) inp·weightᵀ.
export function matmulForward(gpu: Gpu, out: Buf, inp: Buf, weight: Buf, M: number, N: number, K: number, opts: MatmulOpts = {}): Kernel {
  const s = opts.strides ?? {};
  const dtype = opts.weightDtype ?? 'f32';
  const ldw = s.weightRow ?? weightRowStride(K, dtype);
  return gemmKernel(gpu, {
    label: opts.label ?? 'matmul_forward',
    c: out, ldc: s.outRow ?? N, cOffset: s.outOffset, cBatchStride: s.outBatch ?? M * (s.outRow ?? N),
    a: { buffer: inp, kContig: true, ld: s.inpRow ?? (opts.inpGlu ? 2 * K : K), offset: s.inpOffset, batchStride: s.inpBatch ?? M * (s.inpRow ?? K), glu: opts.inpGlu },
    b: { buffer: weight, kContig: true, ld: ldw, offset: s.weightOffset, batchStride: s.weightBatch ?? N * ldw, dtype },
    M, N, K, batch: opts.batch, alpha: opts.alpha, accumulate: opts.accumulate, tile: opts.tile, splitK: opts.splitK, epilogue: opts.epilogue,
  });
}

// dinp is (M,K), dout is (M,N), weight is (N,K). dinp (=|+=) dout·weight.
export function matmulBackwardInput(gpu: Gpu, dinp: Buf, dout: Buf, weight: Buf, M: number, N: number, K: number, opts: Omit<MatmulOpts, 'batch' | 'strides'> = {}): Kernel {
  const dtype = opts.weightDtype ?? 'f32';
  return gemmKernel(gpu, {
    label: opts.label ?? 'matmul_backward_input',
    c: dinp, ldc: K,
    a: { buffer: dout, kContig: true, ld: N },
    b: { buffer: weight, kContig: false, ld: weightRowStride(K, dtype), dtype },
    M, N: K, K: N, alpha: opts.alpha, accumulate: opts.accumulate, tile: opts.tile, splitK: opts.splitK, epilogue: opts.epilogue,
  });
}

// dweight is (N,K) f32, dout is (M,N), inp is (M,K). dweight += dout ᵀ·inp (a parameter gradient: accumulates).
export function matmulBackwardWeight(gpu: Gpu, dweight: Buf, dout: Buf, inp: Buf, M: number, N: number, K: number, opts: Pick<MatmulOpts, 'alpha' | 'tile' | 'splitK' | 'label'> = {}): Kernel {
  return gemmKernel(gpu, {
    label: opts.label ?? 'matmul_backward_weight',
    c: dweight, ldc: K,
    a: { buffer: dout, kContig: false, ld: N },
    b: { buffer: inp, kContig: false, ld: K },
    M: N, N: K, K: M, alpha: opts.alpha, accumulate: true, tile: opts.tile, splitK: opts.splitK,
  });
}

// ---- 16-bit weights ----

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Bits of the IEEE binary format (ebits exponent, mbits mantissa bits) nearest to x, ties to even. */
function toMinifloatBits(x: number, ebits: number, mbits: number): number {
  const expMax = (1 << ebits) - 1;
  const bias = (expMax >> 1);
  const sign = x < 0 || Object.is(x, -0) ? 1 << (ebits + mbits) : 0;
  if (Number.isNaN(x)) return (expMax << mbits) | (1 << (mbits - 1));
  const a = Math.abs(x);
  if (a === Infinity) return sign | (expMax << mbits);
  const eMin = 1 - bias;
  let e = a === 0 ? eMin : Math.max(Math.floor(Math.log2(a)), eMin);
  if (a >= 2 ** (e + 1)) e++;
  else if (e > eMin && a < 2 ** e) e--;
  let m = roundHalfEven(a / 2 ** (e - mbits)); // < 2^mbits only for subnormals (e = eMin)
  if (m < 2 ** mbits) return sign | m;
  if (m === 2 ** (mbits + 1)) { m /= 2; e++; }
  const ef = e + bias;
  if (ef >= expMax) return sign | (expMax << mbits);
  return sign | (ef << mbits) | (m - 2 ** mbits);
}

function fromMinifloatBits(bits: number, ebits: number, mbits: number): number {
  const expMax = (1 << ebits) - 1;
  const bias = expMax >> 1;
  const s = bits >> (ebits + mbits) ? -1 : 1;
  const ef = (bits >> mbits) & expMax;
  const m = bits & ((1 << mbits) - 1);
  if (ef === expMax) return m ? NaN : s * Infinity;
  if (ef === 0) return s * m * 2 ** (1 - bias - mbits);
  return s * (1 + m / 2 ** mbits) * 2 ** (ef - bias);
}

const FORMAT = { f16: [5, 10], bf16: [8, 7] } as const;

/** 16-bit pattern of x in f16 or bf16 (round to nearest, ties to even). */
export function toHalfBits(x: number, dtype: 'f16' | 'bf16'): number {
  return toMinifloatBits(x, FORMAT[dtype][0], FORMAT[dtype][1]);
}

export function fromHalfBits(bits: number, dtype: 'f16' | 'bf16'): number {
  return fromMinifloatBits(bits, FORMAT[dtype][0], FORMAT[dtype][1]);
}

/** The values a kernel sees for weights stored as `dtype` (f32: rounded to f32). */
export function roundWeight(values: ArrayLike<number>, dtype: WeightDtype): Float64Array {
  if (dtype === 'f32') return Float64Array.from(Float32Array.from(values));
  return Float64Array.from(values, (v) => fromHalfBits(toHalfBits(v, dtype), dtype));
}

/** Packs an (N,K) weight into the 16-bit layout the kernels read: row n at word n·ceil(K/2), low half = even k. */
export function packWeight(values: ArrayLike<number>, N: number, K: number, dtype: 'f16' | 'bf16'): Uint32Array {
  if (values.length !== N * K) throw new Error(`packWeight: ${values.length} values for a (${N},${K}) weight`);
  const Kw = cdiv(K, 2);
  const out = new Uint32Array(N * Kw);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const bits = toHalfBits(values[n * K + k], dtype);
      out[n * Kw + (k >> 1)] |= (k & 1 ? bits << 16 : bits) >>> 0;
    }
  }
  return out;
}
