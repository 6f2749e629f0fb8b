// The part of onnx.proto (ONNX 1.23, IR version 8+) an exported reward model needs, as a protobufjs-style JSON
// schema: ModelProto, GraphProto, NodeProto, TensorProto (raw_data or external data), ValueInfoProto/TypeProto
// (tensor types with symbolic dims), AttributeProto (int, ints, float, tensor), OperatorSetIdProto and
// StringStringEntryProto. Field numbers are onnx.proto's.
// The encoder below walks this schema (fields in id order, present fields only, repeated numbers packed — what
// protobufjs wrote before). It replaces protobufjs's reflection encoder, which compiles its encoders with `new Function`: the train
// worker runs under the studio's Content-Security-Policy (sent as a header, which governs workers), and 'unsafe-eval'
// is not allowed there. The bytes equal protobufjs's (tests/formats/onnx.test.ts); decoding for tests is in
// proto_decode.ts (protobufjs, Node only).

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7, BOOL: 9, FLOAT16: 10 } as const;
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, TENSOR: 4, INTS: 7 } as const;

export const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            data_type: { type: 'int32', id: 2 },
            float_data: { rule: 'repeated', type: 'float', id: 4 },
            int64_data: { rule: 'repeated', type: 'int64', id: 7 },
            name: { type: 'string', id: 8 },
            raw_data: { type: 'bytes', id: 9 },
            doc_string: { type: 'string', id: 12 },
            external_data: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            data_location: { type: 'int32', id: 14 }, // 0 DEFAULT, 1 EXTERNAL
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ['dim_value', 'dim_param'] } },
              fields: { dim_value: { type: 'int64', id: 1 }, dim_param: { type: 'string', id: 2 } },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ['tensor_type'] } },
          fields: { tensor_type: { type: 'Tensor', id: 1 } },
          nested: { Tensor: { fields: { elem_type: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } } },
        },
        ValueInfoProto: { fields: { name: { type: 'string', id: 1 }, type: { type: 'TypeProto', id: 2 }, doc_string: { type: 'string', id: 3 } } },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            t: { type: 'TensorProto', id: 5 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            type: { type: 'int32', id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            op_type: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            domain: { type: 'string', id: 7 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            doc_string: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
          },
        },
        ModelProto: {
          fields: {
            ir_version: { type: 'int64', id: 1 },
            producer_name: { type: 'string', id: 2 },
            producer_version: { type: 'string', id: 3 },
            doc_string: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opset_import: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadata_props: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
      },
    },
  },
};

interface FieldDef {
  type: string;
  id: number;
  rule?: 'repeated';
}
interface MessageDef {
  fields: Record<string, FieldDef>;
  nested?: Record<string, MessageDef>;
}

/** A message type: its definition and the scopes its field types are looked up in (innermost first). */
export interface MessageType {
  name: string;
  def: MessageDef;
  scopes: Record<string, MessageDef>[];
}

const ONNX = ONNX_SCHEMA.nested.onnx.nested as unknown as Record<string, MessageDef>;
const messageType = (name: string): MessageType => ({ name, def: ONNX[name], scopes: [ONNX] });
export const ModelProto = messageType('ModelProto');
export const GraphProto = messageType('GraphProto');
export const TensorProto = messageType('TensorProto');
export const NodeProto = messageType('NodeProto');

/** Field numbers the streaming writer needs to place a sub-message (see writer.ts). */
export const FIELD = { ModelProto_graph: 7, GraphProto_initializer: 5, TensorProto_raw_data: 9 } as const;

/** Appends protobuf's wire primitives to a list of chunks. */
class ByteWriter {
  private chunks: Uint8Array[] = [];
  private cur: number[] = [];

  varint(v: number | bigint): this {
    if (typeof v === 'number' && v >= 0) {
      let x = v;
      while (x >= 0x80) {
        this.cur.push((x % 0x80) | 0x80);
        x = Math.floor(x / 0x80);
      }
      this.cur.push(x);
      return this;
    }
    // negative int32 / int64: two's complement on 64 bits (10 bytes), as protobuf encodes them
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.cur.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.cur.push(Number(x));
    return this;
  }

  float(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    return this.bytes(b);
  }

