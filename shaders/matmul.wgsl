// Tiled matrix product behind every linear layer (src/ops/matmul.ts builds the operand layouts):
//   C[b, i, j] (= or +=) alpha · Σ_c A[b](i, c) · B[b](j, c)          i < M, j < N, c < K (contraction)
// Forward  out(M,N)  = inp(M,K)·W(N,K)ᵀ : A = inp (c contiguous), B = W (c contiguous).
// Backward dinp(M,K) = dout(M,N)·W(N,K) : A = dout (c contiguous), B = W read (j=k, c=n) (j contiguous).
// Backward dW(N,K)  += dout(M,N)ᵀ·inp(M,K): A = dout read (i=n, c=m), B = inp read (j=k, c=m) (both i/j contiguous).
// A and C are f32. B is bound as u32 words: f32 bits, or two packed 16-bit values (f16 or bf16) per word along
// B's contiguous dimension, low half first; accumulation is always f32.
// Each workgroup owns a BM×BN tile of C (BM = WG_M·TM, BN = WG_N·TN) and walks the contraction in BK slices staged
// through workgroup memory; thread (tx, ty) owns rows ty + r·WG_M and columns tx + s·WG_N of the tile (strided, so
// workgroup-memory reads are conflict-free and C writes coalesce). Out-of-range elements load as 0, so any
// M, N, K work. Sums run in a fixed order: results are bit-identical run to run.
// Split-K (workgroup z = b·splits + s covers contraction [s·kChunk, (s+1)·kChunk)): with splits > 1 the raw partial
// sums go to a dense scratch (batch·splits, M, N) bound as C, and the `reduce` entry adds them up in order s = 0, 1, …
// Dropout (entry points *_dropout only): element e of the masked operand (A, B or C) is scaled by
// keep(e) ? 1/(1−p) : 0, e being that element's index in its own buffer, from a hash of (seed, salt, e).
// (A mask on B needs B in f32.)

override WG_M: u32 = 16;        // threads along rows i
override WG_N: u32 = 16;        // threads along columns j
override TM: u32 = 4;           // rows per thread (≤ 8)
override TN: u32 = 4;           // columns per thread (≤ 8)
override BK: u32 = 16;          // contraction slice per workgroup-memory tile
override DROP_ON: u32 = 0;      // 0 none, 1 A, 2 B, 3 C (the result, before accumulation); *_dropout entries
override EPI: u32 = 0;          // epilogue bits (see epilogue()): 1 low-rank (LoRA) term, 2 residual add
// Layouts, B's dtype and accumulate are uniforms, not overrides: they only steer the few tile-loading and store
// instructions (uniform branches), and keeping them out of the pipeline key keeps the pipeline count to
// tiles × entry points (each pipeline is a separate driver compile; 0.4–2 s each on SwiftShader).

const PAD = 1u;                 // workgroup-memory row padding against bank conflicts on the transposed stores

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
}

@group(0) @binding(0) var<storage, read> a: array<f32>;          // reduce: the split-K scratch
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<storage, read> seed: array<u32>;       // u32[1], *_dropout entries only
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> epiX: array<f32>;       // epilogue operands (a 4-byte dummy when EPI = 0)
@group(0) @binding(6) var<storage, read> epiY: array<f32>;
@group(0) @binding(7) var<storage, read> epiRes: array<f32>;

var<workgroup> As: array<f32, BK * (WG_M * TM + PAD)>;   // As[cc·(BM+PAD) + ii]
var<workgroup> Bs: array<f32, BK * (WG_N * TN + PAD)>;   // Bs[cc·(BN+PAD) + jj]

