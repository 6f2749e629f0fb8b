// safetensors: byte-exact agreement with the Rust/Python library's own test vectors, round trips, sharded index
// resolution, bf16 rounding, and every validation error with its message.
import { describe, expect, it } from 'vitest';
import { bytesSource, toAsyncBuffer } from '../../src/formats/bytes.ts';
import {
  bf16ToF32, concatParts, f32ToBf16, locateTensors, parseSafetensorsIndex, readSafetensorsHeader, readTensorBytes,
  serializeSafetensors, shardFiles, SafetensorsError, type TensorToWrite,
} from '../../src/formats/safetensors.ts';
import { Rng } from '../../src/util/random.ts';

const f32Bytes = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
const enc = new TextEncoder();

/** A file from a header string (padded as given) and a data section, with the 8-byte length in front. */
function rawFile(header: string, data: Uint8Array | number = 0, lengthOverride?: number): Uint8Array {
  const h = enc.encode(header);
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setUint32(0, lengthOverride ?? h.length, true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

async function headerError(bytes: Uint8Array, name = 'bad.safetensors'): Promise<string> {
  try {
    await readSafetensorsHeader(bytesSource(name, bytes));
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return (e as Error).message;
  }
  throw new Error('expected a SafetensorsError');
}

describe('safetensors writing matches the Rust library byte for byte', () => {
  // Expected bytes copied from huggingface/safetensors safetensors/src/tensor.rs tests (test_serialization,
  // test_empty, test_serialization_forced_alignement): the library's own assertions of what it writes.
  it('one F32 tensor [1,2,3] named attn.0 (header exactly 64 bytes, no padding)', () => {
    const out = concatParts(serializeSafetensors([{ name: 'attn.0', dtype: 'F32', shape: [1, 2, 3], data: f32Bytes([0, 1, 2, 3, 4, 5]) }]));
    expect([...out]).toEqual([
      64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
      116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
      58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
      101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
      0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
    ]);
  });

  it('no tensors, with and without metadata (space padding to 8 bytes)', () => {
    expect([...concatParts(serializeSafetensors([]))]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    expect([...concatParts(serializeSafetensors([], { framework: 'pt' }))]).toEqual([
      40, 0, 0, 0, 0, 0, 0, 0, 123, 34, 95, 95, 109, 101, 116, 97, 100, 97, 116, 97, 95,
      95, 34, 58, 123, 34, 102, 114, 97, 109, 101, 119, 111, 114, 107, 34, 58, 34, 112,
      116, 34, 125, 125, 32, 32, 32, 32, 32,
    ]);
  });

  it('forced alignment: attn0 [1,1,2,3] pads the header with 7 spaces', () => {
    const out = concatParts(serializeSafetensors([{ name: 'attn0', dtype: 'F32', shape: [1, 1, 2, 3], data: f32Bytes([0, 1, 2, 3, 4, 5]) }]));
    expect([...out]).toEqual([
      72, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 48, 34, 58, 123, 34, 100, 116,
      121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34, 58,
      91, 49, 44, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102,
      115, 101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 32, 32, 32, 32, 32,
      32, 32, 0, 0, 0, 0, 0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0,
      160, 64,
    ]);
  });

  it('orders tensors by dtype alignment descending, then name; metadata first', () => {
    // Rust `prepare`: sort_by(right.dtype.cmp(left.dtype).then(lname.cmp(rname))), enum order ... BF16 < I32 < F32 < I64.
    const parts = serializeSafetensors([
      { name: 'b', dtype: 'BF16', shape: [2], data: new Uint8Array([1, 2, 3, 4]) },
      { name: 'a', dtype: 'F32', shape: [1], data: new Uint8Array([5, 6, 7, 8]) },
      { name: 'c', dtype: 'I64', shape: [1], data: new Uint8Array([9, 10, 11, 12, 13, 14, 15, 16]) },
      { name: 'a2', dtype: 'BF16', shape: [1], data: new Uint8Array([17, 18]) },
    ], { format: 'pt' });
    const header = new TextDecoder().decode(parts[1]);
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt"},"c":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},' +
        '"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},"a2":{"dtype":"BF16","shape":[1],"data_offsets":[12,14]},' +
        '"b":{"dtype":"BF16","shape":[2],"data_offsets":[14,18]}}',
    );
    expect(parts[1].length % 8).toBe(0);
    expect([...concatParts(parts.slice(2))]).toEqual([9, 10, 11, 12, 13, 14, 15, 16, 5, 6, 7, 8, 17, 18, 1, 2, 3, 4]);
  });
});

describe('safetensors round trip', () => {
  it('writes and reads back every tensor by range, through bytesSource and the hyparquet adapter', async () => {
    const rng = new Rng(3);
    const tensors: TensorToWrite[] = [
      { name: 'model.embed_tokens.weight', dtype: 'BF16', shape: [7, 5], data: new Uint8Array(70).map(() => rng.int(256)) },
      { name: 'model.norm.weight', dtype: 'F32', shape: [5], data: new Uint8Array(20).map(() => rng.int(256)) },
      { name: 'scalar', dtype: 'I32', shape: [], data: new Uint8Array([1, 0, 0, 0]) },
      { name: 'empty', dtype: 'F16', shape: [0, 3], data: new Uint8Array(0) },
      { name: 'ids', dtype: 'U8', shape: [3], data: new Uint8Array([7, 8, 9]) },
      { name: 'ünïcode.名前', dtype: 'I64', shape: [1], data: new Uint8Array(8).fill(3) },
    ];
    const file = concatParts(serializeSafetensors(tensors, { format: 'pt', b: 'x' }));
    const src = bytesSource('rt.safetensors', file);
    const h = await readSafetensorsHeader(src);
    expect(h.metadata).toEqual({ format: 'pt', b: 'x' });
    expect(h.dataStart % 8).toBe(0);
    expect([...h.tensors.keys()].sort()).toEqual(tensors.map((t) => t.name).sort());
    for (const t of tensors) {
      expect(h.tensors.get(t.name)!.shape).toEqual(t.shape);
      expect(h.tensors.get(t.name)!.dtype).toBe(t.dtype);
      expect([...(await readTensorBytes(src, h, t.name))]).toEqual([...t.data]);
    }
    const ab = toAsyncBuffer(src);
    expect(new Uint8Array(await ab.slice(0, 8))).toEqual(file.subarray(0, 8));
    expect(ab.byteLength).toBe(file.length);
    await expect(readTensorBytes(src, h, 'model.missing.weight')).rejects.toThrow(/no tensor named "model.missing.weight" \(6 tensors; similar: model.norm.weight, model.embed_tokens.weight\)/);
  });

  it('resolves a sharded model through model.safetensors.index.json', async () => {
    const t = (name: string, v: number): TensorToWrite => ({ name, dtype: 'F32', shape: [1], data: f32Bytes([v]) });
    const s1 = bytesSource('model-00001-of-00002.safetensors', concatParts(serializeSafetensors([t('a', 1), t('b', 2)])));
    const s2 = bytesSource('model-00002-of-00002.safetensors', concatParts(serializeSafetensors([t('c', 3)])));
    const index = parseSafetensorsIndex(JSON.stringify({
      metadata: { total_size: 12 },
      weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' },
    }));
    expect(shardFiles(index)).toEqual(['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    const loc = await locateTensors([s1, s2], index);
    const c = loc.get('c')!;
    expect(c.source.name).toBe('model-00002-of-00002.safetensors');
    expect(new Float32Array((await readTensorBytes(c.source, c.header, 'c')).slice().buffer)[0]).toBe(3);

    const wrongIndex = parseSafetensorsIndex(JSON.stringify({ weight_map: { a: 'model-00002-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors' } }));
    await expect(locateTensors([s1, s2], wrongIndex)).rejects.toThrow('model-00001-of-00002.safetensors: tensor "a": the index maps it to model-00002-of-00002.safetensors');
    const extraIndex = parseSafetensorsIndex(JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors', c: 'model-00002-of-00002.safetensors', d: 'model-00002-of-00002.safetensors' } }));
    await expect(locateTensors([s1, s2], extraIndex)).rejects.toThrow('weight_map names tensor "d" in model-00002-of-00002.safetensors, but that shard does not contain it');
    await expect(locateTensors([s1], index)).rejects.toThrow('weight_map names tensor "c" in model-00002-of-00002.safetensors, but that shard was not provided');
    const noC = parseSafetensorsIndex(JSON.stringify({ weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00001-of-00002.safetensors' } }));
    await expect(locateTensors([s1, s2], noC)).rejects.toThrow('tensor "c": not listed in model.safetensors.index.json');
    await expect(locateTensors([s1, s1])).rejects.toThrow('tensor "a": also present in model-00001-of-00002.safetensors');
    expect(() => parseSafetensorsIndex('{"weight_map": {"a": "../x.safetensors"}}')).toThrow('weight_map["a"] must be a .safetensors file name');
    expect(() => parseSafetensorsIndex('{"metadata": {}}')).toThrow('expected an object with a "weight_map" object');
    expect(() => parseSafetensorsIndex('{')).toThrow('model.safetensors.index.json: not valid JSON');
  });
});

describe('safetensors validation errors', () => {
  const ok = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';

  it('a valid hand-built file passes (control for the cases below)', async () => {
    const h = await readSafetensorsHeader(bytesSource('ok.safetensors', rawFile(ok, 8)));
    expect(h.tensors.get('w')!.dataOffsets).toEqual([0, 8]);
  });

  const cases: [string, () => Uint8Array, string][] = [
    ['file shorter than 8 bytes', () => new Uint8Array(5), 'bad.safetensors: file is 5 bytes, smaller than the 8-byte header length field; the file is truncated or corrupt: delete it and download it again'],
    ['header length past the end', () => rawFile(ok, 8, 1000), 'bad.safetensors: header length field says 1000 bytes but only 62 bytes follow it; the file is truncated'],
    ['header length above 100 MB', () => rawFile(ok, 8, 200_000_000), 'above the format\'s 100000000-byte limit; this is not a safetensors file'],
    ['invalid UTF-8', () => { const f = rawFile(ok, 8); f[10] = 0xff; return f; }, 'bad.safetensors: header is not valid UTF-8'],
    ['invalid JSON', () => rawFile('{"w":{"dtype":"F32",', 0), 'bad.safetensors: header is not valid JSON ('],
    ['header not an object', () => rawFile('[1,2]   ', 0), 'header must be a JSON object of tensors, found an array'],
    ['metadata not strings', () => rawFile('{"__metadata__":{"n":3}}', 0), '"__metadata__"."n" must be a string (safetensors metadata is str → str), found number'],
    ['metadata not an object', () => rawFile('{"__metadata__":"pt"}', 0), '"__metadata__" must be an object of strings, found string'],
    ['unknown dtype', () => rawFile('{"w":{"dtype":"F128","shape":[2],"data_offsets":[0,8]}}', 8), 'bad.safetensors: tensor "w": dtype "F128" is not a safetensors dtype (expected one of BOOL, U8'],
    ['lowercase dtype', () => rawFile('{"w":{"dtype":"float32","shape":[2],"data_offsets":[0,8]}}', 8), 'tensor "w": dtype "float32" is not a safetensors dtype'],
    ['negative shape', () => rawFile('{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', 8), 'tensor "w": shape must be an array of non-negative integers, found [-2]'],
    ['fractional shape', () => rawFile('{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}', 8), 'tensor "w": shape must be an array of non-negative integers, found [1.5]'],
    ['missing data_offsets', () => rawFile('{"w":{"dtype":"F32","shape":[2]}}', 8), 'tensor "w": data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, found undefined'],
    ['end before begin', () => rawFile('{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}', 8), 'tensor "w": data_offsets must be [begin, end] with integers 0 ≤ begin ≤ end, found [8,0]'],
    ['entry not an object', () => rawFile('{"w":5}', 0), 'tensor "w": entry must be an object {dtype, shape, data_offsets}, found number'],
    ['shape × dtype ≠ offsets span', () => rawFile('{"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,10]}}', 10), 'tensor "w": shape [2,3] × BF16 (2 bytes) = 12 bytes, but data_offsets [0, 10] span 10 bytes'],
    ['overflowing shape', () => rawFile('{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}', 8), 'tensor "w": shape [4294967296,4294967296] is too large'],
    ['overlapping tensors', () => rawFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', 12), 'tensor "b": data_offsets [4, 12] overlap tensor "a" [0, 8]'],
    ['gap between tensors', () => rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', 12), 'tensor "b": data_offsets [8, 12] leave a gap of 4 bytes after tensor "a" (ends at 4) that no tensor covers'],
    ['data not starting at 0', () => rawFile('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', 8), 'tensor "a": data_offsets [4, 8] leave a gap of 4 bytes at the start of the data section'],
    ['truncated data section', () => rawFile(ok, 5), 'bad.safetensors: the header describes 8 bytes of tensor data (file size 70) but the file has 67 bytes; tensor "w" ends past the end of the file; the file is truncated or corrupt: delete it and download it again'],
    ['trailing bytes after the last tensor', () => rawFile(ok, 12), 'bad.safetensors: 4 bytes follow the last tensor ("w", ending at data offset 8); the header does not cover the whole file'],
  ];
  for (const [what, make, message] of cases) {
    it(what, async () => {
      expect(await headerError(make())).toContain(message);
    });
  }

  it('refuses bad tensors when writing', () => {
    const t = (o: Partial<TensorToWrite>): TensorToWrite => ({ name: 'w', dtype: 'F32', shape: [2], data: new Uint8Array(8), ...o });
    expect(() => serializeSafetensors([t({ data: new Uint8Array(6) })])).toThrow('tensor "w": data has 6 bytes but shape [2] × F32 needs 8');
    expect(() => serializeSafetensors([t({}), t({})])).toThrow('tensor "w": tensor name given twice');
    expect(() => serializeSafetensors([t({ name: '__metadata__' })])).toThrow('"__metadata__" is reserved');
    expect(() => serializeSafetensors([t({ dtype: 'F128' as 'F32' })])).toThrow('unknown dtype "F128"');
  });
});

describe('bf16', () => {
  it('rounds to nearest even and keeps NaN/inf, as torch does', () => {
    // Bit patterns worked out by hand from IEEE-754: 1+2^-8 is a tie → even (0x3f80); 1+3·2^-8 is a tie → 0x3f82;
    // 1+2^-8+2^-20 is just above the tie → 0x3f81; max f32 rounds up to +inf 0x7f80.
    const x = new Float32Array([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -2, 3.4028234663852886e38, Infinity, -Infinity, NaN, 0, -0]);
    expect([...f32ToBf16(x)].map((v) => v.toString(16))).toEqual(['3f80', '3f80', '3f82', '3f81', 'c000', '7f80', '7f80', 'ff80', '7fc0', '0', '8000']);
    expect([...bf16ToF32(new Uint16Array([0x3f80, 0x3f82, 0xc000, 0x7f80]))]).toEqual([1, 1.015625, -2, Infinity]);
  });
});