  bytes(b: Uint8Array): this {
    if (this.cur.length) this.chunks.push(Uint8Array.from(this.cur));
    this.cur = [];
    this.chunks.push(b);
    return this;
  }

  finish(): Uint8Array {
    if (this.cur.length) this.chunks.push(Uint8Array.from(this.cur));
    this.cur = [];
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

const VARINT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'bool']);
const utf8 = new TextEncoder();

function resolveType(t: MessageType, typeName: string): MessageType {
  const scopes = [t.def.nested ?? {}, ...t.scopes];
  for (const [i, scope] of scopes.entries()) {
    if (scope[typeName]) return { name: typeName, def: scope[typeName], scopes: scopes.slice(i) };
  }
  throw new Error(`onnx ${t.name}: unknown type ${typeName}`);
}

function encodeValue(w: ByteWriter, t: MessageType, name: string, f: FieldDef, v: unknown): void {
  const bad = (what: string) => new Error(`onnx ${t.name}: ${name}: ${what}`);
  if (VARINT_TYPES.has(f.type)) {
    const x = typeof v === 'boolean' ? Number(v) : v;
    if (!(typeof x === 'number' && Number.isSafeInteger(x)) && typeof x !== 'bigint') throw bad(`integer expected, got ${String(v)}`);
    w.varint((f.id << 3) | 0).varint(x);
  } else if (f.type === 'float') {
    if (typeof v !== 'number') throw bad('number expected');
    w.varint((f.id << 3) | 5).float(v);
  } else if (f.type === 'string' || f.type === 'bytes') {
    if (f.type === 'string' && typeof v !== 'string') throw bad('string expected');
    if (f.type === 'bytes' && !(v instanceof Uint8Array)) throw bad('Uint8Array expected');
    const b = typeof v === 'string' ? utf8.encode(v) : (v as Uint8Array);
    w.varint((f.id << 3) | 2).varint(b.length).bytes(b);
  } else {
    if (v === null || typeof v !== 'object') throw bad('object expected');
    const b = encodeMessage(resolveType(t, f.type), v);
    w.varint((f.id << 3) | 2).varint(b.length).bytes(b);
  }
}

/** Encodes `value` as the message `type` (fields in id order; absent / null fields and empty lists are omitted). */
export function encodeMessage(type: MessageType, value: object): Uint8Array {
  const w = new ByteWriter();
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) if (!(key in type.def.fields)) throw new Error(`onnx ${type.name}: unknown field ${key}`);
  const fields = Object.entries(type.def.fields).sort((a, b) => a[1].id - b[1].id);
  for (const [name, f] of fields) {
    const v = Object.hasOwn(obj, name) ? obj[name] : undefined;
    if (v === undefined || v === null) continue;
    if (f.rule === 'repeated') {
      if (!Array.isArray(v)) throw new Error(`onnx ${type.name}: ${name}: array expected`);
      if (v.length === 0) continue;
      if (VARINT_TYPES.has(f.type) || f.type === 'float') {
        // packed, as protobufjs writes them (every protobuf parser reads packed and unpacked alike)
        const p = new ByteWriter();
        for (const x of v) {
          const one = new ByteWriter();
          encodeValue(one, type, name, { ...f, id: 0 }, x);
          p.bytes(one.finish().subarray(1)); // without the (field 0) tag byte
        }
        const b = p.finish();
        w.varint((f.id << 3) | 2).varint(b.length).bytes(b);
      } else {
        for (const x of v) encodeValue(w, type, name, f, x);
      }
    } else {
      encodeValue(w, type, name, f, v);
    }
  }
  return w.finish();
}

/** The bytes of a length-delimited field's key and length: tag (field << 3 | 2) then the length, as varints. */
export function lengthDelimitedPrefix(field: number, length: number): Uint8Array {
  return new ByteWriter().varint((field << 3) | 2).varint(length).finish();
}

export interface TensorMessage {
  name: string;
  dims: number[];
  data_type: DataTypeCode;
  raw_data?: Uint8Array;
  int64_data?: number[];
  float_data?: number[];
  data_location?: 0 | 1;
  external_data?: { key: string; value: string }[];
}
