/**
 * The local EventBridge + SQS: routes events to functions by the routing table in src/routing.ts,
 * the same entries the CDK stack turns into rules and queues, so local and AWS cannot drift apart.
 *
 * A `via: 'sqs'` route behaves like the SQS event source mapping with ReportBatchItemFailures:
 * events arrive as SQS records (body = the EventBridge envelope JSON) in batches; items named in
 * `batchItemFailures` (or the whole batch when the handler throws or answers an unknown item id)
 * become visible again after the visibility timeout, and a message received `maxReceiveCount`
 * times without success moves to the dead-letter list. A `via: 'direct'` route invokes the
 * function asynchronously with the EventBridge event, retried the same number of times.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { routes as defaultRoutes, routesFor, type FunctionName, type Route } from '../src/routing.ts';

const REGION = 'ap-northeast-1';
const ACCOUNT = '000000000000';

/** An event as a client puts it (PutEvents entry in envelope form). */
export interface PutEnvelope {
  source: string;
  'detail-type': string;
  detail: unknown;
  id?: string;
  time?: string;
  resources?: string[];
}

/** The envelope EventBridge delivers: every field filled in. */
export interface DeliveredEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface PutResult {
  eventId: string;
  /** Names of the routes the event matched; empty: no rule matched, nothing happens (as in AWS). */
  routes: string[];
}

export interface DeadLetter {
  route: string;
  target: FunctionName;
  messageId: string;
  eventId: string;
  source: string;
  detailType: string;
  receiveCount: number;
  /** Why the last attempt failed (error message, or "reported in batchItemFailures"). */
  lastError: string;
  deadAt: string;
  /** The SQS body (EventBridge envelope JSON), as a DLQ keeps it. */
  body: string;
  /**
   * Message attributes, when a handler parked the message itself (SendMessage to the DLQ, as the
   * alert function does with an event that fails its schema): `reason` says why.
   */
  attributes?: Record<string, string>;
}

export interface QueueStats {
  route: string;
  target: FunctionName;
  via: Route['via'];
  /** Waiting or invisible (being retried), not yet delivered successfully. */
  pending: number;
  inFlight: number;
  succeeded: number;
  /** Receives that failed (each redelivery counts). */
  failedReceives: number;
  dead: number;
  /** False while the target function is not loaded: messages wait, as in an unconsumed queue. */
  consumer: boolean;
}

export interface EventBusOptions {
  invoke: (name: FunctionName, event: unknown) => Promise<unknown>;
  /** Whether a function is loaded; messages for a missing one wait in their queue. */
  available: (name: FunctionName) => boolean;
  routes?: readonly Route[];
  /** SQS event source batch size for every route (default: each route's own, as deployed; 10). */
  batchSize?: number;
  /** Visibility timeout before a failed message is received again. */
  visibilityTimeoutMs?: number;
  /** Batches in flight per queue (Lambda concurrency). */
  concurrency?: number;
  /** One-line notes (dead letters). Never given message bodies. */
  log?: (line: string) => void;
}

export interface LocalEventBus {
  /** Fills the envelope as EventBridge does and routes it. Returns per event its id and routes. */
  put(events: readonly PutEnvelope[]): PutResult[];
  deadLetters(): DeadLetter[];
  /**
   * A message a handler sent to a route's dead-letter queue itself (SQS SendMessage to the DLQ).
   * Throws for an unknown route (as SQS answers a queue that does not exist).
   */
  park(routeName: string, body: string, attributes: Record<string, string>): DeadLetter;
  /**
   * Moves a dead letter back to its queue (as an SQS DLQ redrive does): it is delivered again with
   * a fresh receive count. False when no dead letter has that message id.
   */
  redrive(messageId: string): boolean;
  /** The last events put on the bus, newest last. */
  recent(): { envelope: DeliveredEnvelope; routes: string[] }[];
  stats(): QueueStats[];
  /** Resolves true once nothing is pending or in flight, false at the timeout. */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Stops delivering; messages still queued are dropped (the queues are in memory). */
  stop(): Promise<void>;
}

interface Message {
  messageId: string;
  body: string;
  envelope: DeliveredEnvelope;
  receiveCount: number;
  sentAt: number;
  firstReceiveAt?: number;
  visibleAt: number;
  inFlight: boolean;
  lastError: string;
}

class Queue {
  messages: Message[] = [];
  inFlight = 0;
  succeeded = 0;
  failedReceives = 0;
  dead = 0;
  timer: NodeJS.Timeout | undefined;
  constructor(readonly route: Route) {}
}

const RECENT_LIMIT = 200;
const DEAD_LETTER_LIMIT = 1000;

export function completeEnvelope(e: PutEnvelope, now = new Date()): DeliveredEnvelope {
  return {
    version: '0',
    id: e.id ?? randomUUID(),
    'detail-type': e['detail-type'],
    source: e.source,
    account: ACCOUNT,
    // EventBridge stamps whole seconds.
    time: e.time ?? now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: REGION,
    resources: e.resources ?? [],
    detail: e.detail,
  };
}

