// The LoRA parameter gradients of one fusion group of linears (q|k|v, gate|up, o, down) in ONE launch
// (src/ops/lora_grads.ts; reference ./src/ops/lora_grads.ref.ts):
//   dB (N, R)   (= or +=) scale · doutᵀ · xa_g          row n of dB belongs to part g(n) (its column block of dout)
//   dA (G·R, K) (= or +=) scale · wsᵀ · drop_g(inp)     row g·R + r of dA belongs to part g
// with dout (M, N) (row stride ldo, first column dcol), xa (M, G·R) = drop(inp)·Aᵀ saved by the forward,
// ws (M, G·R) = dout_g·B_g from the backward, inp (M, K) the group's input (or, with inpGlu, [gate | up] (M, 2K)
// standing for h = silu(gate)·up). Both are products over the M rows, with
// a small output: one workgroup per 64×16 output tile (64 along n or k, 16 along r), the M rows split among
// 4 quarters of the workgroup (quarter q takes slices q, q+4, …), the quarters' sums added in order 0,1,2,3 at the
// end: deterministic, bit-identical run to run. Workgroups [0, nB) are dB tiles, [nB, …) dA tiles.
// Dropout (LoRA dropout, per part g): element e = m·K + k of inp is scaled by keep ? 1/(1−p) : 0 from the hash of
// (seed, salt_g, e), as matmul.wgsl's *_dropout entries do for the forward's xa. dropRows = 1: the M rows are rows of
// a larger batch (the last decoder layer's pooled rows) and row m's mask is that of batch row seed[1 + m].

const TU: u32 = 64u;     // tile along n (dB) or k (dA)
const TV: u32 = 16u;     // tile along r
const BK: u32 = 8u;      // rows of M per slice
const QT: u32 = 64u;     // threads per quarter: 16 along u × 4 along v, each 4 u × 4 v outputs
const GMAX: u32 = 3u;    // parts per group

struct Params {
  M: u32,
  N: u32,
  K: u32,
  R: u32,
  G: u32,
  ldo: u32,             // dout row stride
  dcol: u32,            // dout's first column
  ldx: u32,             // xa / ws row stride (G·R)
  b1: u32,              // first dB row of part 1 (0xffffffff: none)
  b2: u32,              // first dB row of part 2
  nB: u32,              // dB tiles
  tilesR: u32,          // ⌈R / 16⌉
  accumulate: u32,
  dropout: u32,
  dropThreshold: u32,
  dropScale: f32,
  salt0: u32,
  salt1: u32,
  salt2: u32,
  scale: f32,
  inpGlu: u32,          // 1: inp holds [gate | up] rows (M, 2K) and the input is silu(gate)·up (down_proj's h)
  dropRows: u32,        // 1: seed is [seed, mask row of row 0, …] (see above)
}

// mix32 and sigmoidStable: shaders/common_math.wgsl (appended by src/ops/lora_grads.ts).

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> xa: array<f32>;
@group(0) @binding(2) var<storage, read> ws: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(4) var<storage, read_write> dB: array<f32>;
@group(0) @binding(5) var<storage, read_write> dA: array<f32>;
@group(0) @binding(6) var<storage, read> seed: array<u32>;
@group(0) @binding(7) var<uniform> p: Params;

// Per quarter: L [BK][TU], S [BK][GMAX][TV] (dB stages every part's xa columns; dA uses part 0's slot).
// After the loop the same memory holds the partial sums of quarters 1..3 (3·64·16 ≤ 4·(512+384) floats).
const LQ: u32 = BK * TU;
const SQ: u32 = BK * GMAX * TV;
var<workgroup> sh: array<f32, 4u * (LQ + SQ)>;

fn dropMul(key: u32, e: u32) -> f32 {
  return select(0.0, p.dropScale, mix32(mix32(e) ^ key) >= p.dropThreshold);
}

fn partOf(n: u32) -> u32 {
  return select(0u, 1u, n >= p.b1) + select(0u, 1u, n >= p.b2);
}

