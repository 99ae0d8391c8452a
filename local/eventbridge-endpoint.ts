/**
 * Local EventBridge: PutEvents over awsJson1_1 (what @aws-sdk/client-eventbridge speaks:
 * POST /, X-Amz-Target: AWSEvents.PutEvents). It records every accepted entry and hands each
 * accepted batch to the listeners (the local event bus routes them to handlers). The answer is
 * sent after the listeners settle, so a caller that got its PutEvents answer knows the routing
 * has run; a listener's failure is logged and does not fail the PutEvents (EventBridge accepted
 * the event; delivery to a target is a separate concern).
 */
import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import { listenLocal } from './free-port.ts';
import { FaultQueue, readBody, send, type Fault } from './faults.ts';

export interface PublishedEvent {
  source: string;
  detailType: string;
  detail: unknown;
  eventBusName: string;
  at: string;
}

export type EventsListener = (events: PublishedEvent[]) => Promise<void> | void;

export interface LocalEventBridge {
  endpoint: string;
  publishedEvents(): PublishedEvent[];
  onEvents(listener: EventsListener): void;
  injectFaults(faults: readonly Fault[]): void;
  clear(): void;
  stop(): Promise<void>;
}

interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Time?: string | number;
}

const MAX_ENTRIES = 10;
const MAX_ENTRY_BYTES = 256 * 1024;

export async function startLocalEventBridge(opts: { port?: number } = {}): Promise<LocalEventBridge> {
  const events: PublishedEvent[] = [];
  const listeners: EventsListener[] = [];
  const faults = new FaultQueue();
  const json = { 'content-type': 'application/x-amz-json-1.1' };
  const error = (status: number, type: string, message: string) => [status, JSON.stringify({ __type: type, message }), json] as const;

  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method === 'GET' && (req.url === '/' || req.url === '/events')) {
        send(res, 200, JSON.stringify([...events].reverse()), { 'content-type': 'application/json' });
        return;
      }
      const body = await readBody(req);
      const fault = faults.next();
      if (fault === 'throttle') return send(res, ...error(400, 'ThrottlingException', 'Rate exceeded'));
      if (fault === '5xx') return send(res, ...error(500, 'InternalException', 'Internal service error'));
      if (fault === 'reject') return send(res, ...error(400, 'ValidationException', 'request rejected'));
      const target = req.headers['x-amz-target'];
      if (target !== 'AWSEvents.PutEvents') {
        return send(res, ...error(400, 'UnknownOperationException', `the local event bus supports PutEvents only, not ${String(target)}`));
      }
      let input: { Entries?: PutEventsEntry[] };
      try {
        input = JSON.parse(body.toString('utf8')) as { Entries?: PutEventsEntry[] };
      } catch {
        return send(res, ...error(400, 'SerializationException', 'request body is not JSON'));
      }
      const entries = input.Entries ?? [];
      if (entries.length < 1 || entries.length > MAX_ENTRIES) {
        return send(res, ...error(400, 'ValidationException', `Entries must hold 1 to ${MAX_ENTRIES} items`));
      }
      const accepted: PublishedEvent[] = [];
      const results = entries.map((e) => {
        if (!e.Source || !e.DetailType || e.Detail === undefined) {
          return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source, DetailType and Detail are required' };
        }
        if (Buffer.byteLength(JSON.stringify(e)) > MAX_ENTRY_BYTES) {
          return { ErrorCode: 'InvalidArgument', ErrorMessage: 'entry larger than 256 KB' };
        }
        let detail: unknown;
        try {
          detail = JSON.parse(e.Detail);
        } catch {
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
        }
        if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail must be a JSON object.' };
        }
        accepted.push({ source: e.Source, detailType: e.DetailType, detail, eventBusName: e.EventBusName ?? 'default', at: new Date().toISOString() });
        return { EventId: randomUUID() };
      });
      events.push(...accepted);
      if (accepted.length > 0) {
        for (const l of listeners) {
          try {
            await l(accepted);
          } catch (e) {
            console.error(`local event bus: a listener failed: ${(e as Error).message}`);
          }
        }
      }
      const failed = results.filter((r) => 'ErrorCode' in r).length;
      send(res, 200, JSON.stringify({ FailedEntryCount: failed, Entries: results }), json);
    })().catch((e: unknown) => {
      if (!res.headersSent) send(res, ...error(500, 'InternalException', String(e)));
    });
  });

  const endpoint = await listenLocal(server, opts.port);
  return {
    endpoint,
    publishedEvents: () => [...events],
    onEvents: (l) => void listeners.push(l),
    injectFaults: (f) => faults.push(f),
    clear() {
      events.length = 0;
      faults.clear();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
