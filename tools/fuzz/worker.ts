// One fuzz worker: runs cases [from, to) of a target and reports each (tools/fuzz.ts watches the time per case).
// A promise a parser started and left unobserved that rejects (an unhandled rejection) would end a CLI process: it is
// caught here, attributed to the case that was running (or had just answered), and reported as that case's crash.
import { parentPort, workerData } from 'node:worker_threads';
import { fuzzCase, warmUp } from './targets.ts';

const { target, seed, from, to } = workerData as { target: string; seed: number; from: number; to: number };
const unhandled: string[] = [];
process.on('unhandledRejection', (e) => unhandled.push(e instanceof Error ? `${e.name}: ${e.message}` : String(e)));
/** Lets rejections of promises the case left behind surface (they are reported after the microtask queue drains). */
const settle = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

await warmUp(target);
for (let n = from; n < to; n++) {
  parentPort!.postMessage({ kind: 'start', n });
  const c = fuzzCase(target, seed, n);
  const t = performance.now();
  unhandled.length = 0;
  let { verdict, detail } = await c.run();
  await settle(n === to - 1 ? 200 : 0);
  if (unhandled.length) {
    detail = `unhandled rejection after the case answered "${verdict}": ${unhandled.join('; ')}`.slice(0, 300);
    verdict = 'crash';
  }
  parentPort!.postMessage({ kind: 'result', r: { target, n, mutation: `${c.target}: ${c.mutation}`, verdict, detail, ms: performance.now() - t } });
}
parentPort!.postMessage({ kind: 'done' });
