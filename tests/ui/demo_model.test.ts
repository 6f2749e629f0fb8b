// The studio's demo model and the fixture model folder come from one generator (src/model/tiny.ts): the demo's
// config.json and model.safetensors are the bytes tools/fixtures-model.ts writes, for the same seed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeTinyQwen3 } from '../../tools/fixtures-model.ts';
import { demoModelFiles } from '../../src/worker/demo_model.ts';
import { parseQwen3Config } from '../../src/model/config.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'rs-demo-model-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('demo model', () => {
  it('has the fixture folder weights byte for byte, and the same config', async () => {
    for (const seed of [0, 5]) {
      const out = path.join(dir, `seed-${seed}`);
      await writeTinyQwen3(out, { seed });
      const files = demoModelFiles(seed);
      const w = files.weights[0];
      const demoBytes = await w.read(0, w.size);
      const fixture = readFileSync(path.join(out, 'model.safetensors'));
      expect(demoBytes.length).toBe(fixture.length);
      expect(Buffer.from(demoBytes).equals(fixture)).toBe(true);
      expect(JSON.parse(files.configText)).toEqual(JSON.parse(readFileSync(path.join(out, 'config.json'), 'utf8')));
    }
    // a different seed gives different weights
    const a = demoModelFiles(0).weights[0];
    const b = demoModelFiles(1).weights[0];
    expect(Buffer.from(await a.read(0, a.size)).equals(Buffer.from(await b.read(0, b.size)))).toBe(false);
    expect(parseQwen3Config(JSON.parse(demoModelFiles().configText))).toMatchObject({ hidden_size: 64, num_hidden_layers: 2, vocab_size: 151936 });
  });
});
