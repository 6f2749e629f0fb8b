// `npm run cli -- gpu`: the adapter Dawn finds, which optional features the engine uses (and why not), a warning when
// it is a software fallback, and the key limits. --json prints GpuInfo.
import { parseArgs } from './args.ts';
import { cliGpu } from './common.ts';
import { formatBytes } from '../data/storage.ts';

const HELP = `usage: npm run cli -- gpu [--json]
  Prints the WebGPU adapter, the features the engine uses (subgroups, shader-f16, timestamp-query, subgroup matrices)
  with the reason when one is not used, and the limits the engine requested.`;

export async function gpuCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help')) return (console.log(HELP), 0);
  const a = parseArgs(argv, { values: [], flags: ['json'] });
  const gpu = await cliGpu(); // (runs the f16 weight tiles' self-test)
  const i = gpu.info;
  if (a.options.has('json')) {
    console.log(JSON.stringify(i, null, 2));
  } else {
    console.log(`adapter   ${[i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unknown'}`);
    if (i.software) console.log(`WARNING   ${i.software}`);
    for (const f of i.engine) console.log(`${f.name.padEnd(18)}${f.using ? 'used' : 'not used'}: ${f.detail}`);
    for (const [k, v] of Object.entries(i.limits)) console.log(`${k.padEnd(34)}${/Size$/.test(k) ? formatBytes(v) : v}`);
  }
  gpu.device.destroy();
  return 0;
}
