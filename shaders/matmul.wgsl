// Tiled matrix product behind every linear layer (src/ops/matmul.ts builds the operand layouts and picks the variant):
//   C[b, i, j] (= or +=) alpha · Σ_c A[b](i, c) · B[b](j, c)          i < M, j < N, c < K (contraction)
// Forward  out(M,N)  = inp(M,K)·W(N,K)ᵀ : A = inp (c contiguous), B = W (c contiguous).
// Backward dinp(M,K) = dout(M,N)·W(N,K) : A = dout (c contiguous), B = W read (j=k, c=n) (j contiguous).
// Backward dW(N,K)  += dout(M,N)ᵀ·inp(M,K): A = dout read (i=n, c=m), B = inp read (j=k, c=m) (both i/j contiguous).
// A and C are f32. B is bound as u32 words: f32 bits, or two packed 16-bit values (f16 or bf16) per word along
// B's contiguous dimension, low half first; accumulation is always f32.
//
// Design (one workgroup = one BM×BN tile of C, BM = WG_M·TM, BN = WG_N·TN, TM and TN 4 or 8):
// - Global loads in units of UA (UB) elements along the operand's contiguous dimension: 1 (scalar), 4 (one vec4 of
//   f32 through the a4/b4 views of the same buffers) or, for packed 16-bit B, 8 (one vec4<u32> = 4 whole words,
//   unpacked once when staged). A unit that is not entirely inside the matrix falls back to per-element loads, so
//   any M, N, K work; the wrapper only picks vector units when offsets and strides are multiples of the unit.
// - Workgroup memory holds the slice transposed to [c][i] and [c][j] as vec4 rows (plus one vec4 of padding), so
//   the inner loop reads TM/4 + TN/4 vec4s per contraction step for TM·TN fma: a thread owns TM/4 groups of 4
//   adjacent rows (strided by 4·WG_M) and TN/4 groups of 4 adjacent columns (strided by 4·WG_N).
// - Double-buffered slices, one barrier per BK slice. PREFETCH = 1: the next slice is loaded into registers
//   (≤ 4 units per thread per operand) before the current one is consumed, and staged after it; PREFETCH = 0:
//   each slice is loaded straight into its buffer (for tiles with many units per thread, e.g. the CPU tiles).
// - Layouts and B's dtype are override constants (A_K, B_K, B_DT) that fold away every branch in the loads; the
//   value "dynamic" (2 / 3) reads them from the uniform instead (fewer pipelines where compiles are slow: CPU).
// - Every C element sees fma over c = kBegin, kBegin+1, … in order whatever the tile, unit or prefetch choice:
//   results are bit-identical across those choices and run to run (split-K changes the order, deterministically).
// Split-K (workgroup z = b·splits + s covers contraction [s·kChunk, (s+1)·kChunk)): with splits > 1 the raw partial
// sums go to a dense scratch (batch·splits, M, N) bound as C, and the `reduce` entry adds them up in order s = 0, 1, …
// shader-f16 variant (`// #if F16`, src/ops/matmul.ts adds `enable f16;`, for 16-bit B only): B's slices are staged
// in workgroup memory as vec4<f16> instead of vec4<f32> (half the bytes for B) and widened to f32 as they are read;
// the fma, the accumulators and the stores stay f32. f16 B is staged as it is stored (packed words bitcast, no
// conversion); bf16 B is staged as value·2^s (p.bScale = 2^s, src/ops/f16_tiles.ts: used only when that is exactly
// an f16 for every value) with alpha·2^-s in p.alpha, so the results are the f32-staged variant's bits.
// Dropout (entry points *_dropout only): element e of the masked operand (A, B or C) is scaled by
// keep(e) ? 1/(1−p) : 0, e being that element's index in its own buffer, from a hash of (seed, salt, e).
// (A mask on B needs B in f32.) DROP_ROWS = 1: the product's rows are some rows of a larger batch (the last decoder
// layer's pooled rows, src/model/qwen3.ts) and the mask is that of the batch's element: row i counts as row
// seed[1 + i] (A c-contiguous with the batch's row stride; C with the batch's ldc), so the masks equal the full batch's.

