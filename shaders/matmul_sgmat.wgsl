// The GEMM on subgroup matrices (chromium_experimental_subgroup_matrix: the GPU's matrix units, e.g. tensor cores).
// Appended to shaders/matmul.wgsl's shader-f16 variant by src/ops/matmul_sgmat.ts, which also prepends the enables
// and the configuration constants (subgroup matrices need const sizes, so they are not overrides):
//   SM_M, SM_N, SM_K  one f16→f32 configuration the adapter lists (8×8×8 on lavapipe and Apple, 16×16×16 on NVIDIA)
//   RM, RN            result matrices per subgroup along rows / columns; KSTEPS: SM_K steps per staged slice
//   SG_THREADS        threads per workgroup: 4 × the adapter's largest subgroup size (a multiple of it, as required)
// Same product, same Params and bindings, same loads (loadA/loadB: both layouts, packed 16-bit B, the SwiGLU
// prologue, dropout on A) and the same store (storeOne: alpha, dropout on C, the epilogue, accumulate, split-K partial
// sums), so every caller of gemmKernel gets it unchanged; only the multiply runs on subgroup matrices:
//   C(i, j) = Σ_c A(i, c)·B(j, c) with f16 operands and f32 accumulation, and still f32-accurate:
// - B, the 16-bit weight, is exact in f16: f16 as stored, bf16 as value·2^s (src/ops/f16_tiles.ts checked every
//   value of the tensor; alpha carries 2^-s, as in the f16 tiles).
// - A (f32) is split per row: A(i, c)·2^e_i = hi + lo, both f16, with 2^e_i chosen from the row's largest |A| over
//   the split's contraction range so that |A·2^e_i| < 2^15 (no f16 overflow, small values stay normal). hi holds
//   A's top 11 significant bits, lo the next 11 (lo = A·2^e_i − hi is exact in f32 before its rounding), so hi·B + lo·B is
//   A·B·2^e_i to ~2^-22 relative per term: two matrix products per step, f32-level results (tests/sgmat). The store
//   divides by 2^e_i (exact). A row with a non-finite A value gives NaN in every column (the trainer's non-finite
//   check sees it; the f32 kernel would give Inf or NaN there).
// Layout: workgroup tile SG_BM × SG_BN = (2·RM·SM_M) × (2·RN·SM_N); subgroups 0–3 each own a quarter (RM × RN result
// matrices); extra subgroups (a device running smaller subgroups than its largest) only load and store. Slices of
// SG_BK = KSTEPS·SM_K contraction values are staged as f16 rows [i][c] (A hi, A lo) and [j][c] (B). Global loads are
// matmul.wgsl's units (loadA/loadB: vec4 of A, four packed words = 8 values of B where offsets and strides allow,
// per element at the edges; the wrapper sets BK = SG_BK and WG_M·TM = SG_BM, WG_N·TN = SG_BN so that their unit
// mapping covers this tile). SG_PF = 1 (≤ 4 units per thread per operand): the next slice's units are loaded into
// registers before the current slice's matrix products and staged after them (two barriers per slice, one buffer).
// The row scales come from a first pass over the split's A rows in the same units: per row the largest |A| as u32 bits
// (sign cleared; positive floats order as their bits, Inf and NaN above every finite value) by workgroup atomicMax.
// Subgroup matrix calls sit in subgroup-uniform control flow (sid < 4): the uniformity diagnostic is off.

const SG_BM = 2u * RM * SM_M;
const SG_BN = 2u * RN * SM_N;
const SG_BK = KSTEPS * SM_K;
override SG_LA: u32 = (SG_BM * SG_BK / UA + SG_THREADS - 1u) / SG_THREADS;   // A units per thread per slice
override SG_LB: u32 = (SG_BN * SG_BK / UB + SG_THREADS - 1u) / SG_THREADS;   // B units per thread per slice
override SG_PF: u32 = select(0u, 1u, SG_LA <= 4u && SG_LB <= 4u);

var<workgroup> sgAhi: array<f16, SG_BM * SG_BK>;    // [i][c]: hi part of A(i, c)·2^e_i
var<workgroup> sgAlo: array<f16, SG_BM * SG_BK>;    // [i][c]: lo part
var<workgroup> sgB: array<f16, SG_BN * SG_BK>;      // [j][c]: B(j, c) (·2^s for bf16)
var<workgroup> sgC: array<f32, 4u * SM_M * SM_N>;   // one result matrix of each subgroup, on its way to storeOne
var<workgroup> sgRowBits: array<atomic<u32>, SG_BM>; // the pre-pass: largest |A(i, ·)| as bits
var<workgroup> sgScale: array<f32, SG_BM>;          // 2^e_i; −1: non-finite row

// A quiet NaN (read at run time: a NaN constant expression is an error).
var<private> sgNaNBits: u32 = 0x7fc00000u;
fn sgNaN() -> f32 { return bitcast<f32>(sgNaNBits); }

fn sgAbsBits(v: f32) -> u32 { return bitcast<u32>(v) & 0x7fffffffu; }