// lowbias32 (Chris Wellons): a bijective u32 mixer. Mirrored by dropoutHash in src/ops/matmul.ts.
fn mix32(x: u32) -> u32 {
  var h = x;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

// key = mix32(seed ^ mix32(salt)); hash(e) = mix32(mix32(e) ^ key).
fn dropKey(s: u32) -> u32 { return mix32(s ^ mix32(p.dropSalt)); }
fn dropMul(key: u32, e: u32) -> f32 {
  return select(0.0, p.dropScale, mix32(mix32(e) ^ key) >= p.dropThreshold);
}

// Element (row, col) of B in its storage layout; col runs along the contiguous (packed) dimension.
fn loadB(base: u32, row: u32, col: u32) -> f32 {
  if (p.bDtype == 0u) { return bitcast<f32>(b[base + row * p.ldb + col]); }
  let w = b[base + row * p.ldb + (col >> 1u)];
  let bits = select(w & 0xffffu, w >> 16u, (col & 1u) == 1u);
  if (p.bDtype == 1u) { return unpack2x16float(bits).x; }
  return bitcast<f32>(bits << 16u);
}

fn tile(lid: vec3<u32>, wid: vec3<u32>, key: u32) {
  let BM = WG_M * TM;
  let BN = WG_N * TN;
  let NT = WG_M * WG_N;
  let t = lid.y * WG_N + lid.x;
  let i0 = wid.y * BM;
  let j0 = wid.x * BN;
  let bz = wid.z / p.splits;
  let kBegin = (wid.z % p.splits) * p.kChunk;
  let kEnd = min(kBegin + p.kChunk, p.K);
  let baseA = p.offA + bz * p.batchA;
  let baseB = p.offB + bz * p.batchB;
  let aK = p.aKContig == 1u;
  let bK = p.bKContig == 1u;

  // Row r of the thread's TM×TN block accumulates in (c<r>L, c<r>H): columns s = 0..3 and 4..7. Named variables,
  // not an indexed array: rows ≥ TM and the high halves when TN ≤ 4 are constant-false branches the compiler
  // removes, and no private memory is indexed dynamically (CPU Vulkan turns that into per-lane gathers/scatters).
  // Each C element still sees fma over c = kBegin, kBegin+1, … in order: results are those of a scalar loop.
  var c0L = vec4<f32>(0.0); var c0H = vec4<f32>(0.0); var c1L = vec4<f32>(0.0); var c1H = vec4<f32>(0.0);
  var c2L = vec4<f32>(0.0); var c2H = vec4<f32>(0.0); var c3L = vec4<f32>(0.0); var c3H = vec4<f32>(0.0);
  var c4L = vec4<f32>(0.0); var c4H = vec4<f32>(0.0); var c5L = vec4<f32>(0.0); var c5H = vec4<f32>(0.0);
  var c6L = vec4<f32>(0.0); var c6H = vec4<f32>(0.0); var c7L = vec4<f32>(0.0); var c7H = vec4<f32>(0.0);
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    for (var l = t; l < BM * BK; l += NT) {
      var ii = l / BK;
      var cc = l % BK;
      if (!aK) { cc = l / BM; ii = l % BM; }
      let gi = i0 + ii;
      let gc = k0 + cc;
      var v = 0.0;
      if (gi < p.M && gc < kEnd) {
        let e = baseA + select(gc * p.lda + gi, gi * p.lda + gc, aK);
        v = a[e];
        if (DROP_ON == 1u) { v *= dropMul(key, e); }
      }
      As[cc * (BM + PAD) + ii] = v;
    }
    for (var l = t; l < BN * BK; l += NT) {
      var jj = l / BK;
      var cc = l % BK;
      if (!bK) { cc = l / BN; jj = l % BN; }
      let gj = j0 + jj;
      let gc = k0 + cc;
      var v = 0.0;
      if (gj < p.N && gc < kEnd) {
        let row = select(gc, gj, bK);
        let col = select(gj, gc, bK);
        v = loadB(baseB, row, col);
        if (DROP_ON == 2u) { v *= dropMul(key, baseB + row * p.ldb + col); }
      }
      Bs[cc * (BN + PAD) + jj] = v;
    }
    workgroupBarrier();
    for (var cc = 0u; cc < BK; cc++) {
      let ao = cc * (BM + PAD) + lid.y;
      let bo = cc * (BN + PAD) + lid.x;
      let bL = vec4<f32>(bs(bo, 0u), bs(bo, 1u), bs(bo, 2u), bs(bo, 3u));
      var bH = vec4<f32>(0.0);
      if (TN > 4u) { bH = vec4<f32>(bs(bo, 4u), bs(bo, 5u), bs(bo, 6u), bs(bo, 7u)); }
      if (TM > 0u) { let x = vec4<f32>(As[ao]); c0L = fma(x, bL, c0L); if (TN > 4u) { c0H = fma(x, bH, c0H); } }
      if (TM > 1u) { let x = vec4<f32>(As[ao + WG_M]); c1L = fma(x, bL, c1L); if (TN > 4u) { c1H = fma(x, bH, c1H); } }
      if (TM > 2u) { let x = vec4<f32>(As[ao + 2u * WG_M]); c2L = fma(x, bL, c2L); if (TN > 4u) { c2H = fma(x, bH, c2H); } }
      if (TM > 3u) { let x = vec4<f32>(As[ao + 3u * WG_M]); c3L = fma(x, bL, c3L); if (TN > 4u) { c3H = fma(x, bH, c3H); } }
      if (TM > 4u) { let x = vec4<f32>(As[ao + 4u * WG_M]); c4L = fma(x, bL, c4L); if (TN > 4u) { c4H = fma(x, bH, c4H); } }
      if (TM > 5u) { let x = vec4<f32>(As[ao + 5u * WG_M]); c5L = fma(x, bL, c5L); if (TN > 4u) { c5H = fma(x, bH, c5H); } }
      if (TM > 6u) { let x = vec4<f32>(As[ao + 6u * WG_M]); c6L = fma(x, bL, c6L); if (TN > 4u) { c6H = fma(x, bH, c6H); } }
      if (TM > 7u) { let x = vec4<f32>(As[ao + 7u * WG_M]); c7L = fma(x, bL, c7L); if (TN > 4u) { c7H = fma(x, bH, c7H); } }
    }
    workgroupBarrier();
  }

  let o = vec3<u32>(i0 + lid.y, j0 + lid.x, bz);
  storeRow(o, 0u, wid.z, key, c0L, c0H);
  if (TM > 1u) { storeRow(o, 1u, wid.z, key, c1L, c1H); }
  if (TM > 2u) { storeRow(o, 2u, wid.z, key, c2L, c2H); }
  if (TM > 3u) { storeRow(o, 3u, wid.z, key, c3L, c3H); }
  if (TM > 4u) { storeRow(o, 4u, wid.z, key, c4L, c4H); }
  if (TM > 5u) { storeRow(o, 5u, wid.z, key, c5L, c5H); }
  if (TM > 6u) { storeRow(o, 6u, wid.z, key, c6L, c6H); }
  if (TM > 7u) { storeRow(o, 7u, wid.z, key, c7L, c7H); }
}

