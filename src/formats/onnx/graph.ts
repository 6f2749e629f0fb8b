// A small ONNX graph builder: nodes with fresh value names, small constants kept in memory, and weight
// initializers declared by name/shape/dtype with a function that produces their bytes later, so the writer can
// stream them one at a time (writer.ts). Only default-domain (standard) operators.
import { AttributeType, DataType, type DataTypeCode, type TensorMessage } from './proto.ts';

export type AttrValue = number | number[] | { float: number } | { tensor: TensorMessage };

export interface NodeSpec {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute: object[];
}

/** A weight whose bytes are produced when the writer reaches it (little-endian raw data of dtype). */
export interface WeightSpec {
  name: string;
  dims: number[];
  data_type: DataTypeCode;
  byteLength: number;
  produce: () => Promise<Uint8Array>;
}

export interface IoSpec {
  name: string;
  elem_type: DataTypeCode;
  /** numbers are fixed sizes, strings symbolic (dynamic) axes */
  dims: (number | string)[];
}

export const BYTES_PER: Record<number, number> = { [DataType.FLOAT]: 4, [DataType.INT64]: 8, [DataType.BOOL]: 1, [DataType.FLOAT16]: 2 };

export class GraphBuilder {
  readonly nodes: NodeSpec[] = [];
  readonly constants: TensorMessage[] = [];
  readonly weights: WeightSpec[] = [];
  readonly inputs: IoSpec[] = [];
  readonly outputs: IoSpec[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();

  /** Adds a node; returns its single output's name (fresh unless given). */
  op(op_type: string, input: string[], attrs: Record<string, AttrValue> = {}, out?: string): string {
    const output = out ?? `/${op_type}_${this.counter}`;
    this.nodes.push({ op_type, input, output: [output], name: `${op_type}_${this.counter++}`, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return output;
  }

  /** An int64 constant (1-D, or a scalar when `scalar`), shared by value. */
  i64(values: number[], scalar = false): string {
    return this.constant(DataType.INT64, scalar ? [] : [values.length], { int64_data: values });
  }

  /** A float32 constant. */
  f32(values: ArrayLike<number>, dims: number[] = [values.length]): string {
    const data = Float32Array.from(values);
    return this.constant(DataType.FLOAT, dims, { raw_data: new Uint8Array(data.buffer) });
  }

  private constant(data_type: DataTypeCode, dims: number[], payload: Partial<TensorMessage>): string {
    const key = JSON.stringify([data_type, dims, payload.int64_data ?? Array.from(payload.raw_data ?? [])]);
    const hit = this.constCache.get(key);
    if (hit) return hit;
    const name = `/const_${this.constants.length}`;
    this.constants.push({ name, dims, data_type, ...payload });
    this.constCache.set(key, name);
    return name;
  }

  weight(w: WeightSpec): string {
    this.weights.push(w);
    return w.name;
  }
}

function attribute(name: string, v: AttrValue): object {
  if (typeof v === 'number') return { name, type: AttributeType.INT, i: v };
  if (Array.isArray(v)) return { name, type: AttributeType.INTS, ints: v };
  if ('float' in v) return { name, type: AttributeType.FLOAT, f: v.float };
  return { name, type: AttributeType.TENSOR, t: v.tensor };
}

export function valueInfo(io: IoSpec): object {
  return {
    name: io.name,
    type: { tensor_type: { elem_type: io.elem_type, shape: { dim: io.dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
  };
}
