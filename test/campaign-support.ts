/**
 * Campaign tests' wiring of the providers' events, as AWS wires them: the local SES publishes the
 * configuration set's `Send` events and the SMS outbox its status events; each goes, wrapped in
 * the SNS notification Lambda receives, to the real delivery function (functions/delivery), which
 * records campaign sends in the ledger. `mode` lets a test deliver them, hold them back until
 * `release()` (events that arrive late, after a restarted worker looked for them), or drop them.
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
  /** Events held back so far and not released yet. */
  held(): number;
  /** Delivers the events held back so far. */
  release(): void;
  /** Resolves when every event handed over so far has been handled. */
  settled(): Promise<void>;
}

export type EventMode = 'deliver' | 'hold' | 'drop';

export function routeProviderEvents(peers: LocalPeers, mode: () => EventMode): EventRoute {
  const invoke = createInvoker(new Map([['delivery', deliveryHandler as unknown as LambdaHandler]]));
  const inflight = new Set<Promise<unknown>>();
  let delivered = 0;
  let dropped = 0;
  let held: { payload: unknown; topic: string }[] = [];
  const deliver = (payload: unknown, topic: string) => {
    const p = invoke('delivery', snsEvent(payload, topic)).then(() => void delivered++);
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
  };
  const route = (payload: unknown, topic: string) => {
    const m = mode();
    if (m === 'drop') dropped++;
    else if (m === 'hold') held.push({ payload, topic });
    else deliver(payload, topic);
  };
  peers.onSesSendEvents((records) => records.forEach((r) => route(r, TOPICS.sesEvents)));
  peers.onSmsStatusEvent((e) => route(e, TOPICS.smsEvents));
  return {
    delivered: () => delivered,
    dropped: () => dropped,
    held: () => held.length,
    release() {
      const now = held;
      held = [];
      for (const h of now) deliver(h.payload, h.topic);
    },
    async settled() {
      while (inflight.size > 0) await Promise.all([...inflight]);
    },
  };
}
