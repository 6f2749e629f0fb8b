// `npm run cli -- gpu`: the adapter, what the engine uses of the optional features (and why not), the software
// warning, and the same one-line summary on stderr that every GPU command prints first.
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import type { GpuInfo } from '../../src/gpu/device.ts';

describe('cli gpu', () => {
  it('--json has the engine feature summary; stderr the one-line summary and the software warning', async () => {
    const { stdout, stderr } = await runCli(['gpu', '--json']);
    const info = JSON.parse(stdout) as GpuInfo;
    expect(info.engine.map((f) => f.name)).toEqual(['subgroups', 'shader-f16', 'timestamp-query', 'subgroup matrices']);
    expect(stderr).toMatch(/\[gpu\] engine: subgroups [✓✗] \(.+\) · shader-f16 [✓✗] \(.+\) · timestamp-query [✓✗] \(.+\) · subgroup matrices [✓✗] \(.+\)/);
    if (/swiftshader/i.test(info.architecture + info.description)) {
      expect(info.software).toMatch(/SwiftShader/);
      expect(stderr).toMatch(/\[gpu\] WARNING: WebGPU runs on SwiftShader/);
      expect(stderr).toMatch(/subgroups ✓ \(norm and grad-norm reductions, size 4\)/);
    }
  });
});
