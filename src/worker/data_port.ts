// The train worker's side of the port to the data worker: request/reply by id, token ids arrive as transferred
// Int32Arrays. A reply of type 'port-error' rejects with an error carrying the data worker's fix.
import type { DistributiveOmitId, PortReply, PortRequest } from './protocol.ts';

export class DataPortError extends Error {
  override name = 'DataPortError';
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
  }
}

export interface DataPort {
  request<T extends PortReply['type']>(req: DistributiveOmitId<PortRequest>, expect: T): Promise<Extract<PortReply, { type: T }>>;
}

export function createDataPort(port: MessagePort): DataPort {
  let next = 1;
  const waiting = new Map<number, { resolve: (r: PortReply) => void }>();
  port.onmessage = (e: MessageEvent<PortReply>) => {
    const w = waiting.get(e.data.id);
    if (!w) return;
    waiting.delete(e.data.id);
    w.resolve(e.data);
  };
  return {
    async request(req, expect) {
      const id = next++;
      const reply = await new Promise<PortReply>((resolve) => {
        waiting.set(id, { resolve });
        port.postMessage({ ...req, id } as PortRequest);
      });
      if (reply.type === 'port-error') throw new DataPortError(reply.message, reply.fix);
      if (reply.type !== expect) throw new Error(`data port: expected a "${expect}" reply, got "${reply.type}"`);
      return reply as Extract<PortReply, { type: typeof expect }>;
    },
  };
}
