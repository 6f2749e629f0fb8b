// Shared parts of the soak scenarios: options and results, the CLI as a child process (killable like `kill -9`),
// the tiny fixtures, and the checks every scenario makes on a run's output folder (complete checkpoints only, an
// export that is whole or absent, metrics and weights equal to an uninterrupted run's, bit for bit).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bytesSource } from '../../src/formats/bytes.ts';
import { readSafetensorsHeader, readTensorBytes } from '../../src/formats/safetensors.ts';
import { writeFixtures } from '../fixtures.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface SoakOptions {
  /** Rounds (kills, cuts, …) per scenario. */
  n: number;
  seed: number;
  /** Scratch folder (fixtures, run outputs). */
  workDir: string;
  log: (line: string) => void;
}

export interface ScenarioResult {
  name: string;
  /** Faults injected (or rounds run). */
  total: number;
  /** Rounds where every check held. */
  passed: number;
  /** What went wrong, one line per failed round. */
  notes: string[];
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** The harness killed it (SIGKILL) before it ended. */
  killed: boolean;
  ms: number;
  /** ms from the start to its `[plan]` line (training starts), or null. */
  planMs: number | null;
}

/**
 * Runs `npm run cli -- <args>` as a child process. `faults` arms REWARD_STUDIO_FAULTS in the child;
 * `killAfterMs` SIGKILLs it that long after it printed its `[plan]` line (training starts).
 */
export function runCli(args: string[], opts: { faults?: string; killAfterMs?: number } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env };
    delete env.REWARD_STUDIO_FAULTS;
    if (opts.faults) env.REWARD_STUDIO_FAULTS = opts.faults;
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './tools/node-hooks.mjs', 'src/cli/main.ts', ...args], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    let planMs: number | null = null;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      if (planMs === null && stderr.includes('[plan]')) planMs = Date.now() - t0;
      if (opts.killAfterMs !== undefined && !timer && stderr.includes('[plan]')) {
        timer = setTimeout(() => {
          if (child.exitCode === null && child.signalCode === null) {
            killed = true;
            child.kill('SIGKILL');
          }
        }, opts.killAfterMs);
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, killed, ms: Date.now() - t0, planMs });
    });
  });
}

export interface SoakFixtures {
  modelDir: string;
  trainFile: string;
  evalFile: string;
}

/** The tiny model and a few pairs of the tiny dataset (train / eval), written once under `dir`. */
export async function soakFixtures(dir: string, trainPairs = 8, evalPairs = 2): Promise<SoakFixtures> {
  const { modelDir, datasetDir } = await writeFixtures(path.join(dir, 'hub'));
  const lines = async (f: string, n: number) => (await readFile(path.join(datasetDir, 'jsonl', f), 'utf8')).split('\n').filter(Boolean).slice(0, n).join('\n') + '\n';
  const trainFile = path.join(dir, `train-${trainPairs}.jsonl`);
  const evalFile = path.join(dir, `eval-${evalPairs}.jsonl`);
  await writeFile(trainFile, await lines('train.jsonl', trainPairs));
  await writeFile(evalFile, await lines('test.jsonl', evalPairs));
  return { modelDir, trainFile, evalFile };
}

export function trainArgs(fx: SoakFixtures, config: object, out: string, resume: boolean): string[] {
  return ['train', '--model', fx.modelDir, '--train', fx.trainFile, '--eval', fx.evalFile, '--config', JSON.stringify(config), '--out', out, ...(resume ? ['--resume'] : [])];
}