override WG_M: u32 = 16;        // threads along rows i
override WG_N: u32 = 16;        // threads along columns j
override TM: u32 = 4;           // rows per thread: 4 or 8
override TN: u32 = 4;           // columns per thread: 4 or 8
override BK: u32 = 16;          // contraction slice per workgroup-memory tile, a multiple of 4 (of 8 when UB = 8 along c)
override UA: u32 = 1;           // A elements per global load: 1 or 4
override UB: u32 = 1;           // B elements per global load: 1, 4 (f32) or 8 (packed 16-bit)
override PREFETCH: u32 = 0;     // 1: next slice through registers (needs ≤ 4 units per thread per operand)
override LA: u32 = 1;           // with PREFETCH: A units per thread per slice (⌈BM·BK/UA / threads⌉ ≤ 4)
override LB: u32 = 1;           // with PREFETCH: B units per thread per slice
override A_K: u32 = 2;          // A layout: 0 i contiguous, 1 c contiguous, 2 read p.aKContig
override B_K: u32 = 2;          // B layout: 0 j contiguous, 1 c contiguous, 2 read p.bKContig
override B_DT: u32 = 3;         // B dtype: 0 f32, 1 f16, 2 bf16, 3 read p.bDtype
override DROP_ON: u32 = 0;      // 0 none, 1 A, 2 B, 3 C (the result, before accumulation); *_dropout entries
override A_GLU: u32 = 0;        // 1: A(i, c) = silu(G(i, c))·U(i, c), G at A's address and U K elements later (A
                                //    stored as [gate | up] rows, c contiguous): the SwiGLU forward as a prologue
override DROP_ROWS: u32 = 0;    // 1 (*_dropout entries): the mask's row of row i is seed[1 + i] (see above)
override EPI: u32 = 0;          // epilogue bits (see epilogue()): 1 low-rank (LoRA) term, 2 residual add, 4 SwiGLU backward store

struct Params {
  M: u32, N: u32, K: u32,
  lda: u32, ldb: u32, ldc: u32,       // row strides; ldb in u32 words
  offA: u32, offB: u32, offC: u32,    // base offsets; offB in u32 words
  batchA: u32, batchB: u32, batchC: u32,  // batch strides; batchB in u32 words
  splits: u32, kChunk: u32,           // splits > 1: stage 1 of split-K, raw partial sums go to the scratch
  alpha: f32,
  dropThreshold: u32,                 // keep an element when its hash ≥ dropThreshold (= p·2³²)
  dropScale: f32,                     // 1/(1−p)
  dropSalt: u32,
  aKContig: u32,                      // 1: A(i,c) at i·lda + c; 0: at c·lda + i
  bKContig: u32,                      // 1: B(j,c) at j·ldb + c; 0: at c·ldb + j
  bDtype: u32,                        // 0 f32, 1 f16 packed, 2 bf16 packed
  accumulate: u32,                    // 1: C += result
  // epilogue (EPI ≠ 0): C(i,j) = alpha·Σ A·B [+ lrScale·Σ_r X(i, g(j)·lrR + r)·Y(j, r)] [+ res(i,j)]
  lrR: u32, lrScale: f32,
  ldX: u32, offX: u32,                // X(i, c) at offX + i·ldX + c
  yJ: u32, yR: u32, offY: u32,        // Y(j, r) at offY + j·yJ + r·yR
  grp1: u32, grp2: u32,               // column groups: g(j) = (j ≥ grp1) + (j ≥ grp2)
  ldRes: u32, offRes: u32,            // res(i, j) at offRes + i·ldRes + j
  bScale: f32,                        // F16 variant, bf16 B: 2^s, the staged value is B·2^s (else 1)
}

@group(0) @binding(0) var<storage, read> a: array<f32>;          // reduce: the split-K scratch
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> seed: array<u32>;       // u32[1], *_dropout entries only
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> epiX: array<f32>;       // epilogue operands (a 4-byte dummy when EPI = 0)
@group(0) @binding(6) var<storage, read> epiY: array<f32>;
@group(0) @binding(7) var<storage, read> epiRes: array<f32>;
@group(0) @binding(8) var<storage, read> a4: array<vec4<f32>>;   // the same buffer as a (a dummy when UA = 1)
@group(0) @binding(9) var<storage, read> b4: array<vec4<u32>>;   // the same buffer as b (a dummy when UB = 1)

