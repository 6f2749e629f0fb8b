// Web Worker entry for the data side: downloads, storage, JSONL import, inspection, tokenization.
// All logic is in data_handler.ts; this file wires it to the worker's message port.
/// <reference lib="webworker" />
import { createDataHandler } from './data_handler.ts';
import { errorEvent, transferablesOf, type Request, type WorkerEvent } from './protocol.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: WorkerEvent) => scope.postMessage(ev, transferablesOf(ev));
const { handle } = createDataHandler({ post });

scope.onmessage = (e: MessageEvent<Request>) => {
  handle(e.data).catch((err) => post(errorEvent('worker', err, e.data.rid)));
};
post({ type: 'ready', worker: 'data' });
