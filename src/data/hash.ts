// Hashes used by the data pipeline: a fast synchronous 64-bit string hash (duplicate detection keeps one per row, so a
// 200 MB file never needs its rows' text kept in a Set) and SHA-256 hex (cache keys: tokenizer and chat template).

/** 64-bit hash of a string as 16 hex chars (two independent 32-bit multiply-xorshift lanes over UTF-16 units).
 *  Not cryptographic; collisions are ~2^-64 per pair, negligible for duplicate counts. */
export function hash64(s: string): string {
  let h1 = 0xdeadbeef ^ s.length;
  let h2 = 0x41c6ce57 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** SHA-256 of a string (UTF-8) or bytes, as lowercase hex. Web Crypto: available in browsers, workers and Node ≥ 19. */
export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
