// A short run of the fuzz corpus (tools/fuzz/targets.ts, the same seeded cases `npm run fuzz` runs): every case of
// every target is accepted correctly or refused naming its place — no crash, no wrong accept, and each within a
// time limit (a case over it counts as a hang). In-process; the tokenizer target runs 4 cases (each builds the real
// Qwen3 tokenizer from its 11 MB tokenizer.json).
import { describe, expect, it } from 'vitest';
import { fuzzCase, TARGETS, warmUp } from '../../tools/fuzz/targets.ts';

const CASES = 12;
const LIMIT_MS = 5000;

describe('fuzz (short run, seed 1)', () => {
  for (const target of Object.keys(TARGETS)) {
    it(target, async () => {
      await warmUp(target);
      const bad: string[] = [];
      for (let n = 0; n < (target === 'tokenizer' ? 4 : CASES); n++) {
        const c = fuzzCase(target, 1, n);
        const t = performance.now();
        const { verdict, detail } = await c.run();
        const ms = performance.now() - t;
        if (ms > LIMIT_MS) bad.push(`#${n} [${c.mutation}]: hang (${ms.toFixed(0)} ms)`);
        if (verdict !== 'accepted' && verdict !== 'refused') bad.push(`#${n} [${c.mutation}]: ${verdict}: ${detail}`);
      }
      expect(bad).toEqual([]);
    }, 60_000);
  }
});
