// One fuzz worker: runs cases [from, to) of a target and reports each (tools/fuzz.ts watches the time per case).
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzCase, warmUp } from './targets.ts';

const { target, seed, from, to } = workerData as { target: string; seed: number; from: number; to: number };
await warmUp(target);
for (let n = from; n < to; n++) {
  parentPort!.postMessage({ kind: 'start', n });
  const c = fuzzCase(target, seed, n);
  const t = performance.now();
  const { verdict, detail } = await c.run();
  parentPort!.postMessage({ kind: 'result', r: { target, n, mutation: `${c.target}: ${c.mutation}`, verdict, detail, ms: performance.now() - t } });
}
parentPort!.postMessage({ kind: 'done' });
