/**
 * The local runtime, composed: DynamoDB Local with the table, the AWS peers (SES v2, SMS outbox,
 * EventBridge), the handlers with the same environment the CDK stack gives them, the event bus
 * (routes from src/routing.ts) and the HTTP server (httpRoutes). `npm start` runs it; tests and
 * benchmarks call `startLocalRuntime()` (free ports by default) and `stop()` it.
 *
 * Handlers run in this process, so the runtime sets process.env (restored by stop()): one
 * runtime per process at a time.
 *
 * Pages: besides `opts.pages`, every module in local/pages/*.ts that exports
 * `localPages(rt: LocalRuntimeContext): LocalPage[]` is loaded, so features add their local pages
 * (reply forms, consoles) without editing this file.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startDynamoDbLocal, createTable, LOCAL_AWS_ENV } from './dynamodb-local.ts';
import { startLocalPeers, type LocalPeers } from './peers.ts';
import { createEventBus, type EventBusOptions, type LocalEventBus, type PutEnvelope, type PutResult } from './event-bus.ts';
import { deadLetterPages, startLocalDeadLetterQueues } from './dead-letter-queue.ts';
import { startLocalHttpServer, htmlPage, jsonResponse, escapeHtml, sessionCookie, type LocalPage, type Operator } from './http-server.ts';
import { createInvoker, loadHandlers, REPO_ROOT, type LambdaHandler, type LoadedHandlers } from './handlers.ts';
import { demoCustomerEvents } from './demo-data.ts';
import { reservePort } from './free-port.ts';
import { schedules as defaultSchedules, type FunctionName, type Schedule } from '../src/routing.ts';
import { resetRuntimeConfig } from '../src/config.ts';
import { setAwsClients } from '../src/adapters/clients.ts';
import { setSmsClient } from '../src/adapters/sms.ts';
import { resetTokenPeppers } from '../src/adapters/pepper.ts';
import { routeSmsStatusEvents, snsEvent, TOPICS } from './reply-simulator.ts';

export interface LocalRuntimeOptions {
  /** 0 or absent: a free port. `npm start` passes fixed defaults (see local/start.ts). */
  apiPort?: number;
  dynamoPort?: number;
  sesPort?: number;
  smsPort?: number;
  eventsPort?: number;
  tableName?: string;
  /** Token pepper (>= 32 chars); generated per run when absent. */
  tokenPepper?: string;
  /** x-api-key for `auth: 'iam'` routes; generated per run when absent. */
  apiKey?: string;
  /** Load the demo customers through the bus (default true). */
  demoData?: boolean;
  /** Replace or add handlers (tests, benchmarks); the others load from functions/<name>/handler.ts. */
  handlers?: Partial<Record<FunctionName, LambdaHandler>>;
  /** Extra variables for the handlers (e.g. HOLD_WINDOW_HOURS). */
  env?: Record<string, string>;
  pages?: readonly LocalPage[];
  /** Load local/pages/*.ts (default true). */
  discoverPages?: boolean;
  bus?: Pick<EventBusOptions, 'batchSize' | 'visibilityTimeoutMs' | 'concurrency'>;
  /** Run the schedules of src/routing.ts (default true); tests that want quiet turn them off. */
  schedules?: boolean | readonly Schedule[];
  /** Lambda timeout for every function (default 30 s). */
  functionTimeoutMs?: number;
  /** One-line notes: dead letters, handler failures, broken pages. Never message bodies. */
  log?: (line: string) => void;
}

export interface LocalRuntimeUrls {
  api: string;
  home: string;
  events: string;
  actionBase: string;
  mailbox: string;
  smsOutbox: string;
  deadLetters: string;
  publishedEvents: string;
  devLogin: string;
  dynamodb: string;
  eventBridge: string;
}

/** What local pages get to work with. */
export interface LocalRuntimeContext {
  urls: LocalRuntimeUrls;
  peers: LocalPeers;
  bus: LocalEventBus;
  dynamo: { endpoint: string; tableName: string };
  invoke: (name: FunctionName, event: unknown) => Promise<unknown>;
  /** The environment the handlers run with. */
  env: Readonly<Record<string, string>>;
}

export interface LocalRuntime extends LocalRuntimeContext {
  apiKey: string;
  functions: { loaded: FunctionName[]; missing: FunctionName[]; failed: LoadedHandlers['failed'] };
  /** Puts core events on the bus as POST /events does (no validation). */
  publish(events: readonly PutEnvelope[]): PutResult[];
  /** A Cookie header value logging in as this operator (for HTTP clients in tests). */
  operatorCookie(operator: Operator): string;
  /** Whether the demo customers were processed (false when the alert function is not loaded). */
  demoDataLoaded: boolean;
  startedInMs: number;
  stop(): Promise<void>;
}

