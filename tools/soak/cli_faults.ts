// Soak scenarios on the CLI (`npm run cli -- train` as a child process, tiny model, LoRA, a checkpoint every 2 steps),
// each compared with one uninterrupted reference run of the same config:
//   kill        kill -9 at a random moment after training started (harness SIGKILL), or at a named point through
//               REWARD_STUDIO_FAULTS (kill@step:N mid-step, kill@checkpoint:N mid-write, kill@export:1 mid-export),
//               sometimes twice in a row; then --resume to the end. Checked after every kill: no checkpoint or
//               export half-written. Checked at the end: metrics.jsonl, the adapter and the last checkpoint
//               equal the reference bit for bit.
//   device      device-lost@step:N: the CLI exits non-zero naming step N; --resume ends like the reference.
//   enospc      enospc@checkpoint:N / enospc@export:1: the message gives the sizes and what was kept, nothing
//               half-written, --resume ends like the reference.
//   nonfinite   nan-grad@step:N / inf-grad@step:N: exits naming the step and the backward pass; the checkpoints
//               left equal the reference's at the same steps; --resume ends like the reference.
import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Rng } from '../../src/util/random.ts';
import {
  differences, outputProblems, referenceRun, runCli, soakFixtures, trainArgs, SOAK_CONFIG, type ScenarioResult, type SoakFixtures, type SoakOptions,
} from './common.ts';

export interface CliSoakContext {
  fx: SoakFixtures;
  config: typeof SOAK_CONFIG;
  ref: { out: string; trainMs: number };
  checkpointSteps: number[];
}

export async function cliSoakContext(o: SoakOptions, config = SOAK_CONFIG): Promise<CliSoakContext> {
  const fx = await soakFixtures(path.join(o.workDir, 'fixtures'));
  o.log('[cli] reference run (uninterrupted)…');
  const ref = await referenceRun(fx, config, o.workDir);
  o.log(`[cli] reference: ${(ref.ms / 1000).toFixed(1)} s (${(ref.trainMs / 1000).toFixed(1)} s after the plan)`);
  const checkpointSteps = (await readdir(path.join(ref.out, 'checkpoints'))).filter((n) => /^checkpoint-\d+$/.test(n)).map((n) => Number(n.split('-')[1])).sort((a, b) => a - b);
  return { fx, config, ref, checkpointSteps };
}

/** --resume until the run finishes (at most 3 tries), then the differences with the reference. */
async function resumeAndCompare(c: CliSoakContext, out: string): Promise<string[]> {
  const r = await runCli(trainArgs(c.fx, c.config, out, true));
  if (r.code !== 0) return [`--resume exited ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`];
  return [...(await outputProblems(out)), ...(await differences(out, c.ref.out))];
}

const pick = <T>(rng: Rng, xs: T[]): T => xs[rng.nextU32() % xs.length];

