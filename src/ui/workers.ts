// Starts the two workers and wires them to the store: requests are routed by REQUEST_WORKER, events go to
// handleEvent. A worker that fails to load or crashes becomes an error in the 'worker' area with what to do.
import { REQUEST_WORKER, type FaultControl, type PortControl, type WorkerEvent } from '../worker/protocol.ts';
import type { Studio } from './store/store.ts';

export function connectWorkers(studio: Studio): { train: Worker; data: Worker } {
  const train = new Worker(new URL('../worker/train.worker.ts', import.meta.url), { type: 'module', name: 'train' });
  const data = new Worker(new URL('../worker/data.worker.ts', import.meta.url), { type: 'module', name: 'data' });
  const { handleEvent, showError } = studio.store.getState();
  for (const [name, w] of [['train', train], ['data', data]] as const) {
    w.onmessage = (e: MessageEvent<WorkerEvent>) => handleEvent(e.data);
    w.onerror = (e) => {
      e.preventDefault();
      showError('worker', `The ${name} worker failed: ${e.message || 'it could not be loaded'}.`, 'Reload the page. If it happens again, open the browser console and report the first error shown there.');
    };
    w.onmessageerror = () => showError('worker', `A message from the ${name} worker could not be read.`, 'Reload the page.');
  }
  // dev server only: `?faults=device-lost@step:3` arms src/gpu/flags.ts's fault injection in the train worker (the
  // e2e tests lose the device inside the real worker this way); a production build drops this branch
  if (import.meta.env.DEV) {
    const spec = new URLSearchParams(location.search).get('faults');
    if (spec) train.postMessage({ type: 'set-faults', spec } satisfies FaultControl);
  }
  // the train worker asks the data worker for token ids over its own channel (no bulk data through the page)
  const channel = new MessageChannel();
  train.postMessage({ type: 'connect-port', port: channel.port1 } satisfies PortControl, [channel.port1]);
  data.postMessage({ type: 'connect-port', port: channel.port2 } satisfies PortControl, [channel.port2]);
  studio.connect({ post: (req) => (REQUEST_WORKER[req.type] === 'train' ? train : data).postMessage(req) });
  return { train, data };
}
