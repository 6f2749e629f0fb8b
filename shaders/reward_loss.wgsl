// Bradley–Terry reward loss of TRL's RewardTrainer, its gradient and the micro-batch metrics, in one workgroup.
// rewards (2P,): chosen r_c = rewards[0..P), rejected r_r = rewards[P..2P) (TRL concatenates chosen then rejected).
//   d_i   = r_c,i - r_r,i - m_i                         (m_i = margins[i] if HAS_MARGIN, else 0)
//   loss  = -mean_i logsigmoid(d_i) + c · mean_i (r_c,i + r_r,i)²        (c = center_rewards_coefficient, 0 = off)
//   dloss/dr_c,i = -sigmoid(-d_i)/P + 2c(r_c,i + r_r,i)/P,   dloss/dr_r,i = +sigmoid(-d_i)/P + 2c(r_c,i + r_r,i)/P
//   drewards = grad_scale · dloss/drewards  (assigned)
// metrics[off..off+8) = [loss, accuracy = mean(r_c > r_r), margin = mean(r_c - r_r), min, mean, max (over all 2P
// rewards), P, 0]. Deterministic: each thread walks pairs tid, tid+WG, ... in order, then fixed trees.
// Stable for any |r|: logsigmoid(x) = min(x,0) - log1p(exp(-|x|)), with a polynomial log1p (no log() near 1).

override WG: u32 = 256;          // power of two
override HAS_MARGIN: bool = false;

struct Params { P: u32, metrics_offset: u32, center_coef: f32, grad_scale: f32 }

@group(0) @binding(0) var<storage, read_write> metrics: array<f32>;   // (≥ off+8,)
@group(0) @binding(1) var<storage, read_write> drewards: array<f32>;  // (2P,)
@group(0) @binding(2) var<storage, read> rewards: array<f32>;         // (2P,)
@group(0) @binding(3) var<storage, read> margins: array<f32>;         // (P,) (a dummy when HAS_MARGIN is false)
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> s_loss: array<f32, WG>;
var<workgroup> s_center: array<f32, WG>;
var<workgroup> s_acc: array<f32, WG>;
var<workgroup> s_margin: array<f32, WG>;
var<workgroup> s_sum: array<f32, WG>;
var<workgroup> s_min: array<f32, WG>;
var<workgroup> s_max: array<f32, WG>;

// log(1 + u) for u in [0, 1]: 2·atanh(z), z = u/(2+u) ≤ 1/3, odd series to z^19 (next term < 1e-10 relative).
// Avoids log(w) near w = 1, whose WGSL accuracy is only 2^-21 absolute.
fn log1p01(u: f32) -> f32 {
  let z = u / (2.0 + u);
  let z2 = z * z;
  var s = 1.0 / 19.0;
  s = s * z2 + 1.0 / 17.0;
  s = s * z2 + 1.0 / 15.0;
  s = s * z2 + 1.0 / 13.0;
  s = s * z2 + 1.0 / 11.0;
  s = s * z2 + 1.0 / 9.0;
  s = s * z2 + 1.0 / 7.0;
  s = s * z2 + 1.0 / 5.0;
  s = s * z2 + 1.0 / 3.0;
  s = s * z2 + 1.0;
  return 2.0 * z * s;
}

fn logsigmoid(x: f32) -> f32 { return min(x, 0.0) - log1p01(exp(-abs(x))); }

// sigmoid with exp of a non-positive argument only.
fn sigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}

fn margin_of(i: u32) -> f32 {
  if (HAS_MARGIN) { return margins[i]; }
  return 0.0;
}

@compute @workgroup_size(WG)
fn forward(@builtin(local_invocation_index) tid: u32) {
  let P = p.P;
  let fp = f32(P);
  let c = p.center_coef;
  var loss = 0.0;
  var center = 0.0;
  var acc = 0.0;
  var marg = 0.0;
  var sum = 0.0;
  var lo = rewards[0];
  var hi = rewards[0];
  for (var i = tid; i < P; i += WG) {
    let rc = rewards[i];
    let rr = rewards[P + i];
    let d = rc - rr - margin_of(i);
    let both = rc + rr;
    loss -= logsigmoid(d);
    center += both * both;
    if (rc > rr) { acc += 1.0; }
    marg += rc - rr;
    sum += both;
    lo = min(lo, min(rc, rr));
    hi = max(hi, max(rc, rr));
    let g = sigmoid(-d) / fp;
    let gc = 2.0 * c * both / fp;
    drewards[i] = p.grad_scale * (gc - g);
    drewards[P + i] = p.grad_scale * (gc + g);
  }
  s_loss[tid] = loss;
  s_center[tid] = center;
  s_acc[tid] = acc;
  s_margin[tid] = marg;
  s_sum[tid] = sum;
  s_min[tid] = lo;
  s_max[tid] = hi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      s_loss[tid] += s_loss[tid + s];
      s_center[tid] += s_center[tid + s];
      s_acc[tid] += s_acc[tid + s];
      s_margin[tid] += s_margin[tid + s];
      s_sum[tid] += s_sum[tid + s];
      s_min[tid] = min(s_min[tid], s_min[tid + s]);
      s_max[tid] = max(s_max[tid], s_max[tid + s]);
    }
    workgroupBarrier();
  }
  if (tid == 0u) {
    let o = p.metrics_offset;
    var total = s_loss[0] / fp;
    if (c != 0.0) { total += c * (s_center[0] / fp); }
    metrics[o + 0u] = total;
    metrics[o + 1u] = s_acc[0] / fp;
    metrics[o + 2u] = s_margin[0] / fp;
    metrics[o + 3u] = s_min[0];
    metrics[o + 4u] = s_sum[0] / (2.0 * fp);
    metrics[o + 5u] = s_max[0];
    metrics[o + 6u] = fp;
    metrics[o + 7u] = 0.0;
  }
}
