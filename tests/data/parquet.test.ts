// Preference rows from parquet: the ultrafeedback shape (nested list<struct<content, role>>), every codec the Hub uses,
// reading row group by row group through a byte-range AsyncBuffer, the other TRL formats, and row-numbered errors.
import { gzipSync } from 'fflate';
import type { AsyncBuffer } from 'hyparquet';
import { parquetMetadata } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { parquetInfo, readParquetRowGroups, readPreferenceParquet } from '../../src/data/parquet.ts';
import { formatIssue, formatWarning } from '../../src/data/records.ts';
import { Rng } from '../../src/util/random.ts';
import { ULTRAFEEDBACK_SCHEMA, generateSyntheticPreferences, ultrafeedbackParquet } from '../../src/data/synthetic.ts';

/** An AsyncBuffer over memory that records every range it serves. */
function countingBuffer(buf: ArrayBuffer): AsyncBuffer & { reads: [number, number][] } {
  const reads: [number, number][] = [];
  return {
    byteLength: buf.byteLength,
    reads,
    async slice(start: number, end = buf.byteLength) {
      reads.push([start, end]);
      return buf.slice(start, end);
    },
  };
}

/** A valid zstd frame holding `input` in raw (stored) blocks: exercises the zstd decoder without a zstd encoder.
 *  RFC 8878: magic, frame header (single segment, 4-byte content size), blocks of ≤ 128 KiB with 3-byte headers. */
function zstdStored(input: Uint8Array): Uint8Array {
  const out: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0];
  const n = input.length;
  out.push(n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  const MAX = 128 * 1024;
  let off = 0;
  do {
    const size = Math.min(MAX, n - off);
    const last = off + size >= n ? 1 : 0;
    const h = last | (0 << 1) | (size << 3); // raw block
    out.push(h & 255, (h >>> 8) & 255, (h >>> 16) & 255);
    for (let i = 0; i < size; i++) out.push(input[off + i]);
    off += size;
  } while (off < n);
  return new Uint8Array(out);
}

const { train } = generateSyntheticPreferences({ seed: 7, trainRows: 150, testRows: 0 });

function writeWith(codec: 'SNAPPY' | 'UNCOMPRESSED' | 'GZIP' | 'ZSTD'): ArrayBuffer {
  return parquetWriteBuffer({
    schema: ULTRAFEEDBACK_SCHEMA.map((e) => ({ ...e })),
    codec,
    compressors: { GZIP: (b) => gzipSync(b), ZSTD: zstdStored },
    rowGroupSize: 50,
    columnData: [
      { name: 'chosen', data: train.map((r) => r.chosen) },
      { name: 'rejected', data: train.map((r) => r.rejected) },
      { name: 'score_chosen', data: Float64Array.from(train, (r) => r.score_chosen) },
      { name: 'score_rejected', data: Float64Array.from(train, (r) => r.score_rejected) },
    ],
  });
}

describe('ultrafeedback-shaped parquet', () => {
  for (const codec of ['SNAPPY', 'UNCOMPRESSED', 'GZIP', 'ZSTD'] as const) {
    it(`reads every row back (${codec})`, async () => {
      const buf = writeWith(codec);
      expect(parquetMetadata(buf).row_groups[0].columns[0].meta_data?.codec).toBe(codec);
      const r = await readPreferenceParquet(countingBuffer(buf));
      expect(r.summary).toMatchObject({ rows: 150, valid: 150, invalid: 0, shape: { format: 'conversational', explicitPrompt: false, margin: false } });
      const pairs = r.importRecords('all-or-nothing');
      pairs.forEach((p, i) => {
        expect(p).toEqual({
          format: 'conversational',
          chosen: train[i].chosen,
          rejected: train[i].rejected,
          extra: { score_chosen: train[i].score_chosen, score_rejected: train[i].score_rejected },
        });
      });
    });
  }

  it('names the columns with their nested types', async () => {
    const info = await parquetInfo(countingBuffer(ultrafeedbackParquet(train)));
    expect(info.numRows).toBe(150);
    expect(info.columns).toEqual([
      { name: 'chosen', type: 'list<struct<content: string, role: string>>' },
      { name: 'rejected', type: 'list<struct<content: string, role: string>>' },
      { name: 'score_chosen', type: 'double' },
      { name: 'score_rejected', type: 'double' },
    ]);
  });

  it('reads row group by row group, never the whole file in one slice', async () => {
    // > 1 MiB of incompressible text, so hyparquet's 512 KiB footer read cannot cover the file either.
    const rng = new Rng(3);
    const text = () => Array.from({ length: 300 }, () => String.fromCharCode(97 + rng.int(26))).join('');
    const rows = Array.from({ length: 2000 }, () => {
      const q = { content: text(), role: 'user' as const };
      return { chosen: [q, { content: text(), role: 'assistant' as const }], rejected: [q, { content: text(), role: 'assistant' as const }], score_chosen: 1, score_rejected: 0 };
    });
    const buf = ultrafeedbackParquet(rows, { rowGroupSize: 500 });
    expect(buf.byteLength).toBeGreaterThan(1 << 20);
    const file = countingBuffer(buf);
    const groups: [number, number][] = [];
    const progress: number[] = [];
    for await (const g of readParquetRowGroups(file, { onProgress: (p) => progress.push(p.rowsRead) })) groups.push([g.rowStart, g.rows.length]);
    expect(groups).toEqual([[0, 500], [500, 500], [1000, 500], [1500, 500]]);
    expect(progress).toEqual([500, 1000, 1500, 2000]);
    const largest = Math.max(...file.reads.map(([s, e]) => e - s));
    expect(largest).toBeLessThan(buf.byteLength / 2);
  });

  it('a column subset reads only those columns', async () => {
    const [first] = await (async () => {
      const out = [];
      for await (const g of readParquetRowGroups(countingBuffer(ultrafeedbackParquet(train)), { columns: ['score_chosen'] })) out.push(g);
      return out;
    })();
    expect(Object.keys(first.rows[0])).toEqual(['score_chosen']);
  });
});

