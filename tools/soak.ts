// `npm run soak [-- --n 8 --seed 1 --only kill,download,device,enospc,nonfinite,studio]`: the fault-injection harness.
// Not part of `npm test` (the suite runs short versions: tests/soak/). Plain Node (spawns the CLI with
// process.execPath and kills it with child.kill('SIGKILL'), so it works on Windows too). Prints one line per round
// and a table of counts at the end; writes the counts to .cache/soak/results.json; exits 1 if any round failed.
// Scenarios (tools/soak/*.ts):
//   kill       kill -9 of `npm run cli -- train` at random moments and named points (mid-step, mid-checkpoint,
//              mid-export), --resume: bit-identical metrics and weights, no half-written checkpoint
//   download   connection cut at random offsets (the mirror's cut switch), corrupted stored chunks, full disk
//   device     device lost mid-step: exit naming the step, --resume
//   enospc     full disk during a checkpoint / the export: sizes named, previous kept, --resume
//   nonfinite  NaN / Inf in a gradient: stop naming step and pass, last good checkpoint intact, --resume
//   studio     the studio in headless Chromium: the tab reloaded / closed and reopened at random moments of a LoRA
//              run and of a model download from a throttled local mirror (tools/soak/studio.ts; --studio-n rounds,
//              default n/4): resumes from the last (recovery) checkpoint, Range-resumed verified downloads, stored
//              imports / files / runs intact
// The studio's device loss and quota run in the suite (tests/e2e/device_lost.e2e.ts, tests/soak/).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, type ScenarioResult, type SoakOptions } from './soak/common.ts';
import { cliSoakContext, deviceLostScenario, enospcScenario, killScenario, nonFiniteScenario } from './soak/cli_faults.ts';
import { downloadScenario } from './soak/download.ts';
import { studioScenario } from './soak/studio.ts';
import { useSwiftShaderIfNoIcd } from '../src/gpu/node.ts';

const ALL = ['kill', 'download', 'device', 'enospc', 'nonfinite', 'studio'] as const;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<number> {
  const n = Number(arg('n') ?? 8);
  const seed = Number(arg('seed') ?? 1);
  const only = (arg('only') ?? ALL.join(',')).split(',').map((s) => s.trim());
  const unknown = only.filter((s) => !(ALL as readonly string[]).includes(s));
  if (unknown.length || !(n >= 1) || !Number.isInteger(seed)) {
    console.error(`usage: npm run soak -- [--n ROUNDS] [--seed N] [--only ${ALL.join(',')}]${unknown.length ? `\nunknown scenario: ${unknown.join(', ')}` : ''}`);
    return 2;
  }
  // the CLI children find SwiftShader the same way (no GPU driver on a CI machine)
  useSwiftShaderIfNoIcd();
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const workDir = path.join(ROOT, '.cache', 'soak', 'work');
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const t0 = Date.now();
  const o: SoakOptions = { n, seed, workDir, log: (l) => console.log(`${((Date.now() - t0) / 1000).toFixed(0).padStart(5)} s ${l}`) };
  const results: ScenarioResult[] = [];
  if (only.includes('download')) results.push(...(await downloadScenario(o)));
  if (only.includes('studio')) results.push(...(await studioScenario({ ...o, n: Number(arg('studio-n') ?? Math.max(1, Math.ceil(n / 4))) })));
  const cli = only.filter((s) => s !== 'download' && s !== 'studio');
  if (cli.length) {
    const c = await cliSoakContext(o);
    if (only.includes('kill')) results.push(...(await killScenario(o, c)));
    const few = Math.max(2, Math.ceil(n / 4));
    if (only.includes('device')) results.push(...(await deviceLostScenario(o, c, few)));
    if (only.includes('enospc')) results.push(...(await enospcScenario(o, c, few)));
    if (only.includes('nonfinite')) results.push(...(await nonFiniteScenario(o, c, few)));
  }
  const minutes = (Date.now() - t0) / 60000;
  console.log(`\nsoak: seed ${seed}, n ${n}, ${minutes.toFixed(1)} min, ${new Date().toISOString()}`);
  for (const r of results) {
    console.log(`  ${r.passed === r.total ? 'ok  ' : 'FAIL'} ${r.passed}/${r.total}  ${r.name}`);
    for (const note of r.notes) console.log(`         ${note}`);
  }
  await writeFile(path.join(ROOT, '.cache', 'soak', 'results.json'), JSON.stringify({ date: new Date().toISOString(), seed, n, minutes, results }, null, 2));
  await rm(workDir, { recursive: true, force: true });
  return results.every((r) => r.passed === r.total && r.total > 0) ? 0 : 1;
}

main().then((code) => process.exit(code), (e: Error) => {
  console.error(e.stack ?? e.message);
  process.exit(1);
});