// vec4s per staged row (one contraction index c): the tile's width / 4 plus one of padding against bank conflicts
// on the transposed stores. Each operand has two slices (double buffering).
override SA: u32 = WG_M * TM / 4u + 1u;
override SB: u32 = WG_N * TN / 4u + 1u;
var<workgroup> As: array<vec4<f32>, 2u * BK * SA>;   // As[buf·BK·SA + c·SA + i/4][i%4]
// #if F16
alias BT = f16;                                       // staged B: f16 (shader-f16 variant)
// #else
alias BT = f32;
// #endif
var<workgroup> Bs: array<vec4<BT>, 2u * BK * SB>;    // Bs[buf·BK·SB + c·SB + j/4][j%4]

// mix32 and sigmoidStable: shaders/common_math.wgsl (appended by src/ops/matmul.ts).

// key = mix32(seed ^ mix32(salt)); hash(e) = mix32(mix32(e) ^ key).
fn dropKey(s: u32) -> u32 { return mix32(s ^ mix32(p.dropSalt)); }
fn dropMul(key: u32, e: u32) -> f32 {
  return select(0.0, p.dropScale, mix32(mix32(e) ^ key) >= p.dropThreshold);
}

// DROP_ROWS: the mask rows of the tile's rows i0 .. i0 + BM (BM ≤ 128), filled by the *_dropout entries.
var<private> dropRowP: array<u32, 128>;
fn maskRow(gi: u32) -> u32 {
  if (DROP_ROWS == 1u) { return dropRowP[gi % (WG_M * TM)]; }
  return gi;
}

fn aKC() -> bool { if (A_K == 2u) { return p.aKContig == 1u; } return A_K == 1u; }
fn bKC() -> bool { if (B_K == 2u) { return p.bKContig == 1u; } return B_K == 1u; }
fn bDt() -> u32 { if (B_DT == 3u) { return p.bDtype; } return B_DT; }

// Per-workgroup constants of the current tile.
struct Tile { i0: u32, j0: u32, baseA: u32, baseB: u32, kEnd: u32, key: u32 }

// The BM×BN tile of workgroup wid: batch item bz = wid.z / splits; its split covers contraction [kBegin, kEnd).
fn tileOf(wid: vec3<u32>, key: u32, BM: u32, BN: u32) -> Tile {
  let bz = wid.z / p.splits;
  let kBegin = (wid.z % p.splits) * p.kChunk;
  var tl: Tile;
  tl.i0 = wid.y * BM;
  tl.j0 = wid.x * BN;
  tl.baseA = p.offA + bz * p.batchA;
  tl.baseB = p.offB + bz * p.batchB;
  tl.kEnd = min(kBegin + p.kChunk, p.K);
  tl.key = key;
  return tl;
}

// ---- A: units of UA elements along A's contiguous dimension ----

// Unit l of the slice starting at k0 → (row i in tile, contraction c in slice) of its first element.
fn unitA(l: u32) -> vec2<u32> {
  let BM = WG_M * TM;
  if (aKC()) { return vec2<u32>(l / (BK / UA), (l % (BK / UA)) * UA); }
  return vec2<u32>((l % (BM / UA)) * UA, l / (BM / UA));
}

fn loadA1(tl: Tile, gi: u32, gc: u32) -> f32 {
  if (gi >= p.M || gc >= tl.kEnd) { return 0.0; }
  let e = tl.baseA + select(gc * p.lda + gi, gi * p.lda + gc, aKC());
  var v = a[e];
  if (A_GLU == 1u) {
    v = glu(v, a[e + p.K]);
    // the mask element is that of the (M, K) product input h, as if it were stored densely
    if (DROP_ON == 1u) { v *= dropMul(tl.key, maskRow(gi) * p.K + gc); }
    return v;
  }
  if (DROP_ON == 1u) {
    var em = e;
    if (DROP_ROWS == 1u) { em = tl.baseA + maskRow(gi) * p.lda + gc; }
    v *= dropMul(tl.key, em);
  }
  return v;
}

