/**
 * Campaign tests' wiring of the providers' events, as AWS wires them: the local SES publishes the
 * configuration set's `Send` events and the SMS outbox its status events; each goes, wrapped in
 * the SNS notification Lambda receives, to the real delivery function (functions/delivery), which
 * records campaign sends in the ledger. `mode` lets a test deliver them late or not at all.
 */
import { handler as deliveryHandler } from '../functions/delivery/handler.ts';
import { createInvoker, type LambdaHandler } from '../local/handlers.ts';
import type { LocalPeers } from '../local/peers.ts';
import { snsEvent, TOPICS } from '../local/reply-simulator.ts';

export interface EventRoute {
  /** Events handed to the delivery function so far. */
  delivered(): number;
  /** Events not delivered (mode said so). */
  dropped(): number;
  /** Resolves when every event handed over so far has been handled. */
  settled(): Promise<void>;
}

export function routeProviderEvents(peers: LocalPeers, mode: () => { deliver: boolean; delayMs: number }): EventRoute {
  const invoke = createInvoker(new Map([['delivery', deliveryHandler as unknown as LambdaHandler]]));
  const inflight = new Set<Promise<unknown>>();
  let delivered = 0;
  let dropped = 0;
  const route = (payload: unknown, topic: string) => {
    const m = mode();
    if (!m.deliver) {
      dropped++;
      return;
    }
    const p = new Promise((r) => setTimeout(r, m.delayMs)).then(() => invoke('delivery', snsEvent(payload, topic))).then(() => void delivered++);
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
  };
  peers.onSesSendEvents((records) => records.forEach((r) => route(r, TOPICS.sesEvents)));
  peers.onSmsStatusEvent((e) => route(e, TOPICS.smsEvents));
  return {
    delivered: () => delivered,
    dropped: () => dropped,
    async settled() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}
