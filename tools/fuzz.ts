// `npm run fuzz [-- --seed N --cases N --targets a,b --timeout-ms N --json out.json]`: seeded, reproducible fuzzing
// of every file kind the studio and the CLI read (tools/fuzz/targets.ts). Cases run in a worker thread with a heap
// limit; a case that runs past its time limit is a hang (the worker is terminated and a new one continues with the
// next case), a worker killed for memory is a crash. Prints counts per target and verdict, and the first inputs of
// each failing class; exits 1 when any case crashed, hung, was wrongly accepted or refused without a place.
import { Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TARGETS } from './fuzz/targets.ts';

export interface CaseResult {
  target: string;
  n: number;
  mutation: string;
  verdict: string;
  detail: string;
  ms: number;
}

interface Options {
  seed: number;
  cases: number;
  targets: string[];
  timeoutMs: number;
  heapMb: number;
}

function parse(argv: string[]): Options & { json: string | null } {
  const o = { seed: 1, cases: 500, targets: Object.keys(TARGETS), timeoutMs: 10000, heapMb: 1024, json: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === '--seed') o.seed = Number(v);
    else if (argv[i] === '--cases') o.cases = Number(v);
    else if (argv[i] === '--targets') o.targets = v.split(',');
    else if (argv[i] === '--timeout-ms') o.timeoutMs = Number(v);
    else if (argv[i] === '--json') o.json = v;
    else throw new Error(`unknown option ${argv[i]} (known: --seed, --cases, --targets, --timeout-ms, --json)`);
    i++;
  }
  for (const t of o.targets) if (!TARGETS[t]) throw new Error(`unknown target ${t} (known: ${Object.keys(TARGETS).join(', ')})`);
  return o;
}

const WORKER = fileURLToPath(new URL('./fuzz/worker.mjs', import.meta.url));

/** Runs cases [0, cases) of one target; a hang or an out-of-memory death is recorded and the next case continues. */
async function runTarget(target: string, o: Options, onResult: (r: CaseResult) => void): Promise<void> {
  let next = 0;
  while (next < o.cases) {
    await new Promise<void>((resolve) => {
      const w = new Worker(WORKER, { workerData: { target, seed: o.seed, from: next, to: o.cases }, resourceLimits: { maxOldGenerationSizeMb: o.heapMb } });
      let current = next;
      let started = Date.now();
      let begun = false;
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        clearInterval(timer);
        resolve();
      };
      const timer = setInterval(() => {
        if (begun && Date.now() - started > o.timeoutMs) {
          onResult({ target, n: current, mutation: '(see the seed)', verdict: 'hang', detail: `no answer within ${o.timeoutMs} ms`, ms: Date.now() - started });
          next = current + 1;
          void w.terminate();
          finish();
        }
      }, 100);
      w.on('message', (m: { kind: 'start'; n: number } | { kind: 'result'; r: CaseResult } | { kind: 'done' }) => {
        if (m.kind === 'start') {
          begun = true;
          current = m.n;
          started = Date.now();
        } else if (m.kind === 'result') {
          onResult(m.r);
          next = m.r.n + 1;
        } else {
          next = o.cases;
          finish();
        }
      });
      w.on('error', (e) => {
        if (!begun) throw new Error(`the fuzz worker did not start: ${e.message}`);
        onResult({ target, n: current, mutation: '(see the seed)', verdict: 'crash', detail: `worker died: ${e.message}`.slice(0, 300), ms: Date.now() - started });
        next = current + 1;
        finish();
      });
      w.on('exit', () => finish());
    });
  }
}

export const FAILING = ['crash', 'hang', 'wrongly-accepted', 'no-place'];

async function main(): Promise<number> {
  const o = parse(process.argv.slice(2));
  const results: CaseResult[] = [];
  const t0 = Date.now();
  for (const target of o.targets) {
    await runTarget(target, o, (r) => results.push(r));
    const mine = results.filter((r) => r.target === target);
    const counts = Object.fromEntries(['accepted', 'refused', ...FAILING].map((v) => [v, mine.filter((r) => r.verdict === v).length]));
    console.log(`${target.padEnd(12)} ${mine.length} cases: ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  const bad = results.filter((r) => FAILING.includes(r.verdict));
  for (const v of FAILING) {
    const of = bad.filter((r) => r.verdict === v);
    if (of.length) console.log(`\n${v} (${of.length}), first ones:\n${of.slice(0, 8).map((r) => `  ${r.target} #${r.n} [${r.mutation}]: ${r.detail}`).join('\n')}`);
  }
  const total = Object.fromEntries(['accepted', 'refused', ...FAILING].map((v) => [v, results.filter((r) => r.verdict === v).length]));
  console.log(`\nseed ${o.seed}, ${results.length} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${Object.entries(total).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (o.json) writeFileSync(o.json, JSON.stringify({ seed: o.seed, cases: o.cases, results }, null, 1));
  return bad.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main().then((c) => process.exit(c));