function sqsRecord(queue: Queue, m: Message): SQSRecord {
  return {
    messageId: m.messageId,
    receiptHandle: randomUUID(),
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: 'AIDAEVENTBRIDGE',
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt ?? m.sentAt),
    },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(m.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:${REGION}:${ACCOUNT}:${queue.route.name}`,
    awsRegion: REGION,
  };
}

/**
 * The item ids a batch response reports as failed, following the event source mapping's rules:
 * no response or an empty list is success; an entry without a known itemIdentifier fails the
 * whole batch.
 */
export function failedItems(result: unknown, batchIds: readonly string[]): { failed: Set<string>; reason: string } {
  const all = { failed: new Set(batchIds), reason: '' };
  if (result === null || result === undefined || typeof result !== 'object') return { failed: new Set(), reason: '' };
  const list = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return { failed: new Set(), reason: '' };
  if (!Array.isArray(list)) return { ...all, reason: 'batchItemFailures is not a list: whole batch failed' };
  const failed = new Set<string>();
  for (const item of list as unknown[]) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !batchIds.includes(id)) {
      return { ...all, reason: `batchItemFailures names an unknown item (${String(id)}): whole batch failed` };
    }
    failed.add(id);
  }
  return { failed, reason: 'reported in batchItemFailures' };
}

export function createEventBus(opts: EventBusOptions): LocalEventBus {
  const routeTable = opts.routes ?? defaultRoutes;
  // The deployed table's own matcher, so local matching is EventBridge's as the stack defines it.
  const match = opts.routes
    ? (source: string, detailType: string) => routeTable.filter((r) => r.source === source && r.detailTypes.includes(detailType))
    : routesFor;
  const visibilityTimeoutMs = opts.visibilityTimeoutMs ?? 1000;
  const concurrency = opts.concurrency ?? 2;
  const log = opts.log ?? (() => {});
  const queues = new Map<string, Queue>(routeTable.map((r) => [r.name, new Queue(r)]));
  const dead: DeadLetter[] = [];
  const recent: { envelope: DeliveredEnvelope; routes: string[] }[] = [];
  const waiters = new Set<() => void>();
  const deliveries = new Set<Promise<void>>();
  let stopped = false;

  function idle(): boolean {
    for (const q of queues.values()) if (q.messages.length > 0 || q.inFlight > 0) return false;
    return true;
  }
  function notifyIfIdle(): void {
    if (!idle()) return;
    for (const w of waiters) w();
    waiters.clear();
  }

  function schedule(q: Queue, atMs: number): void {
    if (q.timer) clearTimeout(q.timer);
    q.timer = setTimeout(() => {
      q.timer = undefined;
      pump(q);
    }, Math.max(0, atMs - Date.now()));
  }

  function pump(q: Queue): void {
    if (stopped || !opts.available(q.route.target)) return;
    // The route's own batch size, as its event source mapping has it (a test may force one for all).
    const size = q.route.via === 'sqs' ? (opts.batchSize ?? q.route.batch?.size ?? 10) : 1;
    while (q.inFlight < concurrency) {
      const now = Date.now();
      const batch: Message[] = [];
      let nextVisible = Infinity;
      for (const m of q.messages) {
        if (m.inFlight) continue;
        if (m.visibleAt <= now) {
          if (batch.length < size) batch.push(m);
        } else nextVisible = Math.min(nextVisible, m.visibleAt);
      }
      if (batch.length === 0) {
        if (nextVisible < Infinity) schedule(q, nextVisible);
        return;
      }
      q.inFlight++;
      const d = deliver(q, batch).finally(() => {
        deliveries.delete(d);
        q.inFlight--;
        pump(q);
        notifyIfIdle();
      });
      deliveries.add(d);
    }
  }

  async function deliver(q: Queue, batch: Message[]): Promise<void> {
    const now = Date.now();
    for (const m of batch) {
      m.inFlight = true;
      m.receiveCount++;
      m.firstReceiveAt ??= now;
    }
    const ids = batch.map((m) => m.messageId);
    let failed: Set<string>;
    let reason: string;
    try {
      const event: unknown = q.route.via === 'sqs' ? ({ Records: batch.map((m) => sqsRecord(q, m)) } satisfies SQSEvent) : batch[0]!.envelope;
      const result = await opts.invoke(q.route.target, event);
      ({ failed, reason } = q.route.via === 'sqs' ? failedItems(result, ids) : { failed: new Set<string>(), reason: '' });
    } catch (e) {
      failed = new Set(ids);
      reason = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    const retryAt = Date.now() + visibilityTimeoutMs;
    for (const m of batch) {
      m.inFlight = false;
      if (!failed.has(m.messageId)) {
        q.succeeded++;
        remove(q, m);
        continue;
      }
      q.failedReceives++;
      m.lastError = reason;
      if (m.receiveCount >= q.route.maxReceiveCount) {
        remove(q, m);
        q.dead++;
        dead.push({
          route: q.route.name,
          target: q.route.target,
          messageId: m.messageId,
          eventId: m.envelope.id,
          source: m.envelope.source,
          detailType: m.envelope['detail-type'],
          receiveCount: m.receiveCount,
          lastError: reason,
          deadAt: new Date().toISOString(),
          body: m.body,
        });
        if (dead.length > DEAD_LETTER_LIMIT) dead.shift();
        log(`dead letter: ${m.envelope['detail-type']} ${m.envelope.id} (${q.route.name}) after ${m.receiveCount} receives: ${reason}`);
      } else {
        m.visibleAt = retryAt;
      }
    }
  }

  function remove(q: Queue, m: Message): void {
    const i = q.messages.indexOf(m);
    if (i >= 0) q.messages.splice(i, 1);
  }

  return {
    put(events) {
      const now = new Date();
      const touched = new Set<Queue>();
      const results = events.map((e) => {
        const envelope = completeEnvelope(e, now);
        const matched = match(envelope.source, envelope['detail-type']);
        recent.push({ envelope, routes: matched.map((r) => r.name) });
        if (recent.length > RECENT_LIMIT) recent.shift();
        if (!stopped) {
          for (const r of matched) {
            const q = queues.get(r.name)!;
            q.messages.push({
              messageId: randomUUID(),
              body: JSON.stringify(envelope),
              envelope,
              receiveCount: 0,
              sentAt: now.getTime(),
              visibleAt: now.getTime(),
              inFlight: false,
              lastError: '',
            });
            touched.add(q);
          }
        }
        return { eventId: envelope.id, routes: matched.map((r) => r.name) };
      });
      // Deliver after the caller's turn, so events put together are batched together.
      for (const q of touched) schedule(q, 0);
      return results;
    },
    deadLetters: () => dead.slice(),
    park(routeName, body, attributes) {
      const q = queues.get(routeName);
      if (!q) throw new Error(`no queue for route ${routeName}`);
      let envelope: Partial<DeliveredEnvelope> = {};
      try {
        envelope = JSON.parse(body) as Partial<DeliveredEnvelope>;
      } catch {
        // A body that is not an envelope is kept as it is; the page shows it by its message id.
      }
      const letter: DeadLetter = {
        route: routeName,
        target: q.route.target,
        messageId: attributes.sourceMessageId ?? randomUUID(),
        eventId: typeof envelope.id === 'string' ? envelope.id : '',
        source: typeof envelope.source === 'string' ? envelope.source : '',
        detailType: typeof envelope['detail-type'] === 'string' ? envelope['detail-type'] : attributes.detailType ?? '',
        receiveCount: 1,
        lastError: attributes.reason ?? 'parked by the handler',
        deadAt: new Date().toISOString(),
        body,
        attributes,
      };
      q.dead++;
      dead.push(letter);
      if (dead.length > DEAD_LETTER_LIMIT) dead.shift();
      log(`dead letter: ${letter.detailType} ${letter.eventId} (${routeName}) parked by ${q.route.target}: ${letter.lastError}`);
      return letter;
    },
    redrive(messageId) {
      const i = dead.findIndex((d) => d.messageId === messageId);
      if (i < 0 || stopped) return false;
      const letter = dead[i]!;
      let envelope: DeliveredEnvelope;
      try {
        envelope = JSON.parse(letter.body) as DeliveredEnvelope;
      } catch {
        return false; // not an event envelope: nothing this bus could deliver
      }
      dead.splice(i, 1);
      const q = queues.get(letter.route)!;
      q.dead = Math.max(0, q.dead - 1);
      const now = Date.now();
      q.messages.push({ messageId: randomUUID(), body: letter.body, envelope, receiveCount: 0, sentAt: now, visibleAt: now, inFlight: false, lastError: '' });
      schedule(q, 0);
      return true;
    },
    recent: () => recent.slice(),
    stats: () =>
      [...queues.values()].map((q) => ({
        route: q.route.name,
        target: q.route.target,
        via: q.route.via,
        pending: q.messages.length,
        inFlight: q.inFlight,
        succeeded: q.succeeded,
        failedReceives: q.failedReceives,
        dead: q.dead,
        consumer: opts.available(q.route.target),
      })),
    drain(timeoutMs = 30_000) {
      if (idle()) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          waiters.delete(done);
          resolve(false);
        }, timeoutMs);
        waiters.add(done);
      });
    },
    /** Stops delivering; waits (up to 5 s) for batches in flight, so handlers finish before their peers stop. */
    async stop() {
      stopped = true;
      for (const q of queues.values()) {
        if (q.timer) clearTimeout(q.timer);
        q.messages = [];
      }
      for (const w of waiters) w();
      waiters.clear();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...deliveries]), new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
    },
  };
}
