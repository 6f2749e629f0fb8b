// Token embedding. forward: out[i, :] = wte[ids[i], :]. wte is bound as raw u32 words and decoded by DTYPE:
//   0 f32:  one element per word, bitcast
//   1 f16:  two elements per word, element e of the flat (V,C) array in word e/2, low half first (unpack2x16float)
//   2 bf16: same packing; bf16 → f32 is the 16 bits shifted to the top of the f32
// (the packing is the little-endian byte order of a safetensors F16/BF16 tensor read as u32).
// backward: dwte[uniq[u], :] += Σ_{p in offsets[u]..offsets[u+1]} dout[positions[p], :], positions summed in the
// order given (the CPU plan sorts them), so the sum is deterministic without float atomics. Slots u past the number
// of unique ids have an empty range (offsets padded with BT) and write nothing.

override WG: u32 = 256;
override DTYPE: u32 = 0u;

struct Params {
  n: u32,          // forward: BT*C
  C: u32,
  n_tiles: u32,    // backward: ceil(C / WG)
  cap: u32,        // backward: plan capacity (BT)
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;       // (BT,C)
@group(0) @binding(1) var<storage, read> ids: array<u32>;             // (BT,)
@group(0) @binding(2) var<storage, read> wte: array<u32>;             // (V,C) f32, or (V*C/2,) packed 16-bit
@group(0) @binding(3) var<storage, read_write> dwte: array<f32>;      // (V,C)
@group(0) @binding(4) var<storage, read> dout: array<f32>;            // (BT,C)
@group(0) @binding(5) var<storage, read> uniq: array<u32>;            // (cap,)   unique ids, ascending
@group(0) @binding(6) var<storage, read> offsets: array<u32>;         // (cap+1,) CSR offsets into positions
@group(0) @binding(7) var<storage, read> positions: array<u32>;       // (cap,)   rows of dout, grouped by id
@group(0) @binding(8) var<uniform> p: Params;

fn load_weight(e: u32) -> f32 {
  if (DTYPE == 0u) { return bitcast<f32>(wte[e]); }
  let w = wte[e >> 1u];
  let bits = select(w & 0xffffu, w >> 16u, (e & 1u) == 1u);
  if (DTYPE == 1u) { return unpack2x16float(bits).x; }
  return bitcast<f32>(bits << 16u);
}

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let row = i / p.C;
  let c = i - row * p.C;
  out[i] = load_weight(ids[row] * p.C + c);
}

// One workgroup per (unique id slot u, column tile).
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let w = wid.x + wid.y * nwg.x;
  let u = w / p.n_tiles;
  let c = (w % p.n_tiles) * WG + lid;
  if (u >= p.cap || c >= p.C) { return; }
  let p0 = offsets[u];
  let p1 = offsets[u + 1u];
  if (p0 >= p1) { return; }
  var acc = 0.0;
  for (var k = p0; k < p1; k++) {
    acc += dout[positions[k] * p.C + c];
  }
  let j = uniq[u] * p.C + c;
  dwte[j] = dwte[j] + acc;
}
