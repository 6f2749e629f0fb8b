// Streams a built graph as a ModelProto: the model's small parts (opset, graph nodes, inputs/outputs, constants)
// are encoded (proto.ts) in one piece, then each weight initializer is produced, encoded and written on its
// own, so no more than one weight is in memory at a time. Protobuf lets a message's fields come in any order and
// a sub-message be written as the concatenation of its fields, which is what makes this possible: the graph field
// of ModelProto is (key, length, GraphProto fields…, initializer 1, initializer 2, …) with the length computed
// from the weights' known sizes before any weight is produced.
//
// Above `externalDataThreshold` total weight bytes, weights of ≥ 1 KiB go to ONNX external data instead
// (`model.onnx_data`, each tensor at a 4096-aligned offset, TensorProto.data_location = EXTERNAL with location /
// offset / length entries) — protobuf messages cannot exceed 2 GiB, so Qwen3-0.6B in f32 (2.4 GB) needs it.
import { DataType, encodeMessage, FIELD, GraphProto, lengthDelimitedPrefix, ModelProto, TensorProto } from './proto.ts';
import { valueInfo, type GraphBuilder, type WeightSpec } from './graph.ts';

export const MODEL_FILE = 'model.onnx';
export const EXTERNAL_DATA_FILE = 'model.onnx_data';
/** Total weight bytes above which weights go to external data (protobuf's hard limit is 2 GiB per message). */
export const DEFAULT_EXTERNAL_DATA_THRESHOLD = 2_000_000_000;
const MIN_EXTERNAL_BYTES = 1024;
const ALIGN = 4096;

/** Where the exported files go: appends bytes to a file in the export folder, in order. */
export interface OnnxSink {
  /** Called once before any write with each file's final size (0: the file is not written). */
  begin?(sizes: { modelBytes: number; dataBytes: number }): void;
  write(file: typeof MODEL_FILE | typeof EXTERNAL_DATA_FILE, bytes: Uint8Array): Promise<void>;
}

export interface ModelMeta {
  opset: number;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  graphName: string;
  docString: string;
  metadata: Record<string, string>;
}

export interface WriteOptions {
  externalDataThreshold?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface WriteResult {
  external: boolean;
  modelBytes: number;
  dataBytes: number;
  weightBytes: number;
}

export async function writeOnnxModel(g: GraphBuilder, meta: ModelMeta, sink: OnnxSink, o: WriteOptions = {}): Promise<WriteResult> {
  const weightBytes = g.weights.reduce((s, w) => s + w.byteLength, 0);
  const external = weightBytes > (o.externalDataThreshold ?? DEFAULT_EXTERNAL_DATA_THRESHOLD);
  const head = encodeMessage(ModelProto, {
    ir_version: meta.irVersion,
    producer_name: meta.producerName,
    producer_version: meta.producerVersion,
    doc_string: meta.docString,
    opset_import: [{ domain: '', version: meta.opset }],
    metadata_props: Object.entries(meta.metadata).map(([key, value]) => ({ key, value })),
  });
  const graphHead = encodeMessage(GraphProto, {
    name: meta.graphName,
    node: g.nodes,
    input: g.inputs.map(valueInfo),
    output: g.outputs.map(valueInfo),
    initializer: g.constants,
  });

  // Each weight's TensorProto without its data; inline weights add a raw_data field after it.
  let dataOffset = 0;
  const entries = g.weights.map((w) => {
    checkDtype(w);
    const toFile = external && w.byteLength >= MIN_EXTERNAL_BYTES;
    let offset = 0;
    if (toFile) {
      offset = Math.ceil(dataOffset / ALIGN) * ALIGN;
      dataOffset = offset + w.byteLength;
    }
    const metaBytes = encodeMessage(TensorProto, {
      name: w.name, dims: w.dims, data_type: w.data_type,
      ...(toFile ? {
        data_location: 1,
        external_data: [
          { key: 'location', value: EXTERNAL_DATA_FILE },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(w.byteLength) },
        ],
      } : {}),
    });
    const rawPrefix = toFile ? null : lengthDelimitedPrefix(FIELD.TensorProto_raw_data, w.byteLength);
    const length = metaBytes.length + (rawPrefix ? rawPrefix.length + w.byteLength : 0);
    return { w, toFile, offset, metaBytes, rawPrefix, length, prefix: lengthDelimitedPrefix(FIELD.GraphProto_initializer, length) };
  });
  const graphLength = graphHead.length + entries.reduce((s, e) => s + e.prefix.length + e.length, 0);

