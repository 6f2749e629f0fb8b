// Web Worker entry for the GPU side: adapter info, memory plan, training, scoring, evaluation, export.
// All logic is in train_handler.ts; this file wires it to the worker's message port.
/// <reference lib="webworker" />
import { errorEvent, transferablesOf, type Request, type WorkerEvent } from './protocol.ts';
import { createTrainHandler } from './train_handler.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: WorkerEvent) => scope.postMessage(ev, transferablesOf(ev));
const handle = createTrainHandler({ post, gpuApi: (scope.navigator as Navigator & { gpu?: GPU }).gpu });

scope.onmessage = (e: MessageEvent<Request>) => {
  handle(e.data).catch((err) => post(errorEvent('worker', err, e.data.rid)));
};
post({ type: 'ready', worker: 'train' });
