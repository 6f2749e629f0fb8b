// The ONNX writer without a GPU: float16 rounding against the float64 reference encoder, the streamed ModelProto
// decoded back by protobufjs (inline raw_data, external data offsets/lengths, sizes announced before writing), and
// the verification's comparison rule.
import { describe, expect, it } from 'vitest';
import { f32ToF16Bits } from '../../src/formats/onnx/half.ts';
import { numberToF16Bits } from '../../src/ops/convert.ref.ts';
import { GraphBuilder, valueInfo } from '../../src/formats/onnx/graph.ts';
import { buildQwen3Graph } from '../../src/formats/onnx/qwen3.ts';
import { ArraySink, MemorySink, writeOnnxModel, type ModelMeta } from '../../src/formats/onnx/writer.ts';
import { DataType, encodeMessage, GraphProto, ModelProto, TensorProto } from '../../src/formats/onnx/proto.ts';
import { decodeModel, protobufType } from '../../src/formats/onnx/proto_decode.ts';
import { compareRewards } from '../../src/formats/onnx/session.ts';
import { Rng } from '../../src/util/random.ts';

const META: ModelMeta = { opset: 17, irVersion: 8, producerName: 't', producerVersion: '0', graphName: 'g', docString: '', metadata: { k: 'v' } };

function tinyGraph(sizes: number[]): { g: GraphBuilder; data: Float32Array[] } {
  const g = new GraphBuilder();
  g.inputs.push({ name: 'x', elem_type: DataType.FLOAT, dims: ['n'] });
  g.outputs.push({ name: 'y', elem_type: DataType.FLOAT, dims: ['n'] });
  const rng = new Rng(5);
  const data = sizes.map((n) => Float32Array.from({ length: n }, () => rng.normal()));
  let y = 'x';
  data.forEach((d, i) => {
    const w = g.weight({ name: `w${i}`, dims: [d.length], data_type: DataType.FLOAT, byteLength: d.byteLength, produce: async () => new Uint8Array(d.buffer) });
    y = g.op('Add', [y, g.op('ReduceSum', [w, g.i64([0])], { keepdims: 1 })], {}, i === data.length - 1 ? 'y' : undefined);
  });
  return { g, data };
}

type Decoded = { metadata_props: { key: string; value: string }[]; graph: { initializer: { name: string; raw_data?: Uint8Array; data_location?: number; external_data?: { key: string; value: string }[] }[] } };