// silu(g)·u with the arithmetic of shaders/swiglu.wgsl's forward (bit-identical to h written by it).
fn glu(g: f32, u: f32) -> f32 { return g * sigmoidStable(g) * u; }

fn loadA(tl: Tile, l: u32, k0: u32) -> vec4<f32> {
  let BM = WG_M * TM;
  if (l >= BM * BK / UA) { return vec4<f32>(0.0); }
  let u = unitA(l);
  let gi = tl.i0 + u.x;
  let gc = k0 + u.y;
  if (UA == 1u) { return vec4<f32>(loadA1(tl, gi, gc), 0.0, 0.0, 0.0); }
  let kc = aKC();
  // Along c (kc) or along i: is the whole vec4 inside the matrix?
  let full = select(gc < tl.kEnd && gi + 3u < p.M, gi < p.M && gc + 3u < tl.kEnd, kc);
  if (full && DROP_ON != 1u) {
    let e4 = (tl.baseA + select(gc * p.lda + gi, gi * p.lda + gc, kc)) / 4u;
    if (A_GLU == 1u) {
      let g4 = a4[e4];
      let u4 = a4[e4 + p.K / 4u];
      return vec4<f32>(glu(g4.x, u4.x), glu(g4.y, u4.y), glu(g4.z, u4.z), glu(g4.w, u4.w));
    }
    return a4[e4];
  }
  if (kc) { return vec4<f32>(loadA1(tl, gi, gc), loadA1(tl, gi, gc + 1u), loadA1(tl, gi, gc + 2u), loadA1(tl, gi, gc + 3u)); }
  return vec4<f32>(loadA1(tl, gi, gc), loadA1(tl, gi + 1u, gc), loadA1(tl, gi + 2u, gc), loadA1(tl, gi + 3u, gc));
}

fn putA(buf: u32, i: u32, cc: u32, v: f32) { As[(buf * BK + cc) * SA + i / 4u][i % 4u] = v; }

fn storeA(buf: u32, l: u32, v: vec4<f32>) {
  let BM = WG_M * TM;
  if (l >= BM * BK / UA) { return; }
  let u = unitA(l);
  if (UA == 1u) { putA(buf, u.x, u.y, v.x); return; }
  if (aKC()) {
    putA(buf, u.x, u.y, v.x); putA(buf, u.x, u.y + 1u, v.y); putA(buf, u.x, u.y + 2u, v.z); putA(buf, u.x, u.y + 3u, v.w);
  } else {
    As[(buf * BK + u.y) * SA + u.x / 4u] = v;
  }
}

// ---- B: units of UB elements along B's contiguous dimension; registers hold raw u32 words ----

fn unitB(l: u32) -> vec2<u32> {
  let BN = WG_N * TN;
  if (bKC()) { return vec2<u32>(l / (BK / UB), (l % (BK / UB)) * UB); }
  return vec2<u32>((l % (BN / UB)) * UB, l / (BN / UB));
}

// Element (j, c) of B as an f32 (0 outside the matrix); col runs along the stored row (the packed dimension).
fn loadB1(tl: Tile, gj: u32, gc: u32) -> f32 {
  if (gj >= p.N || gc >= tl.kEnd) { return 0.0; }
  let kc = bKC();
  let row = select(gc, gj, kc);
  let col = select(gj, gc, kc);
  let dt = bDt();
  var v: f32;
  if (dt == 0u) {
    v = bitcast<f32>(b[tl.baseB + row * p.ldb + col]);
    if (DROP_ON == 2u) { v *= dropMul(tl.key, tl.baseB + row * p.ldb + col); }
  } else {
    let w = b[tl.baseB + row * p.ldb + (col >> 1u)];
    let bits = select(w & 0xffffu, w >> 16u, (col & 1u) == 1u);
    if (dt == 1u) { v = unpack2x16float(bits).x; } else { v = bitcast<f32>(bits << 16u); }
// #if F16
    if (dt == 2u) { v *= p.bScale; }
// #endif
  }
  return v;
}