fn saltOf(g: u32) -> u32 {
  if (g == 0u) { return p.salt0; }
  if (g == 1u) { return p.salt1; }
  return p.salt2;
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  let isB = t < p.nB;
  // The tile: u0 along n (dB) or k (dA); part g and r0 along r.
  var u0: u32;
  var g: u32 = 0u;
  var r0: u32;
  var uEnd: u32;
  if (isB) {
    u0 = (t / p.tilesR) * TU;
    r0 = (t % p.tilesR) * TV;
    uEnd = p.N;
  } else {
    let ta = t - p.nB;
    let perK = p.G * p.tilesR;
    u0 = (ta / perK) * TU;
    g = (ta % perK) / p.tilesR;
    r0 = (ta % p.tilesR) * TV;
    uEnd = p.K;
  }
  let key = mix32(seed[0] ^ mix32(saltOf(g)));
  let q = lid / QT;            // quarter
  let tid = lid % QT;
  let tu = tid % 16u;
  let tv = tid / 16u;
  let lBase = q * (LQ + SQ);
  let sBase = lBase + LQ;
  // dB: each of this thread's 4 rows n reads the xa columns of its own part.
  var gsel: array<u32, 4>;
  for (var i = 0u; i < 4u; i++) {
    gsel[i] = select(0u, partOf(min(u0 + tu + 16u * i, p.N - 1u)), isB);
  }
  var acc: array<array<f32, 4>, 4>;
  let slices = (p.M + BK - 1u) / BK;
  let rounds = (slices + 3u) / 4u;
  for (var s = 0u; s < rounds; s++) {
    let m0 = (s * 4u + q) * BK;
    // stage L: BK × TU
    for (var e = tid; e < LQ; e += QT) {
      let mm = m0 + e / TU;
      let uu = u0 + e % TU;
      var v = 0.0;
      if (mm < p.M && uu < uEnd) {
        if (isB) {
          v = dout[mm * p.ldo + p.dcol + uu];
        } else {
          let ei = mm * p.K + uu;
          if (p.inpGlu != 0u) {
            let g = inp[mm * 2u * p.K + uu];
            v = g * sigmoidStable(g) * inp[mm * 2u * p.K + p.K + uu];
          } else {
            v = inp[ei];
          }
          if (p.dropout != 0u) {
            var em = ei;
            if (p.dropRows != 0u) { em = seed[1u + mm] * p.K + uu; }
            v *= dropMul(key, em);
          }
        }
      }
      sh[lBase + e] = v;
    }
    // stage S: BK × GMAX × TV (dB: every part; dA: part g in slot 0)
    for (var e = tid; e < SQ; e += QT) {
      let mm = m0 + e / (GMAX * TV);
      let gg = (e / TV) % GMAX;
      let rr = r0 + e % TV;
      var v = 0.0;
      if (mm < p.M && rr < p.R) {
        if (isB) {
          if (gg < p.G) { v = xa[mm * p.ldx + gg * p.R + rr]; }
        } else if (gg == 0u) {
          v = ws[mm * p.ldx + g * p.R + rr];
        }
      }
      sh[sBase + e] = v;
    }
    workgroupBarrier();
    for (var c = 0u; c < BK; c++) {
      for (var i = 0u; i < 4u; i++) {
        let l = sh[lBase + c * TU + tu + 16u * i];
        let sRow = sBase + c * GMAX * TV + gsel[i] * TV;
        for (var j = 0u; j < 4u; j++) {
          acc[i][j] = fma(l, sh[sRow + tv + 4u * j], acc[i][j]);
        }
      }
    }
    workgroupBarrier();
  }
  // quarters 1..3 hand their sums to quarter 0, which adds them in order
  if (q > 0u) {
    for (var i = 0u; i < 4u; i++) {
      for (var j = 0u; j < 4u; j++) {
        sh[((q - 1u) * QT + tid) * 16u + i * 4u + j] = acc[i][j];
      }
    }
  }
  workgroupBarrier();
  if (q != 0u) { return; }
  for (var i = 0u; i < 4u; i++) {
    let u = u0 + tu + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let r = r0 + tv + 4u * j;
      var v = acc[i][j];
      for (var qq = 0u; qq < 3u; qq++) { v += sh[(qq * QT + tid) * 16u + i * 4u + j]; }
      v *= p.scale;
      if (u < uEnd && r < p.R) {
        if (isB) {
          let o = u * p.R + r;
          if (p.accumulate != 0u) { dB[o] = dB[o] + v; } else { dB[o] = v; }
        } else {
          let o = (g * p.R + r) * p.K + u;
          if (p.accumulate != 0u) { dA[o] = dA[o] + v; } else { dA[o] = v; }
        }
      }
    }
  }
}