// 2^e_i for each tile row: |A(i, ·)| < 2^15 after scaling; 1 for an all-zero row; −1 for a non-finite one.
fn sgRowScales(tl: Tile, t: u32, k0s: u32, nSlices: u32) {
  for (var i = t; i < SG_BM; i += SG_THREADS) { atomicStore(&sgRowBits[i], 0u); }
  workgroupBarrier();
  for (var s = 0u; s < nSlices; s++) {
    for (var l = t; l < SG_BM * SG_BK / UA; l += SG_THREADS) {
      let v = loadA(tl, l, k0s + s * SG_BK);
      let u = unitA(l);
      if (UA == 1u) {
        atomicMax(&sgRowBits[u.x], sgAbsBits(v.x));
      } else if (aKC()) { // four values of row u.x
        atomicMax(&sgRowBits[u.x], max(max(sgAbsBits(v.x), sgAbsBits(v.y)), max(sgAbsBits(v.z), sgAbsBits(v.w))));
      } else { // rows u.x .. u.x + 3
        atomicMax(&sgRowBits[u.x], sgAbsBits(v.x));
        atomicMax(&sgRowBits[u.x + 1u], sgAbsBits(v.y));
        atomicMax(&sgRowBits[u.x + 2u], sgAbsBits(v.z));
        atomicMax(&sgRowBits[u.x + 3u], sgAbsBits(v.w));
      }
    }
  }
  workgroupBarrier();
  for (var i = t; i < SG_BM; i += SG_THREADS) {
    let m = atomicLoad(&sgRowBits[i]);
    var s = 1.0;
    if (m >= 0x7f800000u) {
      s = -1.0;
    } else if (m != 0u) {
      // m < 2^(e+1) with e its exponent (subnormals: e = −127): m·2^(14−e) < 2^15
      let e = i32(m >> 23u) - 127;
      s = ldexp(1.0, clamp(14 - e, -126, 126));
    }
    sgScale[i] = s;
  }
  workgroupBarrier();
}

// One element of A into the f16 hi/lo rows, scaled by its row's 2^e_i. hi: the top 11 significant bits by masking
// (exact in f16 for |v| ≥ 2^-14); lo: the rest, exact in f32. Bits, not v − f32(f16(v)): compilers may fold that
// round trip to v (lavapipe does), which leaves lo = 0.
fn sgPutA(i: u32, c: u32, x: f32) {
  let s = sgScale[i];
  let v = x * select(s, 1.0, s < 0.0);
  let hi = bitcast<f32>(bitcast<u32>(v) & 0xffffe000u);
  sgAhi[i * SG_BK + c] = f16(hi);
  sgAlo[i * SG_BK + c] = f16(v - hi);
}

fn sgStoreA(l: u32, v: vec4<f32>) {
  if (l >= SG_BM * SG_BK / UA) { return; }
  let u = unitA(l);
  if (UA == 1u) { sgPutA(u.x, u.y, v.x); return; }
  if (aKC()) {
    sgPutA(u.x, u.y, v.x); sgPutA(u.x, u.y + 1u, v.y); sgPutA(u.x, u.y + 2u, v.z); sgPutA(u.x, u.y + 3u, v.w);
  } else {
    sgPutA(u.x, u.y, v.x); sgPutA(u.x + 1u, u.y, v.y); sgPutA(u.x + 2u, u.y, v.z); sgPutA(u.x + 3u, u.y, v.w);
  }
}

fn sgPutB(j: u32, c: u32, x: f32) { sgB[j * SG_BK + c] = f16(x); }

// A unit of B (loadB's raw words): one value (f32 bits, bScale applied) or four packed words = 8 values.
fn sgStoreB(l: u32, r: vec4<u32>) {
  if (l >= SG_BN * SG_BK / UB) { return; }
  let u = unitB(l);
  if (UB == 1u) { sgPutB(u.x, u.y, bitcast<f32>(r.x)); return; }
  let lo = vec4<f32>(unpackWord(r.x), unpackWord(r.y));
  let hi = vec4<f32>(unpackWord(r.z), unpackWord(r.w));
  if (bKC()) {
    for (var e = 0u; e < 4u; e++) { sgPutB(u.x, u.y + e, lo[e]); sgPutB(u.x, u.y + 4u + e, hi[e]); }
  } else {
    for (var e = 0u; e < 4u; e++) { sgPutB(u.x + e, u.y, lo[e]); sgPutB(u.x + 4u + e, u.y, hi[e]); }
  }
}

fn sgStageDirect(tl: Tile, t: u32, k0: u32) {
  for (var l = t; l < SG_BM * SG_BK / UA; l += SG_THREADS) { sgStoreA(l, loadA(tl, l, k0)); }
  for (var l = t; l < SG_BN * SG_BK / UB; l += SG_THREADS) { sgStoreB(l, loadB(tl, l, k0)); }
}