// Packed word holding values (col, col+1) of a stored row, the halves past `lim` (or a row past `rows`) zeroed.
fn loadWord(tl: Tile, row: u32, col: u32, rows: u32, lim: u32) -> u32 {
  if (row >= rows || col >= lim) { return 0u; }
  let w = b[tl.baseB + row * p.ldb + (col >> 1u)];
  return select(w & 0xffffu, w, col + 1u < lim);
}

fn loadB(tl: Tile, l: u32, k0: u32) -> vec4<u32> {
  let BN = WG_N * TN;
  if (l >= BN * BK / UB) { return vec4<u32>(0u); }
  let u = unitB(l);
  let gj = tl.j0 + u.x;
  let gc = k0 + u.y;
  if (UB == 1u) { return vec4<u32>(bitcast<u32>(loadB1(tl, gj, gc)), 0u, 0u, 0u); }
  let kc = bKC();
  let row = select(gc, gj, kc);
  let col = select(gj, gc, kc);
  let rows = select(tl.kEnd, p.N, kc);
  let lim = select(p.N, tl.kEnd, kc);
  let full = row < rows && col + UB - 1u < lim;
  if (UB == 4u) { // f32
    if (full && DROP_ON != 2u) { return b4[(tl.baseB + row * p.ldb + col) / 4u]; }
    if (kc) { return bitcast<vec4<u32>>(vec4<f32>(loadB1(tl, gj, gc), loadB1(tl, gj, gc + 1u), loadB1(tl, gj, gc + 2u), loadB1(tl, gj, gc + 3u))); }
    return bitcast<vec4<u32>>(vec4<f32>(loadB1(tl, gj, gc), loadB1(tl, gj + 1u, gc), loadB1(tl, gj + 2u, gc), loadB1(tl, gj + 3u, gc)));
  }
  // UB == 8: four whole packed words (8 values along the stored row).
  if (full) { return b4[(tl.baseB + row * p.ldb + (col >> 1u)) / 4u]; }
  return vec4<u32>(loadWord(tl, row, col, rows, lim), loadWord(tl, row, col + 2u, rows, lim),
                   loadWord(tl, row, col + 4u, rows, lim), loadWord(tl, row, col + 6u, rows, lim));
}

fn putB(buf: u32, j: u32, cc: u32, v: f32) { Bs[(buf * BK + cc) * SB + j / 4u][j % 4u] = BT(v); }

// Two values of a packed word, low half first.
fn unpackWord(w: u32) -> vec2<f32> {
  if (bDt() == 1u) { return unpack2x16float(w); }
// #if F16
  return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u)) * p.bScale;
// #else
  return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u));
// #endif
}

fn storeB(buf: u32, l: u32, r: vec4<u32>) {
  let BN = WG_N * TN;
  if (l >= BN * BK / UB) { return; }
  let u = unitB(l);
  if (UB == 1u) { putB(buf, u.x, u.y, bitcast<f32>(r.x)); return; }
  var lo: vec4<BT>;
  var hi = vec4<BT>(0.0);
  if (UB == 4u) {
    lo = vec4<BT>(bitcast<vec4<f32>>(r));
// #if F16
  } else if (bDt() == 1u) { // f16 words as they are: component 0 = the low half
    lo = vec4<f16>(bitcast<vec2<f16>>(r.x), bitcast<vec2<f16>>(r.y));
    hi = vec4<f16>(bitcast<vec2<f16>>(r.z), bitcast<vec2<f16>>(r.w));
// #endif
  } else {
    lo = vec4<BT>(vec4<f32>(unpackWord(r.x), unpackWord(r.y)));
    hi = vec4<BT>(vec4<f32>(unpackWord(r.z), unpackWord(r.w)));
  }
  if (bKC()) {
    putB(buf, u.x, u.y, f32(lo.x)); putB(buf, u.x, u.y + 1u, f32(lo.y)); putB(buf, u.x, u.y + 2u, f32(lo.z)); putB(buf, u.x, u.y + 3u, f32(lo.w));
    if (UB == 8u) { putB(buf, u.x, u.y + 4u, f32(hi.x)); putB(buf, u.x, u.y + 5u, f32(hi.y)); putB(buf, u.x, u.y + 6u, f32(hi.z)); putB(buf, u.x, u.y + 7u, f32(hi.w)); }
  } else {
    Bs[(buf * BK + u.y) * SB + u.x / 4u] = lo;
    if (UB == 8u) { Bs[(buf * BK + u.y) * SB + u.x / 4u + 1u] = hi; }
  }
}