export async function killScenario(o: SoakOptions, c: CliSoakContext): Promise<ScenarioResult[]> {
  const rng = new Rng(o.seed + 1);
  const kills = { name: 'kill -9 during training (random moment or named point), then --resume', total: 0, passed: 0, notes: [] as string[] };
  const atomic = { name: 'checkpoints and exports seen after a kill: complete (none half-written)', total: 0, passed: 0, notes: [] as string[] };
  const where = new Map<string, number>();
  const maxSteps = c.config.max_steps;
  for (let round = 0; round < o.n; round++) {
    const out = path.join(o.workDir, `kill-${round}`);
    await rm(out, { recursive: true, force: true });
    const problems: string[] = [];
    let killedHere = 0;
    // one kill, sometimes a second one during the resume
    for (let k = 0; k < (rng.uniform() < 0.3 ? 2 : 1); k++) {
      const mode = pick(rng, ['random', 'random', 'random', 'step', 'checkpoint', 'export'] as const);
      const faults = mode === 'step' ? `kill@step:${1 + (rng.nextU32() % maxSteps)}` : mode === 'checkpoint' ? `kill@checkpoint:${1 + (rng.nextU32() % c.checkpointSteps.length)}` : mode === 'export' ? 'kill@export:1' : undefined;
      const killAfterMs = mode === 'random' ? Math.floor(rng.uniform() * c.ref.trainMs) : undefined;
      const r = await runCli(trainArgs(c.fx, c.config, out, true), { faults, killAfterMs });
      const died = r.signal === 'SIGKILL' || r.code === 137;
      if (!died) {
        // the random moment came after the run had finished: not a kill
        if (r.code !== 0) problems.push(`run exited ${r.code} without being killed: ${r.stderr.trim().split('\n').at(-1)}`);
        break;
      }
      killedHere++;
      const at = mode === 'random' ? `random (${killAfterMs} ms after the plan; last line "${r.stderr.trim().split('\n').at(-1)}")` : faults!;
      const label = mode === 'random' ? 'random moment' : faults!.split(':')[0];
      where.set(label, (where.get(label) ?? 0) + 1);
      atomic.total++;
      const bad = await outputProblems(out);
      if (bad.length) {
        atomic.notes.push(`round ${round} after kill at ${at}: ${bad.join('; ')}`);
        problems.push(...bad);
      } else atomic.passed++;
      o.log(`[kill] round ${round + 1}/${o.n}: killed at ${at}`);
    }
    if (killedHere === 0) {
      o.log(`[kill] round ${round + 1}/${o.n}: the run finished before the kill (not counted)`);
      continue;
    }
    kills.total++;
    problems.push(...(await resumeAndCompare(c, out)));
    if (problems.length) kills.notes.push(`round ${round}: ${problems.join('; ')}`);
    else kills.passed++;
    o.log(`[kill] round ${round + 1}/${o.n}: ${problems.length ? `FAILED ${problems.join('; ')}` : 'resumed, bit-identical'}`);
    await rm(out, { recursive: true, force: true });
  }
  kills.name += ` [kills by point: ${[...where].map(([k, v]) => `${k} ${v}`).join(', ')}]`;
  return [kills, atomic];
}

/** A fault through REWARD_STUDIO_FAULTS that must stop the run with a message matching `expect`; then --resume. */
async function faultRound(o: SoakOptions, c: CliSoakContext, out: string, faults: string, expect: RegExp, extra?: (stderr: string) => Promise<string[]>): Promise<string[]> {
  await rm(out, { recursive: true, force: true });
  const r = await runCli(trainArgs(c.fx, c.config, out, false), { faults });
  const problems: string[] = [];
  const msg = r.stderr.split('\n').find((l) => l.startsWith('error: ')) ?? '';
  if (r.code === 0 || r.code === null) problems.push(`exit ${r.code ?? r.signal}, expected a failure`);
  if (!expect.test(msg)) problems.push(`message: ${msg || r.stderr.trim().split('\n').at(-1)}`);
  problems.push(...(await outputProblems(out)));
  if (extra) problems.push(...(await extra(r.stderr)));
  problems.push(...(await resumeAndCompare(c, out)));
  o.log(`[${faults}] ${problems.length ? `FAILED ${problems.join('; ')}` : 'ok'} — ${msg}`);
  await rm(out, { recursive: true, force: true });
  return problems;
}

export async function deviceLostScenario(o: SoakOptions, c: CliSoakContext, rounds: number): Promise<ScenarioResult[]> {
  const rng = new Rng(o.seed + 2);
  const res = { name: 'device lost mid-step (device.destroy()): exit non-zero naming the step, --resume', total: 0, passed: 0, notes: [] as string[] };
  for (let i = 0; i < rounds; i++) {
    const step = 1 + (rng.nextU32() % c.config.max_steps);
    const last = c.checkpointSteps.filter((s) => s < step).at(-1);
    const expect = new RegExp(`^error: step ${step}: The GPU device was lost \\(injected device\\.destroy\\(\\) at training step ${step}\\)\\..*${last ? `continues from checkpoint-${last}\\.` : 'starts again from step 0\\.'}$`);
    const p = await faultRound(o, c, path.join(o.workDir, `device-${i}`), `device-lost@step:${step}`, expect);
    res.total++;
    if (p.length) res.notes.push(`step ${step}: ${p.join('; ')}`);
    else res.passed++;
  }
  return [res];
}