describe('ONNX writer', () => {
  it('encodes every message byte for byte as protobufjs does, without compiling code (the CSP forbids eval)', () => {
    // the real Qwen3 graph (every op, attribute kind and constant the export uses) on a tiny shape
    const d = { V: 16, C: 8, F: 12, L: 1, H: 2, Hkv: 1, D: 4, eps: 1e-6, theta: 1e6, padId: 0 };
    const g = buildQwen3Graph(d, async () => new Float32Array(0), 'float16');
    g.op('Slice', ['x', g.i64([-1]), g.i64([-2147483648, -9007199254740991])], { axis: -1, alpha: { float: -0.125 } });
    const cases: [typeof ModelProto, object][] = [
      [ModelProto, { ir_version: 8, producer_name: 'reward-studio ü', producer_version: '1', doc_string: '', opset_import: [{ domain: '', version: 17 }], metadata_props: [{ key: 'k', value: 'v' }] }],
      [GraphProto, { name: 'g', node: g.nodes, input: g.inputs.map(valueInfo), output: g.outputs.map(valueInfo), initializer: g.constants }],
      [TensorProto, { name: 'w', dims: [3, 0, 2 ** 40], data_type: 10, data_location: 1, external_data: [{ key: 'location', value: 'model.onnx_data' }, { key: 'offset', value: '4096' }] }],
    ];
    for (const [t, v] of cases) {
      const ref = protobufType(t);
      expect(ref.verify(v), t.name).toBeNull();
      expect([...encodeMessage(t, v)], t.name).toEqual([...ref.encode(ref.fromObject(v)).finish()]);
    }
    expect(g.nodes.length).toBeGreaterThan(20);
    expect(() => encodeMessage(TensorProto, { name: 'w', dimz: [1] })).toThrow('onnx TensorProto: unknown field dimz');
  });

  it('float16 bits equal the float64 reference encoder (ties to even, subnormals, overflow, NaN)', () => {
    const rng = new Rng(1);
    const xs: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e6, -1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0001, 3 * 2 ** -26, 6e-8, 1e-10, Infinity, -Infinity];
    for (let i = 0; i < 20000; i++) xs.push(rng.normal() * 10 ** Math.floor(rng.range(-9, 6)));
    // exact ties between two f16 values: 1 + (2k+1)·2^-11
    for (let k = 0; k < 64; k++) xs.push(1 + (2 * k + 1) * 2 ** -11);
    const f = Float32Array.from(xs);
    const got = f32ToF16Bits(f);
    const bad: string[] = [];
    for (let i = 0; i < f.length; i++) if (got[i] !== numberToF16Bits(f[i])) bad.push(`x=${f[i]}: ${got[i].toString(16)} vs ${numberToF16Bits(f[i]).toString(16)}`);
    expect(bad.slice(0, 5)).toEqual([]);
    expect(f32ToF16Bits(Float32Array.of(NaN))[0] & 0x7c00).toBe(0x7c00);
  });

  it('inline: every weight as raw_data; the announced size is the written size', async () => {
    const { g, data } = tinyGraph([3, 300, 1000]);
    const mem = new MemorySink();
    const res = await writeOnnxModel(g, META, mem);
    const arr = new ArraySink();
    await writeOnnxModel(g, META, arr);
    const bytes = mem.bytes('model.onnx')!;
    expect(res.external).toBe(false);
    expect(res.modelBytes).toBe(bytes.length);
    expect([...arr.files.get('model.onnx')!]).toEqual([...bytes]);
    const m = decodeModel(bytes) as Decoded;
    expect(m.metadata_props).toEqual([{ key: 'k', value: 'v' }]);
    const inits = m.graph.initializer.filter((t) => t.name.startsWith('w'));
    expect(inits.map((t) => t.name)).toEqual(['w0', 'w1', 'w2']);
    inits.forEach((t, i) => expect([...new Float32Array(Uint8Array.from(t.raw_data!).buffer)]).toEqual([...data[i]]));
  });

  it('external: weights ≥ 1 KiB go to model.onnx_data at 4096-aligned offsets; small ones stay inline', async () => {
    const { g, data } = tinyGraph([3, 300, 1000]);
    const sink = new ArraySink();
    const res = await writeOnnxModel(g, META, sink, { externalDataThreshold: 100 });
    expect(res.external).toBe(true);
    const file = sink.files.get('model.onnx_data')!;
    expect(file.length).toBe(res.dataBytes);
    const m = decodeModel(sink.files.get('model.onnx')!) as Decoded;
    const byName = new Map(m.graph.initializer.map((t) => [t.name, t]));
    expect(byName.get('w0')!.data_location ?? 0).toBe(0);
    expect(byName.get('w0')!.raw_data!.length).toBe(12);
    const offsets: number[] = [];
    for (const i of [1, 2]) {
      const t = byName.get(`w${i}`)!;
      expect(t.data_location).toBe(1);
      expect(t.raw_data?.length ?? 0).toBe(0);
      const kv = Object.fromEntries(t.external_data!.map((e) => [e.key, e.value]));
      expect(kv.location).toBe('model.onnx_data');
      const off = Number(kv.offset);
      offsets.push(off);
      expect(off % 4096).toBe(0);
      expect(Number(kv.length)).toBe(data[i].byteLength);
      expect([...new Float32Array(file.slice(off, off + data[i].byteLength).buffer)]).toEqual([...data[i]]);
    }
    expect(offsets).toEqual([0, 4096]);
  });

  it('verification compares against the largest |reward|, and a NaN never passes', () => {
    const v = compareRewards([1.001, -2], [1, -2], 'wasm', 1e-3);
    expect(v.maxAbsDiff).toBeCloseTo(1e-3, 9);
    expect(v.maxRelDiff).toBeCloseTo(5e-4, 9);
    expect(v.ok).toBe(true);
    expect(compareRewards([1.01, -2], [1, -2], 'wasm', 1e-3).ok).toBe(false);
    expect(compareRewards([NaN, -2], [1, -2], 'wasm', 1e-3).ok).toBe(false);
  });
});
