// Data order and batching as TRL's RewardTrainer sees it: each epoch a seeded shuffle of the pairs, batches of
// per_device_train_batch_size pairs (the last one may be smaller; drop_last false), each batch split into
// micro-batches that fit the GPU. A micro-batch holds chosen rows [0,P) then rejected rows [P,2P), right-padded
// with pad_token_id to a bucketed length T.

import { Rng } from '../util/random.ts';

export interface TokenizedPair {
  chosen_ids: ArrayLike<number>;
  rejected_ids: ArrayLike<number>;
  margin?: number;
}

/** Sequence lengths are rounded up to a multiple of this, so few (B,T) plans exist. */
export const T_BUCKET = 16;

export function bucketLength(t: number, maxT: number): number {
  return Math.min(maxT, Math.max(T_BUCKET, Math.ceil(t / T_BUCKET) * T_BUCKET));
}

/** Epoch `epoch`'s order of pair indices: a shuffle seeded by (seed, epoch), like a sampler reseeded per epoch. */
export function epochOrder(n: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  return new Rng((seed * 1000003 + epoch * 7919) >>> 0).shuffle(order);
}

/** Batches (lists of pair indices) of one epoch. */
export function epochBatches(n: number, batchSize: number, seed: number, epoch: number, shuffle = true): number[][] {
  const order = shuffle ? epochOrder(n, seed, epoch) : Array.from({ length: n }, (_, i) => i);
  const out: number[][] = [];
  for (let i = 0; i < n; i += batchSize) out.push(order.slice(i, i + batchSize));
  return out;
}

/** Splits a batch into micro-batches of at most `microPairs` pairs, as evenly as possible. */
export function splitBatch(batch: number[], microPairs: number): number[][] {
  const k = Math.ceil(batch.length / microPairs);
  const out: number[][] = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(batch.length / k) + (i < batch.length % k ? 1 : 0);
    out.push(batch.slice(start, start + size));
    start += size;
  }
  return out;
}

export interface MicroBatch {
  P: number; // pairs
  B: number; // sequences = 2P
  T: number; // padded length (bucketed)
  ids: Uint32Array; // (B,T) right-padded with padId
  lengths: Uint32Array; // (B,)
  margins: Float32Array | null; // (P,) when the dataset has margins
  numTokens: number; // non-pad tokens (TRL's num_tokens counts attention-mask ones)
}

/** Packs pairs into the (B,T) layout the model reads: chosen rows first, then rejected. */
export function packMicroBatch(pairs: TokenizedPair[], padId: number, maxT: number, withMargins: boolean): MicroBatch {
  const P = pairs.length;
  const packed = packSequences([...pairs.map((p) => p.chosen_ids), ...pairs.map((p) => p.rejected_ids)], padId, maxT);
  const margins = withMargins ? Float32Array.from(pairs, (p) => p.margin ?? 0) : null;
  return { P, ...packed, margins };
}

/** Right-pads sequences with padId into (B,T), T bucketed; lengths (B,) are the real lengths (≥ 1). */
export function packSequences(seqs: ArrayLike<number>[], padId: number, maxT: number): Omit<MicroBatch, 'P' | 'margins'> {
  const B = seqs.length;
  let longest = 1;
  for (const s of seqs) longest = Math.max(longest, s.length);
  if (longest > maxT) throw new Error(`a sequence of ${longest} tokens is longer than the ${maxT} tokens the model was planned for (max_length)`);
  const T = bucketLength(longest, maxT);
  const ids = new Uint32Array(B * T).fill(padId);
  const lengths = new Uint32Array(B);
  let numTokens = 0;
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) ids[b * T + t] = s[t];
    lengths[b] = Math.max(1, s.length);
    numTokens += s.length;
  });
  return { B, T, ids, lengths, numTokens };
}

/** TRL filters (does not truncate) pairs whose chosen or rejected is longer than max_length. */
export function filterByLength<T extends TokenizedPair>(pairs: T[], maxLength: number): { kept: T[]; filtered: number } {
  const kept = pairs.filter((p) => p.chosen_ids.length <= maxLength && p.rejected_ids.length <= maxLength);
  return { kept, filtered: pairs.length - kept.length };
}
