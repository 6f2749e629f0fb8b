// The tokenized-dataset cache's key and its compact binary form (storing it is the storage module's job). A second
// run with the same dataset revision, tokenizer, chat template and max_length starts training at once.
// Binary layout (little-endian, every section aligned to its element size):
//   header  8 × u32: magic "RSTK", version, kept pairs N, flags (bit 0: margins), total, filtered F, maxLength
//           (0xFFFFFFFF = none), reserved 0
//   lengths u32[2N]   chosen_0, rejected_0, chosen_1, ...
//   filtered u32[F]   input indices of the dropped pairs
//   (pad to 8 bytes)  margins f64[N] when flag bit 0
//   ids     i32[Σ lengths], the pairs' chosen then rejected ids back to back
// Deserializing makes views into the buffer, no copies.

import type { TokenizedDataset, TokenizedPair } from './tokenize.ts';

/** Bump when tokenization semantics change, so old cache entries are not reused. */
export const TOKENIZATION_VERSION = 1;

const MAGIC = 0x4b545352; // "RSTK" read as a little-endian u32
const FORMAT_VERSION = 1;
const NO_MAX = 0xffffffff;

export interface TokenizedCacheKeyParts {
  /** Hub id (`trl-lib/ultrafeedback_binarized`) or an imported file's id. */
  datasetId: string;
  /** Hub commit sha, or a content hash for an imported file. */
  revision: string;
  /** Split name (`train`, `test`). */
  split: string;
  tokenizerHash: string;
  templateHash: string;
  maxLength: number | null;
}

/** `tokenized/v1/<dataset>@<revision>/<split>/tok-<16 hex>/tpl-<16 hex>/max-<n>`: readable and unique per inputs. */
export function tokenizedCacheKey(p: TokenizedCacheKeyParts): string {
  for (const [k, v] of Object.entries({ datasetId: p.datasetId, revision: p.revision, split: p.split })) {
    if (v === '' || v.includes('\n')) throw new Error(`tokenizedCacheKey: ${k} must be a non-empty single-line string`);
  }
  const max = p.maxLength === null ? 'none' : String(p.maxLength);
  return `tokenized/v${TOKENIZATION_VERSION}/${p.datasetId}@${p.revision}/${p.split}/tok-${p.tokenizerHash.slice(0, 16)}/tpl-${p.templateHash.slice(0, 16)}/max-${max}`;
}

export function serializeTokenized(ds: TokenizedDataset): ArrayBuffer {
  const n = ds.pairs.length;
  const f = ds.filteredIndices.length;
  const hasMargin = n > 0 && ds.pairs[0].margin !== undefined;
  let nIds = 0;
  for (const p of ds.pairs) nIds += p.chosen_ids.length + p.rejected_ids.length;
  const lengthsOff = 32;
  const filteredOff = lengthsOff + 8 * n;
  const marginsOff = Math.ceil((filteredOff + 4 * f) / 8) * 8;
  const idsOff = marginsOff + (hasMargin ? 8 * n : 0);
  const buf = new ArrayBuffer(idsOff + 4 * nIds);
  new Uint32Array(buf, 0, 8).set([MAGIC, FORMAT_VERSION, n, hasMargin ? 1 : 0, ds.total, f, ds.maxLength ?? NO_MAX, 0]);
  const lengths = new Uint32Array(buf, lengthsOff, 2 * n);
  new Uint32Array(buf, filteredOff, f).set(ds.filteredIndices);
  const margins = hasMargin ? new Float64Array(buf, marginsOff, n) : null;
  const ids = new Int32Array(buf, idsOff, nIds);
  let o = 0;
  ds.pairs.forEach((p, i) => {
    lengths[2 * i] = p.chosen_ids.length;
    lengths[2 * i + 1] = p.rejected_ids.length;
    if (margins) {
      if (p.margin === undefined) throw new Error(`serializeTokenized: pair ${i} has no margin but pair 0 has one`);
      margins[i] = p.margin;
    }
    ids.set(p.chosen_ids, o);
    o += p.chosen_ids.length;
    ids.set(p.rejected_ids, o);
    o += p.rejected_ids.length;
  });
  return buf;
}

export function deserializeTokenized(buf: ArrayBuffer): TokenizedDataset {
  if (buf.byteLength < 32) throw new Error(`tokenized cache entry is ${buf.byteLength} bytes, shorter than its header; delete it and tokenize again`);
  const [magic, version, n, flags, total, f, maxLength] = new Uint32Array(buf, 0, 8);
  if (magic !== MAGIC || version !== FORMAT_VERSION) {
    throw new Error('tokenized cache entry has an unknown format (magic/version); delete it and tokenize again');
  }
  const lengthsOff = 32;
  const filteredOff = lengthsOff + 8 * n;
  const marginsOff = Math.ceil((filteredOff + 4 * f) / 8) * 8;
  const idsOff = marginsOff + (flags & 1 ? 8 * n : 0);
  if (idsOff > buf.byteLength) throw new Error('tokenized cache entry is truncated; delete it and tokenize again');
  const lengths = new Uint32Array(buf, lengthsOff, 2 * n);
  const filteredIndices = Array.from(new Uint32Array(buf, filteredOff, f));
  const margins = flags & 1 ? new Float64Array(buf, marginsOff, n) : null;
  let nIds = 0;
  for (let i = 0; i < 2 * n; i++) nIds += lengths[i];
  if (idsOff + 4 * nIds !== buf.byteLength) throw new Error('tokenized cache entry is truncated or corrupt (ids size mismatch); delete it and tokenize again');
  const ids = new Int32Array(buf, idsOff, nIds);
  const pairs: TokenizedPair[] = [];
  let o = 0;
  for (let i = 0; i < n; i++) {
    const chosen_ids = ids.subarray(o, o + lengths[2 * i]);
    o += lengths[2 * i];
    const rejected_ids = ids.subarray(o, o + lengths[2 * i + 1]);
    o += lengths[2 * i + 1];
    pairs.push(margins ? { chosen_ids, rejected_ids, margin: margins[i] } : { chosen_ids, rejected_ids });
  }
  return { pairs, total, filteredIndices, maxLength: maxLength === NO_MAX ? null : maxLength };
}