fn sgTile(t: u32, sid: u32, wid: vec3<u32>, key: u32) {
  let bz = wid.z / p.splits;
  let kBegin = (wid.z % p.splits) * p.kChunk;
  let tl = tileOf(wid, key, SG_BM, SG_BN);
  let k0s = min(kBegin, tl.kEnd);
  let nSlices = (tl.kEnd - k0s + SG_BK - 1u) / SG_BK;
  sgRowScales(tl, t, k0s, nSlices);

  // this subgroup's quarter of the tile (subgroups ≥ 4 have none)
  let bi = (sid / 2u) * RM * SM_M;
  let bj = (sid % 2u) * RN * SM_N;
  var acc: array<subgroup_matrix_result<f32, SM_N, SM_M>, RM * RN>;
  for (var r = 0u; r < RM * RN; r++) { acc[r] = subgroup_matrix_result<f32, SM_N, SM_M>(); }
  var hi: array<subgroup_matrix_left<f16, SM_K, SM_M>, RM>;
  var lo: array<subgroup_matrix_left<f16, SM_K, SM_M>, RM>;
  var ra: array<vec4<f32>, 4>;
  var rb: array<vec4<u32>, 4>;
  if (nSlices > 0u) { sgStageDirect(tl, t, k0s); }
  workgroupBarrier();
  for (var s = 0u; s < nSlices; s++) {
    let kn = k0s + (s + 1u) * SG_BK;
    let more = s + 1u < nSlices;
    if (SG_PF == 1u && more) {
      for (var q = 0u; q < SG_LA; q++) { ra[q] = loadA(tl, t + q * SG_THREADS, kn); }
      for (var q = 0u; q < SG_LB; q++) { rb[q] = loadB(tl, t + q * SG_THREADS, kn); }
    }
    if (sid < 4u) {
      for (var kk = 0u; kk < KSTEPS; kk++) {
        for (var rm = 0u; rm < RM; rm++) {
          let off = (bi + rm * SM_M) * SG_BK + kk * SM_K;
          hi[rm] = subgroupMatrixLoad<subgroup_matrix_left<f16, SM_K, SM_M>, row_major>(&sgAhi, off, SG_BK);
          lo[rm] = subgroupMatrixLoad<subgroup_matrix_left<f16, SM_K, SM_M>, row_major>(&sgAlo, off, SG_BK);
        }
        for (var rn = 0u; rn < RN; rn++) {
          // B(j, c) staged [j][c] is the right matrix (c rows × j columns) stored column-major
          let right = subgroupMatrixLoad<subgroup_matrix_right<f16, SM_N, SM_K>, col_major>(&sgB, (bj + rn * SM_N) * SG_BK + kk * SM_K, SG_BK);
          for (var rm = 0u; rm < RM; rm++) {
            let r = rm * RN + rn;
            acc[r] = subgroupMatrixMultiplyAccumulate(lo[rm], right, acc[r]);
            acc[r] = subgroupMatrixMultiplyAccumulate(hi[rm], right, acc[r]);
          }
        }
      }
    }
    workgroupBarrier();
    if (more) {
      if (SG_PF == 1u) {
        for (var q = 0u; q < SG_LA; q++) { sgStoreA(t + q * SG_THREADS, ra[q]); }
        for (var q = 0u; q < SG_LB; q++) { sgStoreB(t + q * SG_THREADS, rb[q]); }
      } else {
        sgStageDirect(tl, t, kn);
      }
    }
    workgroupBarrier();
  }

  // Result matrix r of every subgroup through sgC, then storeOne per element (all threads), unscaled by 2^-e_i.
  for (var r = 0u; r < RM * RN; r++) {
    if (sid < 4u) { subgroupMatrixStore<row_major>(&sgC, sid * SM_M * SM_N, acc[r], SM_N); }
    workgroupBarrier();
    for (var e = t; e < 4u * SM_M * SM_N; e += SG_THREADS) {
      let q = e / (SM_M * SM_N);
      let w = e % (SM_M * SM_N);
      let i = (q / 2u) * RM * SM_M + (r / RN) * SM_M + w / SM_N;
      let j = (q % 2u) * RN * SM_N + (r % RN) * SM_N + w % SM_N;
      let gi = tl.i0 + i;
      if (gi < p.M) {
        let s = sgScale[i];
        storeOne(gi, tl.j0 + j, bz, wid.z, key, select(sgC[e] / s, sgNaN(), s < 0.0));
      }
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(SG_THREADS)
fn matmul_sgmat(@builtin(local_invocation_index) t: u32, @builtin(subgroup_id) sid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  sgTile(t, sid, wid, 0u);
}

@compute @workgroup_size(SG_THREADS)
fn matmul_sgmat_dropout(@builtin(local_invocation_index) t: u32, @builtin(subgroup_id) sid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  if (DROP_ROWS == 1u) {
    for (var r = 0u; r < SG_BM; r++) { dropRowP[r] = seed[1u + min(wid.y * SG_BM + r, p.M - 1u)]; }
  }
  sgTile(t, sid, wid, dropKey(seed[0]));
}