/** A small LoRA run: 4 steps, a checkpoint every 2, a log line every step, an eval at the end. */
export const SOAK_CONFIG = {
  learning_rate: 5e-3, max_steps: 4, per_device_train_batch_size: 2, logging_steps: 1, save_steps: 2, max_length: 48, seed: 42,
  peft: { r: 4, lora_alpha: 8, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'] },
};

const CHECKPOINT_FILES = ['optimizer_m.safetensors', 'optimizer_v.safetensors', 'trainable.safetensors', 'trainer_state.json'];

async function checkSafetensors(file: string): Promise<void> {
  const data = new Uint8Array(await readFile(file));
  const src = bytesSource(file, data);
  const header = await readSafetensorsHeader(src);
  for (const name of header.tensors.keys()) await readTensorBytes(src, header, name);
}

/**
 * Problems with what a (possibly killed) run left in `out`: every checkpoint-N folder must be complete (its four
 * files, a state at step N, safetensors that parse and hold every tensor), and an export folder whole or absent.
 */
export async function outputProblems(out: string): Promise<string[]> {
  const problems: string[] = [];
  const dir = path.join(out, 'checkpoints');
  for (const name of existsSync(dir) ? await readdir(dir) : []) {
    if (!/^checkpoint-\d+$/.test(name)) continue;
    const files = (await readdir(path.join(dir, name))).sort();
    if (files.join(',') !== CHECKPOINT_FILES.join(',')) {
      problems.push(`${name}: files ${files.join(', ')}`);
      continue;
    }
    try {
      const state = JSON.parse(await readFile(path.join(dir, name, 'trainer_state.json'), 'utf8')) as { global_step: number };
      if (`checkpoint-${state.global_step}` !== name) problems.push(`${name}: trainer_state at step ${state.global_step}`);
      for (const f of CHECKPOINT_FILES.filter((x) => x.endsWith('.safetensors'))) await checkSafetensors(path.join(dir, name, f));
    } catch (e) {
      problems.push(`${name}: ${(e as Error).message}`);
    }
  }
  const adapter = path.join(out, 'adapter');
  if (existsSync(adapter)) {
    const files = (await readdir(adapter)).sort().join(',');
    if (files !== 'README.md,adapter_config.json,adapter_model.safetensors') problems.push(`adapter/: files ${files}`);
    else {
      try {
        JSON.parse(await readFile(path.join(adapter, 'adapter_config.json'), 'utf8'));
        await checkSafetensors(path.join(adapter, 'adapter_model.safetensors'));
      } catch (e) {
        problems.push(`adapter/: ${(e as Error).message}`);
      }
    }
  }
  return problems;
}

/** metrics.jsonl without the timing field (tokens_per_second is wall-clock, the rest must match bit for bit). */
export async function metricsOf(out: string): Promise<string[]> {
  const text = await readFile(path.join(out, 'metrics.jsonl'), 'utf8');
  return text.split('\n').filter(Boolean).map((l) => {
    const o = JSON.parse(l) as Record<string, unknown>;
    delete o.tokens_per_second;
    return JSON.stringify(o);
  });
}

/** Differences between a finished run in `out` and the uninterrupted reference: metrics, adapter, last checkpoint. */
export async function differences(out: string, ref: string): Promise<string[]> {
  const diffs: string[] = [];
  const [a, b] = [await metricsOf(out), await metricsOf(ref)];
  if (a.length !== b.length) diffs.push(`metrics.jsonl: ${a.length} lines, reference ${b.length}`);
  else {
    const i = a.findIndex((l, k) => l !== b[k]);
    if (i >= 0) diffs.push(`metrics.jsonl line ${i + 1}: ${a[i]} != ${b[i]}`);
  }
  const last = (await readdir(path.join(ref, 'checkpoints'))).filter((n) => /^checkpoint-\d+$/.test(n)).sort((x, y) => Number(x.split('-')[1]) - Number(y.split('-')[1])).at(-1)!;
  const pairs: [string, string][] = [
    ['adapter', 'adapter_model.safetensors'], ['adapter', 'adapter_config.json'],
    ...CHECKPOINT_FILES.filter((f) => f.endsWith('.safetensors')).map((f) => [path.join('checkpoints', last), f] as [string, string]),
  ];
  for (const [d, f] of pairs) {
    const p = path.join(out, d, f);
    if (!existsSync(p)) {
      diffs.push(`${d}/${f} missing`);
      continue;
    }
    const [x, y] = [await readFile(p), await readFile(path.join(ref, d, f))];
    if (!x.equals(y)) diffs.push(`${d}/${f} differs from the uninterrupted run`);
  }
  return diffs;
}

/** The reference: one uninterrupted run of `config` into `<workDir>/<name>` (made once). */
export async function referenceRun(fx: SoakFixtures, config: object, workDir: string, name = 'reference'): Promise<{ out: string; ms: number; trainMs: number }> {
  const out = path.join(workDir, name);
  await mkdir(workDir, { recursive: true });
  const r = await runCli(trainArgs(fx, config, out, false));
  if (r.code !== 0) throw new Error(`the reference run failed (exit ${r.code}):\n${r.stderr}`);
  return { out, ms: r.ms, trainMs: r.ms - (r.planMs ?? 0) };
}