// Loads slice k0 straight into workgroup buffer `buf` (PREFETCH = 0).
fn stageDirect(tl: Tile, t: u32, buf: u32, k0: u32) {
  let NT = WG_M * WG_N;
  for (var l = t; l < WG_M * TM * BK / UA; l += NT) { storeA(buf, l, loadA(tl, l, k0)); }
  for (var l = t; l < WG_N * TN * BK / UB; l += NT) { storeB(buf, l, loadB(tl, l, k0)); }
}

fn tile(lid: vec3<u32>, wid: vec3<u32>, key: u32) {
  let BM = WG_M * TM;
  let BN = WG_N * TN;
  let NT = WG_M * WG_N;
  let t = lid.y * WG_N + lid.x;
  let bz = wid.z / p.splits;
  let kBegin = (wid.z % p.splits) * p.kChunk;
  let tl = tileOf(wid, key, BM, BN);
  let nSlices = (tl.kEnd - min(kBegin, tl.kEnd) + BK - 1u) / BK;

  // Accumulators: row r = 4g + q of the thread's block (g = row group), columns 0..3 (L) and 4..7 (H, TN = 8).
  // Named variables, not an indexed array: rows ≥ TM and the H halves when TN = 4 are constant-false branches the
  // compiler removes, and no private memory is indexed dynamically (CPU Vulkan turns that into per-lane gathers).
  var c0L = vec4<f32>(0.0); var c0H = vec4<f32>(0.0); var c1L = vec4<f32>(0.0); var c1H = vec4<f32>(0.0);
  var c2L = vec4<f32>(0.0); var c2H = vec4<f32>(0.0); var c3L = vec4<f32>(0.0); var c3H = vec4<f32>(0.0);
  var c4L = vec4<f32>(0.0); var c4H = vec4<f32>(0.0); var c5L = vec4<f32>(0.0); var c5H = vec4<f32>(0.0);
  var c6L = vec4<f32>(0.0); var c6H = vec4<f32>(0.0); var c7L = vec4<f32>(0.0); var c7H = vec4<f32>(0.0);
  // Prefetch registers: unit t + q·NT of the next slice, q < LA (LB). Loops with override trip counts ≤ 4: GPU
  // compilers unroll them and keep the arrays in registers; as loops they keep the CPU variant's code small.
  var ra: array<vec4<f32>, 4>;
  var rb: array<vec4<u32>, 4>;

  if (PREFETCH == 1u && nSlices > 0u) {
    for (var q = 0u; q < LA; q++) { storeA(0u, t + q * NT, loadA(tl, t + q * NT, kBegin)); }
    for (var q = 0u; q < LB; q++) { storeB(0u, t + q * NT, loadB(tl, t + q * NT, kBegin)); }
    workgroupBarrier();
  }
  for (var s = 0u; s < nSlices; s++) {
    let cur = s & 1u;
    let k0 = kBegin + s * BK;
    let more = s + 1u < nSlices;
    if (PREFETCH == 0u) {
      stageDirect(tl, t, cur, k0);
      workgroupBarrier();
    } else if (more) {
      let kn = k0 + BK;
      for (var q = 0u; q < LA; q++) { ra[q] = loadA(tl, t + q * NT, kn); }
      for (var q = 0u; q < LB; q++) { rb[q] = loadB(tl, t + q * NT, kn); }
    }
    let aBase = cur * BK * SA + lid.y;
    let bBase = cur * BK * SB + lid.x;
    for (var cc = 0u; cc < BK; cc++) {
      let ao = aBase + cc * SA;
      let bo = bBase + cc * SB;
      let bL = vec4<f32>(Bs[bo]);
      var bH = vec4<f32>(0.0);
      if (TN > 4u) { bH = vec4<f32>(Bs[bo + WG_N]); }
      let x0 = As[ao];
      c0L = fma(vec4<f32>(x0.x), bL, c0L); c1L = fma(vec4<f32>(x0.y), bL, c1L);
      c2L = fma(vec4<f32>(x0.z), bL, c2L); c3L = fma(vec4<f32>(x0.w), bL, c3L);
      if (TN > 4u) {
        c0H = fma(vec4<f32>(x0.x), bH, c0H); c1H = fma(vec4<f32>(x0.y), bH, c1H);
        c2H = fma(vec4<f32>(x0.z), bH, c2H); c3H = fma(vec4<f32>(x0.w), bH, c3H);
      }
      if (TM > 4u) {
        let x1 = As[ao + WG_M];
        c4L = fma(vec4<f32>(x1.x), bL, c4L); c5L = fma(vec4<f32>(x1.y), bL, c5L);
        c6L = fma(vec4<f32>(x1.z), bL, c6L); c7L = fma(vec4<f32>(x1.w), bL, c7L);
        if (TN > 4u) {
          c4H = fma(vec4<f32>(x1.x), bH, c4H); c5H = fma(vec4<f32>(x1.y), bH, c5H);
          c6H = fma(vec4<f32>(x1.z), bH, c6H); c7H = fma(vec4<f32>(x1.w), bH, c7H);
        }
      }
    }
    if (PREFETCH == 1u) {
      if (more) {
        let nxt = 1u - cur;
        for (var q = 0u; q < LA; q++) { storeA(nxt, t + q * NT, ra[q]); }
        for (var q = 0u; q < LB; q++) { storeB(nxt, t + q * NT, rb[q]); }
      }
      workgroupBarrier();
    }
  }

  // Row group g covers rows i0 + 4·(g·WG_M + ty) + q; column group h covers j0 + 4·(h·WG_N + tx) + 0..3.
  let r0 = tl.i0 + 4u * lid.y;
  let r1 = tl.i0 + 4u * (WG_M + lid.y);
  let jL = tl.j0 + 4u * lid.x;
  let jH = tl.j0 + 4u * (WG_N + lid.x);
  storeRow(r0, jL, jH, bz, wid.z, key, c0L, c0H);
  storeRow(r0 + 1u, jL, jH, bz, wid.z, key, c1L, c1H);
  storeRow(r0 + 2u, jL, jH, bz, wid.z, key, c2L, c2H);
  storeRow(r0 + 3u, jL, jH, bz, wid.z, key, c3L, c3H);
  if (TM > 4u) {
    storeRow(r1, jL, jH, bz, wid.z, key, c4L, c4H);
    storeRow(r1 + 1u, jL, jH, bz, wid.z, key, c5L, c5H);
    storeRow(r1 + 2u, jL, jH, bz, wid.z, key, c6L, c6H);
    storeRow(r1 + 3u, jL, jH, bz, wid.z, key, c7L, c7H);
  }
}

