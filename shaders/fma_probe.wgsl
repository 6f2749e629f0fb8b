// The adapter's f32 FMA ceiling (bench/fma.ts): every thread runs ITERS rounds of 8 independent vec4 fma chains
// (enough independent work to hide the fma latency), 64 fma-flops per chain round, all in registers; the sums are
// written out so nothing is optimised away. FLOPs = threads · ITERS · 8 · 4 · 2.

override ITERS: u32 = 1024;

@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let s = f32(i & 7u) * 1e-3;
  let m = vec4<f32>(0.999, 0.9991, 0.9992, 0.9993);
  let d = vec4<f32>(1e-4, 2e-4, 3e-4, 4e-4);
  var x0 = vec4<f32>(s); var x1 = x0 + 0.1; var x2 = x0 + 0.2; var x3 = x0 + 0.3;
  var x4 = x0 + 0.4; var x5 = x0 + 0.5; var x6 = x0 + 0.6; var x7 = x0 + 0.7;
  for (var k = 0u; k < ITERS; k++) {
    x0 = fma(x0, m, d); x1 = fma(x1, m, d); x2 = fma(x2, m, d); x3 = fma(x3, m, d);
    x4 = fma(x4, m, d); x5 = fma(x5, m, d); x6 = fma(x6, m, d); x7 = fma(x7, m, d);
  }
  out[i] = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
}
