// The incremental SHA-256 / SHA-1 against node:crypto and git, on awkward lengths and split points.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Sha1, Sha256, gitBlobHasher } from '../../src/data/hub-hash.ts';
import { Rng } from '../../src/util/random.ts';

function randomBytes(rng: Rng, n: number): Uint8Array {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.int(256);
  return a;
}

describe('hub-hash', () => {
  it('matches the FIPS 180 examples', () => {
    const abc = new TextEncoder().encode('abc');
    expect(new Sha256().update(abc).hex()).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(new Sha1().update(abc).hex()).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(new Sha256().hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('matches node:crypto for lengths around block and padding boundaries, fed in random pieces', () => {
    const rng = new Rng(11);
    for (const n of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 1000, 65537, 300_001]) {
      const data = randomBytes(rng, n);
      const s256 = new Sha256(), s1 = new Sha1();
      for (let o = 0; o < n;) {
        const k = Math.min(n - o, 1 + rng.int(rng.uniform() < 0.5 ? 70 : 9000));
        s256.update(data.subarray(o, o + k));
        s1.update(data.subarray(o, o + k));
        o += k;
      }
      expect(s256.length).toBe(n);
      expect(s256.hex(), `sha256 n=${n}`).toBe(createHash('sha256').update(data).digest('hex'));
      expect(s1.hex(), `sha1 n=${n}`).toBe(createHash('sha1').update(data).digest('hex'));
    }
  });

  it('gitBlobHasher gives the id `git hash-object` computes', () => {
    const data = new TextEncoder().encode('{"architectures": ["Qwen3ForCausalLM"]}\n');
    const expected = execFileSync('git', ['hash-object', '--stdin'], { input: data }).toString().trim();
    expect(gitBlobHasher(data.length).update(data).hex()).toBe(expected);
  });

  it('refuses updates after finalizing', () => {
    const h = new Sha256();
    h.hex();
    expect(() => h.update(new Uint8Array(1))).toThrow('hasher already finalized');
  });
});