fn storeOne(gi: u32, gj: u32, bz: u32, z: u32, key: u32, acc: f32) {
  if (gj >= p.N) { return; }
  if (p.splits > 1u) {
    c[(z * p.M + gi) * p.N + gj] = acc;
    return;
  }
  let e = p.offC + bz * p.batchC + gi * p.ldc + gj;
  var v = p.alpha * acc;
  if (DROP_ON == 3u) {
    var em = e;
    if (DROP_ROWS == 1u) { em = p.offC + bz * p.batchC + maskRow(gi) * p.ldc + gj; }
    v *= dropMul(key, em);
  }
  if (EPI != 0u) { v = epilogue(gi, gj, v); }
  if ((EPI & 4u) != 0u) { swigluStore(gi, gj, e, v); return; }
  if (p.accumulate == 1u) { v += c[e]; }
  c[e] = v;
}

// Stores row gi of the thread's block: columns jL..jL+3 from lo and (TN = 8) jH..jH+3 from hi. A loop, not
// unrolled calls: the epilogue is instantiated once per row (compile time on CPU Vulkan grows with code size).
fn storeRow(gi: u32, jL: u32, jH: u32, bz: u32, z: u32, key: u32, lo: vec4<f32>, hi: vec4<f32>) {
  if (gi >= p.M) { return; }
  for (var e = 0u; e < TN; e++) {
    let h = e >= 4u;
    storeOne(gi, select(jL, jH, h) + (e & 3u), bz, z, key, select(lo, hi, h)[e & 3u]);
  }
}

