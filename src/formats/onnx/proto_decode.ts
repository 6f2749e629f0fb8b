// Decoding an ONNX ModelProto with protobufjs's reflection (tests and Node tools only: protobufjs compiles its
// decoders with `new Function`, which the studio's Content-Security-Policy forbids in the browser).
import protobuf from 'protobufjs/light.js';
import { ONNX_SCHEMA, type MessageType } from './proto.ts';

let root: protobuf.Root | null = null;

/** protobufjs's reflection type for one of proto.ts's message types. */
export function protobufType(t: MessageType | string): protobuf.Type {
  root ??= protobuf.Root.fromJSON(ONNX_SCHEMA);
  return root.lookupType(`onnx.${typeof t === 'string' ? t : t.name}`);
}

/** Decodes a ModelProto (tests, and reading an export back). Long ints come back as numbers. */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const ModelProto = protobufType('ModelProto');
  return ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: false }) as Record<string, unknown>;
}