describe('other TRL formats from parquet', () => {
  it('standard text with explicit prompt and margin', async () => {
    const buf = parquetWriteBuffer({
      columnData: [
        { name: 'prompt', data: ['Q1: ', 'Q2: '], type: 'STRING' },
        { name: 'chosen', data: ['good', 'fine'], type: 'STRING' },
        { name: 'rejected', data: ['bad', 'poor'], type: 'STRING' },
        { name: 'margin', data: [0.5, 1.5], type: 'DOUBLE' },
      ],
    });
    const r = await readPreferenceParquet(countingBuffer(buf));
    expect(r.importRecords('all-or-nothing')).toEqual([
      { format: 'standard', prompt: 'Q1: ', chosen: 'good', rejected: 'bad', margin: 0.5, extra: {} },
      { format: 'standard', prompt: 'Q2: ', chosen: 'fine', rejected: 'poor', margin: 1.5, extra: {} },
    ]);
  });

  it('pre-tokenized list<int64> ids come back as numbers', async () => {
    const idList = (name: string) => [
      { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'INT64', repetition_type: 'OPTIONAL' },
    ];
    const buf = parquetWriteBuffer({
      schema: [{ name: 'schema', num_children: 2 }, ...idList('chosen_ids'), ...idList('rejected_ids')] as never,
      columnData: [
        { name: 'chosen_ids', data: [[1n, 2n, 151645n], [5n]] },
        { name: 'rejected_ids', data: [[1n, 3n], [6n, 7n]] },
      ],
    });
    const info = await parquetInfo(countingBuffer(buf));
    expect(info.columns).toEqual([{ name: 'chosen_ids', type: 'list<int64>' }, { name: 'rejected_ids', type: 'list<int64>' }]);
    const r = await readPreferenceParquet(countingBuffer(buf));
    expect(r.importRecords('all-or-nothing')).toEqual([
      { format: 'tokenized', chosen_ids: [1, 2, 151645], rejected_ids: [1, 3], extra: {} },
      { format: 'tokenized', chosen_ids: [5], rejected_ids: [6, 7], extra: {} },
    ]);
  });
});

describe('invalid parquet rows', () => {
  it('are named by 0-based row (offset by earlier shards) and field', async () => {
    const u = (content: string) => ({ content, role: 'user' });
    const a = (content: string) => ({ content, role: 'assistant' });
    const rows = [
      { chosen: [u('Hi'), a('Hello')], rejected: [u('Hi'), a('Go')] },
      { chosen: [u('Hi'), { content: 'x', role: 'bot' }], rejected: [u('Hi'), a('Go')] },
      { chosen: [u('Hi'), a('Same')], rejected: [u('Hi'), a('Same')] },
      { chosen: null, rejected: [u('Hi'), a('Go')] },
      { chosen: [u('Hi'), a('')], rejected: [u('Hi'), a('Go')] },
    ];
    const buf = parquetWriteBuffer({
      schema: ULTRAFEEDBACK_SCHEMA.slice(0, 11).map((e, i) => (i === 0 ? { name: 'schema', num_children: 2 } : { ...e })),
      columnData: [
        { name: 'chosen', data: rows.map((r) => r.chosen) },
        { name: 'rejected', data: rows.map((r) => r.rejected) },
      ],
    });
    const r = await readPreferenceParquet(countingBuffer(buf), { rowOffset: 1000 });
    // identical pairs and empty content: TRL trains on them, so they are valid with a warning naming the row
    expect(r.summary).toMatchObject({ rows: 5, valid: 3, invalid: 2, identicalPairs: 1 });
    expect(r.summary.errors.map(formatIssue)).toEqual([
      'row 1001 (0-based), field chosen[1].role: unknown role "bot"; expected one of "system", "user", "assistant", "tool"',
      'row 1003 (0-based), field chosen: expected a list of messages [{"role": ..., "content": ...}] or a string, got null',
    ]);
    expect(r.summary.warnings.map(formatWarning)).toEqual([
      '1 row: chosen is identical to rejected (TRL trains on it with loss log 2 and no signal) — rows (0-based) 1002',
      '1 row: a message or text is empty — rows (0-based) 1004',
    ]);
  });
});

describe('damaged parquet footers', () => {
  it('a column chunk naming a column the schema lacks is refused before any read starts (no unhandled rejection)', async () => {
    // Found by `npm run fuzz` (seed 1, parquet #191): hyparquet resolved the chunks' paths while starting the earlier
    // chunks' reads; the unknown path threw, and the damaged first chunk's read rejected later with nobody listening,
    // which ends a Node process. Here: row group 0's score_rejected chunk renamed, its first chunk's pages damaged.
    const rows = generateSyntheticPreferences({ trainRows: 12, testRows: 1, seed: 3 }).train;
    const b = new Uint8Array(ultrafeedbackParquet(rows, { rowGroupSize: 4 }));
    const at = [...new TextDecoder('latin1').decode(b).matchAll(/score_rejected/g)].map((m) => m.index);
    expect(at).toHaveLength(4); // the schema, then each row group's chunk path
    b.set(new TextEncoder().encode('score_rejectex'), at[1]);
    b.fill(0xff, 20, 256);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      await expect(readPreferenceParquet(countingBuffer(b.buffer), { name: 'shard.parquet' })).rejects.toThrow(
        /^shard\.parquet: row group 0: a column chunk names the column "score_rejectex", which the schema does not have/,
      );
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