// ---- epilogue (fusion): applied to each finished element before the store (and before accumulate) ----
// EPI & 1: the low-rank term of LoRA, v + lrScale·Σ_r X(i, g(j)·lrR + r)·Y(j, r) (fma over r in order, like a
//          separate product added afterwards: bit-identical to it). Forward: X = xa, Y = lora_B; grouped q/k/v or
//          gate/up outputs pick their own xa columns through g(j). Backward dinp: X = dout·B, Y = lora_A read (k, r).
// EPI & 2: the residual add, v + res(i, j) (x_{l+1} = x2 + down_proj(h) written by the down_proj product).
// EPI & 4: the SwiGLU backward, in the down_proj dinp product whose result v is dh(i, j) (M, F = N): instead of dh
//          it stores dgate at C(i, j) and dup at C(i, N + j) (C = dgu (M, 2F), assigned), reading gate and up from
//          res(i, j) and res(i, N + j) (the forward's gu (M, 2F)); the same arithmetic as shaders/swiglu.wgsl.
fn swigluStore(i: u32, j: u32, e: u32, d: f32) {
  let go = p.offRes + i * p.ldRes + j;
  let g = epiRes[go];
  let s = sigmoidStable(g);
  c[e] = d * epiRes[go + p.N] * s * (1.0 + g * (1.0 - s));
  c[e + p.N] = d * g * s;
}

fn epilogue(i: u32, j: u32, v: f32) -> f32 {
  var r = v;
  if ((EPI & 1u) != 0u) {
    let g = select(0u, 1u, j >= p.grp1) + select(0u, 1u, j >= p.grp2);
    let xo = p.offX + i * p.ldX + g * p.lrR;
    let yo = p.offY + j * p.yJ;
    var t = 0.0;
    for (var k = 0u; k < p.lrR; k++) { t = fma(epiX[xo + k], epiY[yo + k * p.yR], t); }
    r += p.lrScale * t;
  }
  if ((EPI & 2u) != 0u) { r += epiRes[p.offRes + i * p.ldRes + j]; }
  return r;
}

@compute @workgroup_size(WG_N, WG_M)
fn matmul(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  tile(lid, wid, 0u);
}

@compute @workgroup_size(WG_N, WG_M)
fn matmul_dropout(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  if (DROP_ROWS == 1u) {
    let BM = WG_M * TM;
    for (var r = 0u; r < BM; r++) { dropRowP[r] = seed[1u + min(wid.y * BM + r, p.M - 1u)]; }
  }
  tile(lid, wid, dropKey(seed[0]));
}

// Split-K stage 2: C[b, i, j] (= or +=) alpha · Σ_s scratch[b·SPLITS + s, i, j], s in order. One thread per element;
// grid (N/WG_N, M/WG_M, batch).
fn reduceOne(gid: vec3<u32>, key: u32, mi: u32) {
  let i = gid.y;
  let j = gid.x;
  if (i >= p.M || j >= p.N) { return; }
  let bz = gid.z;
  var sum = 0.0;
  for (var s = 0u; s < p.splits; s++) { sum += a[((bz * p.splits + s) * p.M + i) * p.N + j]; }
  let e = p.offC + bz * p.batchC + i * p.ldc + j;
  var v = p.alpha * sum;
  if (DROP_ON == 3u) { v *= dropMul(key, p.offC + bz * p.batchC + mi * p.ldc + j); } // mi: the mask's row of i
  if (EPI != 0u) { v = epilogue(i, j, v); }
  if ((EPI & 4u) != 0u) { swigluStore(i, j, e, v); return; }
  if (p.accumulate == 1u) { v += c[e]; }
  c[e] = v;
}

@compute @workgroup_size(WG_N, WG_M)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  reduceOne(gid, 0u, gid.y);
}

@compute @workgroup_size(WG_N, WG_M)
fn reduce_dropout(@builtin(global_invocation_id) gid: vec3<u32>) {
  var mi = gid.y;
  if (DROP_ROWS == 1u) { mi = seed[1u + min(gid.y, p.M - 1u)]; }
  reduceOne(gid, dropKey(seed[0]), mi);
}