  const head2 = lengthDelimitedPrefix(FIELD.ModelProto_graph, graphLength);
  sink.begin?.({ modelBytes: head.length + head2.length + graphLength, dataBytes: dataOffset });
  let modelBytes = 0;
  const writeModel = async (b: Uint8Array) => { await sink.write(MODEL_FILE, b); modelBytes += b.length; };
  await writeModel(head);
  await writeModel(head2);
  await writeModel(graphHead);
  let written = 0;
  let dataBytes = 0;
  for (const e of entries) {
    const data = await e.w.produce();
    if (data.length !== e.w.byteLength) throw new Error(`onnx export: ${e.w.name} produced ${data.length} bytes, expected ${e.w.byteLength}`);
    await writeModel(e.prefix);
    await writeModel(e.metaBytes);
    if (e.toFile) {
      if (e.offset > dataBytes) await sink.write(EXTERNAL_DATA_FILE, new Uint8Array(e.offset - dataBytes));
      await sink.write(EXTERNAL_DATA_FILE, data);
      dataBytes = e.offset + data.length;
    } else {
      await writeModel(e.rawPrefix!);
      await writeModel(data);
    }
    written += data.length;
    o.onProgress?.(written, weightBytes);
  }
  return { external, modelBytes, dataBytes, weightBytes };
}

function checkDtype(w: WeightSpec): void {
  const per = w.data_type === DataType.FLOAT ? 4 : w.data_type === DataType.FLOAT16 ? 2 : 0;
  const numel = w.dims.reduce((a, b) => a * b, 1);
  if (!per || numel * per !== w.byteLength) throw new Error(`onnx export: ${w.name} declares ${w.byteLength} bytes for dims [${w.dims}] of type ${w.data_type}`);
}

/** A sink that keeps the files in memory (tests, small models, browser downloads as Blob parts). */
export class MemorySink implements OnnxSink {
  readonly parts = new Map<string, Uint8Array[]>();
  async write(file: string, bytes: Uint8Array): Promise<void> {
    const list = this.parts.get(file) ?? [];
    list.push(bytes);
    this.parts.set(file, list);
  }
  /** The whole file as one array (copies). */
  bytes(file: string): Uint8Array | undefined {
    const list = this.parts.get(file);
    if (!list) return undefined;
    const out = new Uint8Array(list.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of list) { out.set(p, o); o += p.length; }
    return out;
  }
}

/** A sink that writes into arrays of the files' final sizes (known before the first write): the export is held
 * once, never as parts plus a concatenated copy. For the studio's worker, which hands the arrays to the page. */
export class ArraySink implements OnnxSink {
  readonly files = new Map<string, Uint8Array>();
  private at = new Map<string, number>();
  begin(sizes: { modelBytes: number; dataBytes: number }): void {
    this.files.set(MODEL_FILE, new Uint8Array(sizes.modelBytes));
    if (sizes.dataBytes) this.files.set(EXTERNAL_DATA_FILE, new Uint8Array(sizes.dataBytes));
  }
  async write(file: string, bytes: Uint8Array): Promise<void> {
    const dst = this.files.get(file);
    if (!dst) throw new Error(`ArraySink: ${file} was not announced by begin()`);
    const at = this.at.get(file) ?? 0;
    dst.set(bytes, at);
    this.at.set(file, at + bytes.length);
  }
}