export async function enospcScenario(o: SoakOptions, c: CliSoakContext, rounds: number): Promise<ScenarioResult[]> {
  const rng = new Rng(o.seed + 3);
  const res = { name: 'disk full (injected ENOSPC) during a checkpoint or the export: sizes named, previous kept, --resume', total: 0, passed: 0, notes: [] as string[] };
  for (let i = 0; i < rounds; i++) {
    const atExport = i % 2 === 1;
    const n = 1 + (rng.nextU32() % c.checkpointSteps.length);
    const name = `checkpoint-${c.checkpointSteps[n - 1]}`;
    const prev = c.checkpointSteps[n - 2];
    const expect = atExport
      ? /^error: no space left to write .*adapter: it needs [\d.]+ [KMG]?B(, [\d.]+ [KMG]?B are free)? on the disk holding .*\. Nothing was written there; the checkpoints are intact\./
      : new RegExp(`^error: no space left while saving ${name}: it needs [\\d.]+ [KMG]?B(, [\\d.]+ [KMG]?B are free)? on the disk holding .*\\. ${name} was not written; ${prev ? `the previous checkpoint checkpoint-${prev} is intact` : 'no earlier checkpoint exists'}\\.`);
    const out = path.join(o.workDir, `enospc-${i}`);
    const p = await faultRound(o, c, out, atExport ? 'enospc@export:1' : `enospc@checkpoint:${n}`, expect, async () => {
      const problems: string[] = [];
      if (!atExport && existsSync(path.join(out, 'checkpoints', name))) problems.push(`${name} exists after the failed save`);
      if (atExport && existsSync(path.join(out, 'adapter'))) problems.push('adapter/ exists after the failed export');
      return problems;
    });
    res.total++;
    if (p.length) res.notes.push(`${atExport ? 'export' : name}: ${p.join('; ')}`);
    else res.passed++;
  }
  return [res];
}

export async function nonFiniteScenario(o: SoakOptions, c: CliSoakContext, rounds: number): Promise<ScenarioResult[]> {
  const rng = new Rng(o.seed + 4);
  const res = { name: 'NaN/Inf injected into a gradient: step skipped, stop naming step and pass, last good checkpoint intact, --resume', total: 0, passed: 0, notes: [] as string[] };
  for (let i = 0; i < rounds; i++) {
    const kind = i % 2 ? 'inf-grad' : 'nan-grad';
    const step = 1 + (rng.nextU32() % c.config.max_steps);
    const expect = new RegExp(`^error: step ${step}: grad_norm is ${kind === 'nan-grad' ? 'NaN' : 'Infinity'}; the optimizer skipped that step, so the weights are untouched\\. The backward pass produced it\\.`);
    const out = path.join(o.workDir, `nonfinite-${i}`);
    const p = await faultRound(o, c, out, `${kind}@step:${step}`, expect, async () => {
      // the checkpoints left are the reference's (written before the bad step), byte for byte
      const problems: string[] = [];
      const dir = path.join(out, 'checkpoints');
      const names = existsSync(dir) ? (await readdir(dir)).filter((n) => /^checkpoint-\d+$/.test(n)) : [];
      const want = c.checkpointSteps.filter((s) => s < step).map((s) => `checkpoint-${s}`);
      if (names.sort().join() !== want.sort().join()) problems.push(`checkpoints ${names.join(',')}, expected ${want.join(',')}`);
      for (const n of names) {
        for (const f of ['trainable.safetensors', 'optimizer_m.safetensors', 'optimizer_v.safetensors']) {
          if (!(await readFile(path.join(dir, n, f))).equals(await readFile(path.join(c.ref.out, 'checkpoints', n, f)))) problems.push(`${n}/${f} differs from the reference`);
        }
      }
      return problems;
    });
    res.total++;
    if (p.length) res.notes.push(`${kind}@step:${step}: ${p.join('; ')}`);
    else res.passed++;
  }
  return [res];
}