// Column s < TN of the thread's row in this Bs row (bo = row start + lid.x); 0 past TN.
fn bs(bo: u32, s: u32) -> f32 {
  if (s < TN) { return Bs[bo + s * WG_N]; }
  return 0.0;
}

// Stores row r (columns lo = 0..3, hi = 4..7) of the thread's block; o = (first row, first column, batch item).
fn storeRow(o: vec3<u32>, r: u32, z: u32, key: u32, lo: vec4<f32>, hi: vec4<f32>) {
  let gi = o.x + r * WG_M;
  if (gi >= p.M) { return; }
  for (var s = 0u; s < TN; s++) {
    let gj = o.y + s * WG_N;
    if (gj >= p.N) { break; }
    let acc = select(hi[s & 3u], lo[s & 3u], s < 4u);
    if (p.splits > 1u) {
      c[(z * p.M + gi) * p.N + gj] = acc;
    } else {
      let e = p.offC + o.z * p.batchC + gi * p.ldc + gj;
      var v = p.alpha * acc;
      if (DROP_ON == 3u) { v *= dropMul(key, e); }
      if (EPI != 0u) { v = epilogue(gi, gj, v); }
      if (p.accumulate == 1u) { v += c[e]; }
      c[e] = v;
    }
  }
}

// ---- epilogue (fusion): applied to each finished element before the store (and before accumulate) ----
// EPI & 1: the low-rank term of LoRA, v + lrScale·Σ_r X(i, g(j)·lrR + r)·Y(j, r) (fma over r in order, like a
//          separate product added afterwards: bit-identical to it). Forward: X = xa, Y = lora_B; grouped q/k/v or
//          gate/up outputs pick their own xa columns through g(j). Backward dinp: X = dout·B, Y = lora_A read (k, r).
// EPI & 2: the residual add, v + res(i, j) (x_{l+1} = x2 + down_proj(h) written by the down_proj product).
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
  tile(lid, wid, dropKey(seed[0]));
}

// Split-K stage 2: C[b, i, j] (= or +=) alpha · Σ_s scratch[b·SPLITS + s, i, j], s in order. One thread per element;
// grid (N/WG_N, M/WG_M, batch).
fn reduceOne(gid: vec3<u32>, key: u32) {
  let i = gid.y;
  let j = gid.x;
  if (i >= p.M || j >= p.N) { return; }
  let bz = gid.z;
  var sum = 0.0;
  for (var s = 0u; s < p.splits; s++) { sum += a[((bz * p.splits + s) * p.M + i) * p.N + j]; }
  let e = p.offC + bz * p.batchC + i * p.ldc + j;
  var v = p.alpha * sum;
  if (DROP_ON == 3u) { v *= dropMul(key, e); }
  if (EPI != 0u) { v = epilogue(i, j, v); }
  if (p.accumulate == 1u) { v += c[e]; }
  c[e] = v;
}

@compute @workgroup_size(WG_N, WG_M)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  reduceOne(gid, 0u);
}

@compute @workgroup_size(WG_N, WG_M)
fn reduce_dropout(@builtin(global_invocation_id) gid: vec3<u32>) {
  reduceOne(gid, dropKey(seed[0]));
}