const REGION = LOCAL_AWS_ENV.AWS_REGION;
/** The SMS configuration set the local handlers send with (its events reach the delivery function). */
export const LOCAL_SMS_CONFIGURATION_SET = 'alerting-local-sms';

/** `npm start`'s ports; each overridable by the environment variable of that name. */
export const DEFAULT_PORTS = {
  LOCAL_API_PORT: 3000,
  LOCAL_DYNAMODB_PORT: 8000,
  LOCAL_SES_PORT: 8005,
  LOCAL_SMS_PORT: 8006,
  LOCAL_EVENTS_PORT: 8007,
} as const;

/** Where `npm start` writes its URLs and API key for scripts (`npm run demo`); LOCAL_RUNTIME_FILE overrides. */
export function runtimeFilePath(): string {
  return process.env.LOCAL_RUNTIME_FILE ?? join(REPO_ROOT, '.local', 'runtime.json');
}

function secret(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

async function discoverPages(ctx: LocalRuntimeContext, log: (line: string) => void): Promise<LocalPage[]> {
  const dir = join(REPO_ROOT, 'local', 'pages');
  if (!existsSync(dir)) return [];
  const out: LocalPage[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    try {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as { localPages?: (rt: LocalRuntimeContext) => LocalPage[] };
      if (typeof mod.localPages === 'function') out.push(...mod.localPages(ctx));
    } catch (e) {
      log(`local/pages/${file} not loaded: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return out;
}

export async function startLocalRuntime(opts: LocalRuntimeOptions = {}): Promise<LocalRuntime> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const cleanup: (() => Promise<void>)[] = [];
  const savedEnv = new Map<string, string | undefined>();
  const restoreEnv = () => {
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetRuntimeConfig();
    setAwsClients(undefined);
    setSmsClient(undefined);
    resetTokenPeppers();
  };
  const stopAll = async () => {
    const errors: unknown[] = [];
    for (const fn of cleanup.reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    }
    cleanup.length = 0;
    restoreEnv();
    if (errors.length > 0) throw new AggregateError(errors, 'local runtime: some parts did not stop cleanly');
  };

  try {
    // The API's port goes into the functions' configuration (ACTION_BASE_URL) before its server can
    // start, so it is held open until then (local/free-port.ts).
    const reserved = opts.apiPort ? undefined : await reservePort();
    let reservedTaken = false;
    if (reserved) cleanup.push(async () => (reservedTaken ? undefined : reserved.release()));
    const apiPort = opts.apiPort || reserved!.port;
    const tableName = opts.tableName ?? 'alerting-local';
    const apiKey = opts.apiKey ?? `local-${secret(18)}`;
    const tokenPepper = opts.tokenPepper ?? secret(32);
    if (tokenPepper.length < 32) throw new Error('token pepper must be at least 32 characters');

    // Started together; whichever starts is registered for cleanup even if the other fails.
    const started = await Promise.allSettled([
      startDynamoDbLocal(opts.dynamoPort ? { port: opts.dynamoPort } : {}).then((d) => (cleanup.push(() => d.stop()), d)),
      startLocalPeers({
        ...(opts.sesPort ? { sesPort: opts.sesPort } : {}),
        ...(opts.smsPort ? { smsPort: opts.smsPort } : {}),
        ...(opts.eventsPort ? { eventsPort: opts.eventsPort } : {}),
      }).then((p) => (cleanup.push(() => p.stop()), p)),
    ] as const);
    if (started[0].status === 'rejected') throw started[0].reason;
    if (started[1].status === 'rejected') throw started[1].reason;
    const db = started[0].value;
    const peers = started[1].value;
    await createTable(db.endpoint, tableName);
    // The queues' dead-letter queues (SQS protocol), so a handler parks a message as in AWS.
    let busRef: LocalEventBus | undefined;
    const dlqs = await startLocalDeadLetterQueues(() => {
      if (!busRef) throw new Error('the event bus is not running yet');
      return busRef;
    });
    cleanup.push(() => dlqs.stop());

    const api = `http://localhost:${apiPort}`;
    // What the CDK stack sets on the functions, pointed at the local peers; dummy credentials.
    const env: Record<string, string> = {
      ...LOCAL_AWS_ENV,
      AWS_DEFAULT_REGION: REGION,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      ...peers.env,
      AWS_ENDPOINT_URL_SQS: dlqs.endpoint,
      // As the stack wires it: the alert queue's DLQ, where events that fail their schema are parked.
      ALERT_DLQ_URL: dlqs.queueUrl('CoreEventsToAlert'),
      TABLE_NAME: tableName,
      TOKEN_PEPPER: tokenPepper,
      ACTION_BASE_URL: `${api}/a/`,
      LOCAL_API_KEY: apiKey,
      POWERTOOLS_SERVICE_NAME: 'alerting-local',
      POWERTOOLS_METRICS_NAMESPACE: 'BankAlerting',
      // Quiet by default: handler logs at WARN, no EMF metric lines. Override from the shell.
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
      // SMS go through a configuration set, so the outbox reports their status like AWS does.
      SMS_CONFIGURATION_SET: LOCAL_SMS_CONFIGURATION_SET,
      // Campaign emails name a configuration set, so the local SES publishes their Send events
      // (routed to the delivery function below) as AWS does: in-doubt sends resolve from them.
      CAMPAIGN_SES_CONFIGURATION_SET: 'local-campaigns',
      ...opts.env,
    };
    for (const [k, v] of Object.entries(env)) {
      if (!savedEnv.has(k)) savedEnv.set(k, process.env[k]);
      process.env[k] = v;
    }
    // A developer's profile or session token must not leak into local calls.
    for (const k of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'TOKEN_PEPPER_SECRET_ARN']) {
      if (!savedEnv.has(k)) savedEnv.set(k, process.env[k]);
      delete process.env[k];
    }
    resetRuntimeConfig();
    setAwsClients(undefined);
    setSmsClient(undefined);
    resetTokenPeppers();

    const loaded = await loadHandlers({ ...(opts.handlers ? { overrides: opts.handlers } : {}) });
    for (const f of loaded.failed) log(`functions/${f.name}/handler.ts not loaded: ${f.error}`);
    const invoke = createInvoker(loaded.handlers, opts.functionTimeoutMs ? { timeoutMs: opts.functionTimeoutMs } : {});
    const bus = createEventBus({ invoke, available: (n) => loaded.handlers.has(n), log, ...opts.bus });
    busRef = bus;
    cleanup.push(() => bus.stop());
    // Events the handlers publish (bank.alerting) are routed like any other, when a rule matches.
    peers.onEvents((events) => {
      bus.put(events.map((e) => ({ source: e.source, 'detail-type': e.detailType, detail: e.detail })));
    });
    // SMS status events: configuration set -> SNS delivery topic -> the delivery function.
    if (loaded.handlers.has('delivery')) routeSmsStatusEvents(peers, (name, event) => invoke(name, event), { log });
    // SES configuration-set events: in AWS an SNS event destination subscribed by the delivery function.
    peers.onSesSendEvents(async (records) => {
      if (!loaded.handlers.has('delivery')) return;
      for (const r of records) {
        await invoke('delivery', snsEvent(r, TOPICS.sesEvents)).catch((e: unknown) => log(`SES Send event -> delivery failed: ${e instanceof Error ? e.name : 'error'}`));
      }
    });

    const urls: LocalRuntimeUrls = {
      api,
      home: `${api}/`,
      events: `${api}/events`,
      actionBase: `${api}/a/`,
      mailbox: peers.mailboxUrl,
      smsOutbox: peers.smsOutboxUrl,
      deadLetters: `${api}/dead-letters`,
      publishedEvents: `${api}/published-events`,
      devLogin: `${api}/dev-login`,
      dynamodb: db.endpoint,
      eventBridge: peers.env.AWS_ENDPOINT_URL_EVENTBRIDGE ?? '',
    };
    const ctx: LocalRuntimeContext = { urls, peers, bus, dynamo: { endpoint: db.endpoint, tableName }, invoke, env };
    const functions = { loaded: [...loaded.handlers.keys()], missing: loaded.missing, failed: loaded.failed };
    const pages = [
      ...runtimePages(ctx, functions),
      ...(opts.pages ?? []),
      ...(opts.discoverPages === false ? [] : await discoverPages(ctx, log)),
    ];
    const sessionSecret = secret(32);
    const http = await startLocalHttpServer({
      invoke,
      apiKey,
      sessionSecret,
      putEvents: (events) => bus.put(events),
      pages,
      links: [
        { title: 'Mailbox (local SES v2)', href: peers.mailboxUrl },
        { title: 'SMS outbox', href: peers.smsOutboxUrl },
      ],
      ...(reserved ? { handle: reserved.handle } : { port: apiPort }),
      log,
    });
    reservedTaken = true;
    cleanup.push(() => http.close());

    const scheduleList = opts.schedules === false ? [] : opts.schedules === true || opts.schedules === undefined ? defaultSchedules : opts.schedules;
    const stopSchedules = runSchedules(scheduleList, invoke, (n) => loaded.handlers.has(n), log);
    cleanup.push(async () => stopSchedules());

    let demoDataLoaded = false;
    if (opts.demoData !== false) {
      bus.put(demoCustomerEvents());
      if (loaded.handlers.has('alert')) demoDataLoaded = await bus.drain(20_000);
    }

    return {
      ...ctx,
      apiKey,
      functions,
      publish: (events) => bus.put(events),
      operatorCookie: (op) => sessionCookie(sessionSecret, op).split(';')[0]!,
      demoDataLoaded,
      startedInMs: Date.now() - t0,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll().catch(() => {});
    throw e;
  }
}

/**
 * EventBridge schedule rules: a "Scheduled Event" to the target every N minutes, not retried
 * (the next run covers it), never overlapping a run still in progress.
 */
function runSchedules(
  list: readonly Schedule[],
  invoke: (name: FunctionName, event: unknown) => Promise<unknown>,
  available: (name: FunctionName) => boolean,
  log: (line: string) => void,
): () => void {
  const timers = list.map((s) => {
    let running = false;
    const timer = setInterval(() => {
      if (running || !available(s.target)) return;
      running = true;
      const event = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: '000000000000',
        time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: REGION,
        resources: [`arn:aws:events:${REGION}:000000000000:rule/${s.name}`],
        detail: {},
      };
      invoke(s.target, event)
        .catch((e: unknown) => log(`schedule ${s.name} -> ${s.target} failed: ${e instanceof Error ? e.name : 'error'}`))
        .finally(() => (running = false));
    }, s.everyMinutes * 60_000);
    timer.unref();
    return timer;
  });
  return () => timers.forEach((t) => clearInterval(t));
}

function runtimePages(ctx: LocalRuntimeContext, functions: LocalRuntime['functions']): LocalPage[] {
  const { bus, peers } = ctx;
  return [
    ...deadLetterPages(bus),
    {
      path: '/events',
      title: 'Events on the local bus',
      handle: () => {
        const rows = bus
          .recent()
          .reverse()
          .map((r) => `<tr><td>${escapeHtml(r.envelope.time)}</td><td>${escapeHtml(r.envelope.source)}</td><td>${escapeHtml(r.envelope['detail-type'])}</td><td><code>${escapeHtml(r.envelope.id)}</code></td><td>${escapeHtml(r.routes.join(', ') || '(no rule matched)')}</td></tr>`)
          .join('');
        const queues = bus
          .stats()
          .map((q) => `<tr><td>${escapeHtml(q.route)}</td><td>${q.target}${q.consumer ? '' : ' (not loaded: messages wait)'}</td><td>${q.pending}</td><td>${q.succeeded}</td><td>${q.failedReceives}</td><td>${q.dead}</td></tr>`)
          .join('');
        return htmlPage(
          'Events on the local bus',
          `<h2>Queues</h2><table><tr><th>Route</th><th>Function</th><th>Pending</th><th>Succeeded</th><th>Failed receives</th><th>Dead</th></tr>${queues}</table>
<h2>Recent events</h2><table><tr><th>Time</th><th>Source</th><th>Detail type</th><th>Id</th><th>Routed to</th></tr>${rows || '<tr><td colspan="5">None yet.</td></tr>'}</table>`,
        );
      },
    },
    {
      path: '/published-events',
      title: 'Published events (bank.alerting)',
      handle: () => {
        const rows = peers
          .publishedEvents()
          .reverse()
          .map((e) => `<tr><td>${escapeHtml(e.at)}</td><td>${escapeHtml(e.source)}</td><td>${escapeHtml(e.detailType)}</td><td><pre>${escapeHtml(JSON.stringify(e.detail, null, 1))}</pre></td></tr>`)
          .join('');
        return htmlPage(
          'Published events',
          `<p>What the handlers put on EventBridge (for partners and operations), newest first. JSON: <a href="/published-events.json">/published-events.json</a>.</p><table><tr><th>When</th><th>Source</th><th>Detail type</th><th>Detail</th></tr>${rows || '<tr><td colspan="4">None yet.</td></tr>'}</table>`,
        );
      },
    },
    { path: '/published-events.json', handle: () => jsonResponse(peers.publishedEvents()) },
    // Uniform JSON feeds, so scripts (npm run demo) need only the API's address.
    { path: '/local/emails.json', handle: async () => jsonResponse(await peers.emails()) },
    { path: '/local/sms.json', handle: () => jsonResponse(peers.smsMessages()) },
    {
      path: '/local/status.json',
      handle: () => jsonResponse({ urls: ctx.urls, functions, queues: bus.stats(), deadLetters: bus.deadLetters().length }),
    },
  ];
}
