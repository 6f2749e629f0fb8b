// LoRA backward, first product of a fusion group, for every part in ONE launch (src/ops/lora_grads.ts: loraDoutB;
// reference ./src/ops/lora_grads.ref.ts):
//   ws (M, G·R): columns g·R + r = Σ_{n ∈ part g} dout(m, dcol + n) · B(n, r)
// dout (M, ·) row stride ldo; B (N, R) the group's B span (part g's rows start at its first output column).
// Parts may differ in width (q: H·D, k and v: Hkv·D). One workgroup per 64×16 tile of ws (64 rows, 16 columns of
// one part), the part's contraction split among 4 quarters of the workgroup, their sums added in order 0..3:
// deterministic, bit-identical run to run.

const TU: u32 = 64u;     // rows m per tile
const TV: u32 = 16u;     // columns r per tile
const BK: u32 = 8u;      // contraction slice
const QT: u32 = 64u;     // threads per quarter: 16 along m × 4 along r, each 4 m × 4 r outputs

struct Params {
  M: u32,
  R: u32,
  G: u32,
  ldo: u32,
  dcol: u32,
  tilesR: u32,          // ⌈R / 16⌉
  n1: u32,              // part g covers columns [n_g, n_{g+1}) with n_0 = 0, n_G = nEnd = N
  n2: u32,
  nEnd: u32,
}

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> ws: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

const LQ: u32 = BK * TU;
const SQ: u32 = BK * TV;
// staging: 4 quarters × (LQ + SQ); afterwards the partial sums of quarters 1..3 (3·64·16 floats) in the same memory
var<workgroup> sh: array<f32, 3u * QT * 16u>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let perRow = p.G * p.tilesR;
  let m0 = (wid.x / perRow) * TU;
  let g = (wid.x % perRow) / p.tilesR;
  let r0 = (wid.x % p.tilesR) * TV;
  var nBegin = 0u;
  var nStop = p.n1;
  if (g == 1u) { nBegin = p.n1; nStop = p.n2; }
  if (g == 2u) { nBegin = p.n2; nStop = p.nEnd; }
  let q = lid / QT;
  let tid = lid % QT;
  let tu = tid % 16u;
  let tv = tid / 16u;
  let lBase = q * (LQ + SQ);
  let sBase = lBase + LQ;
  var acc: array<array<f32, 4>, 4>;
  let slices = (nStop - nBegin + BK - 1u) / BK;
  let rounds = (slices + 3u) / 4u;
  for (var s = 0u; s < rounds; s++) {
    let c0 = nBegin + (s * 4u + q) * BK;
    for (var e = tid; e < LQ; e += QT) {
      let mm = m0 + e / BK;
      let cc = c0 + e % BK;
      var v = 0.0;
      if (mm < p.M && cc < nStop) { v = dout[mm * p.ldo + p.dcol + cc]; }
      sh[lBase + (e % BK) * TU + e / BK] = v;       // stored [c][m]
    }
    for (var e = tid; e < SQ; e += QT) {
      let cc = c0 + e / TV;
      let rr = r0 + e % TV;
      var v = 0.0;
      if (cc < nStop && rr < p.R) { v = B[cc * p.R + rr]; }
      sh[sBase + e] = v;                             // stored [c][r]
    }
    workgroupBarrier();
    for (var c = 0u; c < BK; c++) {
      for (var i = 0u; i < 4u; i++) {
        let l = sh[lBase + c * TU + tu + 16u * i];
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] = fma(l, sh[sBase + c * TV + tv + 4u * j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  let redBase = 0u;
  if (q > 0u) {
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) {
        sh[redBase + ((q - 1u) * QT + tid) * 16u + i * 4u + j] = acc[i][j];
      }
    }
  }
  workgroupBarrier();
  if (q != 0u) { return; }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + tu + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let r = r0 + tv + 4u * j;
      var v = acc[i][j];
      for (var qq = 0u; qq < 3u; qq++) { v += sh[redBase + (qq * QT + tid) * 16u + i * 4u + j]; }
      if (m < p.M && r < p.R) { ws[m * p.G * p.R + g * p.R + r] = v; }
    }
  }
}
