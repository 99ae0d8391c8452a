/**
 * The local runtime: the API Gateway emulation (event mapping, result mapping, authorisers,
 * POST /events), the SQS-like event bus (batching, partial batch failures, redelivery, DLQ), and
 * `npm start` end to end as a child process (ready, alert delivered, Ctrl-C leaves nothing behind).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, SQSEvent } from 'aws-lambda';
import { startLocalHttpServer, sessionCookie, SESSION_COOKIE, type LocalHttpServer } from '../local/http-server.ts';
import { createEventBus, type PutEnvelope } from '../local/event-bus.ts';
import { REPO_ROOT } from '../local/handlers.ts';
import { freePort } from '../local/free-port.ts';
import type { FunctionName, Route } from '../src/routing.ts';
import { impostorLinksWallet, demoCustomers } from '../local/demo-data.ts';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { publishEvents } from '../src/adapters/publisher.ts';
import type { LambdaHandler } from '../local/handlers.ts';

type ApiEvent = APIGatewayProxyEventV2 & { requestContext: { authorizer?: Record<string, unknown> } };

describe('local HTTP server: API Gateway HTTP API (payload 2.0) emulation', () => {
  const API_KEY = 'local-test-key-0123456789';
  const SECRET = 'session-secret-for-tests-0123456789';
  const calls: { name: FunctionName; event: ApiEvent }[] = [];
  const put: PutEnvelope[][] = [];
  let reply: unknown = { statusCode: 200, body: 'ok' };
  let server: LocalHttpServer;
  const last = () => calls.at(-1)!.event;

  beforeAll(async () => {
    server = await startLocalHttpServer({
      apiKey: API_KEY,
      sessionSecret: SECRET,
      invoke: async (name, event) => {
        calls.push({ name, event: event as ApiEvent });
        if (reply instanceof Error) throw reply;
        return reply;
      },
      putEvents: (events) => {
        put.push(events);
        return events.map((e, i) => ({ eventId: `id-${i}`, routes: e['detail-type'] === 'LinkCreated' ? ['CoreEventsToAlert'] : [] }));
      },
      pages: [{ path: '/extra', title: 'An extra page', handle: () => ({ status: 200, body: 'extra' }) }],
    });
  });
  afterAll(() => server.close());

  it('maps path parameters, query, headers and cookies as API Gateway does', async () => {
    reply = { statusCode: 200, body: 'page' };
    const r = await fetch(`${server.url}/a/tok%2Dab_12?lang=en&x=1&x=2`, {
      headers: { 'X-Custom': 'Yes', cookie: 'a=1; b=2', 'user-agent': 'test-agent' },
    });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('page');
    expect(r.headers.get('apigw-requestid')).toBeTruthy();
    const e = last();
    expect(calls.at(-1)!.name).toBe('action');
    expect(e.version).toBe('2.0');
    expect(e.routeKey).toBe('GET /a/{token}');
    expect(e.rawPath).toBe('/a/tok%2Dab_12');
    expect(e.pathParameters).toEqual({ token: 'tok-ab_12' });
    expect(e.rawQueryString).toBe('lang=en&x=1&x=2');
    expect(e.queryStringParameters).toEqual({ lang: 'en', x: '1,2' });
    expect(e.headers['x-custom']).toBe('Yes');
    expect(e.headers.cookie).toBeUndefined();
    expect(e.cookies).toEqual(['a=1', 'b=2']);
    expect(e.requestContext.http).toMatchObject({ method: 'GET', path: '/a/tok-ab_12', sourceIp: '127.0.0.1', userAgent: 'test-agent' });
    expect(e.requestContext.requestId).toBe(r.headers.get('apigw-requestid'));
    expect(e.requestContext.stage).toBe('$default');
    expect(e.body).toBeUndefined();
    expect(e.isBase64Encoded).toBe(false);
    expect(e.requestContext.authorizer).toBeUndefined();
  });

  it('passes JSON bodies as text and form or binary bodies base64-encoded', async () => {
    await fetch(`${server.url}/a/t1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"x":"é"}' });
    expect(last()).toMatchObject({ body: '{"x":"é"}', isBase64Encoded: false, routeKey: 'POST /a/{token}' });

    await fetch(`${server.url}/a/t1`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=freeze' });
    expect(last().isBase64Encoded).toBe(true);
    expect(Buffer.from(last().body!, 'base64').toString()).toBe('action=freeze');

    const bytes = Buffer.from([0, 255, 1, 254]);
    await fetch(`${server.url}/a/t1`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(Buffer.from(last().body!, 'base64').equals(bytes)).toBe(true);
  });

  it('matches {proxy+} greedily', async () => {
    const r = await fetch(`${server.url}/ops/accounts/acct-1/audit`, { headers: { cookie: sessionCookie(SECRET, { id: 'op-1', groups: ['operators'] }).split(';')[0]! } });
    expect(r.status).toBe(200);
    expect(last().pathParameters).toEqual({ proxy: 'accounts/acct-1/audit' });
    expect(last().routeKey).toBe('GET /ops/{proxy+}');
  });

  it('maps the result back: status, headers, cookies, base64 bodies; plain objects as JSON; errors as 500', async () => {
    reply = { statusCode: 201, headers: { 'X-A': 'b', 'content-type': 'text/plain' }, cookies: ['c1=1; Path=/', 'c2=2'], body: 'made' };
    let r = await fetch(`${server.url}/a/x`);
    expect(r.status).toBe(201);
    expect(r.headers.get('x-a')).toBe('b');
    expect(r.headers.getSetCookie()).toEqual(['c1=1; Path=/', 'c2=2']);
    expect(await r.text()).toBe('made');

    reply = { statusCode: 200, isBase64Encoded: true, headers: { 'content-type': 'image/png' }, body: Buffer.from([1, 2, 3]).toString('base64') };
    r = await fetch(`${server.url}/a/x`);
    expect(Buffer.from(await r.arrayBuffer())).toEqual(Buffer.from([1, 2, 3]));

    reply = { hello: 'world' };
    r = await fetch(`${server.url}/a/x`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json');
    expect(await r.json()).toEqual({ hello: 'world' });

    reply = new Error('boom with customer data that must not leak');
    r = await fetch(`${server.url}/a/x`);
    expect(r.status).toBe(500);
    expect(await r.text()).not.toContain('boom');
    reply = { statusCode: 200, body: 'ok' };
  });

  it('iam routes need the local API key (the IAM authoriser), which the handler does not see', async () => {
    const before = calls.length;
    let r = await fetch(`${server.url}/v1/authorize`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(401);
    r = await fetch(`${server.url}/v1/authorize`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'x-api-key': 'wrong' } });
    expect(r.status).toBe(401);
    expect(calls.length).toBe(before);

    r = await fetch(`${server.url}/v1/authorize`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'x-api-key': API_KEY } });
    expect(r.status).toBe(200);
    expect(calls.at(-1)!.name).toBe('authorize');
    expect(last().headers['x-api-key']).toBeUndefined();
    expect(last().requestContext.authorizer).toMatchObject({ iam: { accountId: '000000000000' } });
  });

  it('operator routes need a dev-login session; the operator id reaches the handler as a Cognito JWT claim', async () => {
    const before = calls.length;
    expect((await fetch(`${server.url}/ops/overview`)).status).toBe(401);
    const forged = `${SESSION_COOKIE}=${Buffer.from(JSON.stringify({ sub: 'op-x', groups: [], iat: 0, exp: 9e9 })).toString('base64url')}.AAAA`;
    expect((await fetch(`${server.url}/ops/overview`, { headers: { cookie: forged } })).status).toBe(401);
    expect(calls.length).toBe(before);

    const login = await fetch(`${server.url}/dev-login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'operator=op-alice&groups=operators+approvers&next=/ops/overview',
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/ops/overview');
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    // Tampering with the signed payload is refused.
    const [name, value] = [cookie.slice(0, cookie.indexOf('=')), cookie.slice(cookie.indexOf('=') + 1)];
    const tampered = `${name}=${Buffer.from(JSON.stringify({ sub: 'op-mallory', groups: ['operators'], iat: 0, exp: 9e9 })).toString('base64url')}.${value.split('.')[1]}`;
    expect((await fetch(`${server.url}/ops/overview`, { headers: { cookie: tampered } })).status).toBe(401);

    const r = await fetch(`${server.url}/ops/overview`, { headers: { cookie } });
    expect(r.status).toBe(200);
    const claims = (last().requestContext.authorizer as { jwt: { claims: Record<string, string> } }).jwt.claims;
    expect(claims.sub).toBe('op-alice');
    expect(claims['cognito:groups']).toBe('[operators approvers]');

    const bad = await fetch(`${server.url}/dev-login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'operator=<script>' });
    expect(bad.status).toBe(400);
    const offsite = await fetch(`${server.url}/dev-login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'operator=op-a&next=//evil.example' });
    expect(offsite.headers.get('location')).toBe('/');
  });

  it('POST /events validates the EventBridge envelope and puts valid events on the bus', async () => {
    const post = (body: string, type = 'application/json') => fetch(`${server.url}/events`, { method: 'POST', headers: { 'content-type': type }, body });
    const example = readFileSync(join(REPO_ROOT, 'events/examples/LinkCreated.json'), 'utf8');
    const before = put.length;

    let r = await post('{not json');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toMatch(/not JSON/);
    r = await post(JSON.stringify({ source: 'bank.core', detail: {} }));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toMatch(/detail-type/);
    r = await post(JSON.stringify({ source: 'evil.partner', 'detail-type': 'LinkCreated', detail: {} }));
    expect(((await r.json()) as { message: string }).message).toMatch(/source must be "bank.core"/);
    r = await post(JSON.stringify({ source: 'bank.core', 'detail-type': 'LinkCreated', detail: [1] }));
    expect(r.status).toBe(400);
    r = await post(JSON.stringify([JSON.parse(example), { source: 'bank.core' }]));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { message: string }).message).toMatch(/^event 1: /);
    r = await post(example, 'text/plain');
    expect(r.status).toBe(415);
    expect(put.length).toBe(before);

    r = await post(example);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ FailedEntryCount: 0, Entries: [{ EventId: 'id-0', routes: ['CoreEventsToAlert'] }] });
    expect(put.at(-1)![0]).toMatchObject({ source: 'bank.core', 'detail-type': 'LinkCreated', detail: { eventId: 'evt-link-20201001-0001' } });
    r = await post(JSON.stringify([JSON.parse(example), JSON.parse(example)]));
    expect(put.at(-1)!.length).toBe(2);
  });

  it('serves local pages and the home page links them; unknown paths are 404', async () => {
    expect(await (await fetch(`${server.url}/extra`)).text()).toBe('extra');
    const home = await (await fetch(`${server.url}/`)).text();
    expect(home).toContain('href="/extra"');
    expect(home).toContain('/v1/authorize');
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    // A path that exists with another method is 404 too, as in API Gateway.
    expect((await fetch(`${server.url}/v1/authorize`, { headers: { 'x-api-key': API_KEY } })).status).toBe(404);
  });
});

describe('local event bus: SQS event source semantics', () => {
  const route: Route = { name: 'TestQueue', source: 'bank.core', detailTypes: ['LinkCreated', 'Other'], target: 'alert', via: 'sqs', maxReceiveCount: 3 };
  const event = (n: number): PutEnvelope => ({ source: 'bank.core', 'detail-type': 'LinkCreated', detail: { n } });
  const nOf = (body: string) => (JSON.parse(body) as { detail: { n: number } }).detail.n;

  function harness(handler: (e: SQSEvent) => Promise<unknown>) {
    const batches: SQSEvent[] = [];
    const bus = createEventBus({
      routes: [route],
      available: () => true,
      visibilityTimeoutMs: 20,
      invoke: async (_name, e) => {
        const copy = JSON.parse(JSON.stringify(e)) as SQSEvent;
        batches.push(copy);
        return handler(copy);
      },
    });
    return { bus, batches };
  }

  it('delivers events as SQS records in batches of at most 10, with the EventBridge envelope as body', async () => {
    const { bus, batches } = harness(async () => ({ batchItemFailures: [] }));
    const results = bus.put(Array.from({ length: 25 }, (_, i) => event(i)));
    expect(results.every((r) => r.routes.join() === 'TestQueue')).toBe(true);
    expect(await bus.drain(5000)).toBe(true);
    expect(batches.map((b) => b.Records.length).sort((a, b) => b - a)).toEqual([10, 10, 5]);
    const rec = batches[0]!.Records[0]!;
    expect(rec).toMatchObject({ eventSource: 'aws:sqs', eventSourceARN: 'arn:aws:sqs:ap-northeast-1:000000000000:TestQueue', attributes: { ApproximateReceiveCount: '1' } });
    expect(rec.receiptHandle).toBeTruthy();
    const envelope = JSON.parse(rec.body) as Record<string, unknown>;
    expect(envelope).toMatchObject({ version: '0', source: 'bank.core', 'detail-type': 'LinkCreated', account: '000000000000', region: 'ap-northeast-1' });
    expect(envelope.id).toBe(results[nOf(rec.body)]!.eventId);
    expect(envelope.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(batches.flatMap((b) => b.Records.map((r) => nOf(r.body))).sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(bus.stats()[0]).toMatchObject({ succeeded: 25, pending: 0, dead: 0 });
    await bus.stop();
  });

  it('redelivers only the items reported in batchItemFailures, with a growing receive count', async () => {
    let failsLeft = 2;
    const { bus, batches } = harness(async (e) => {
      const bad = e.Records.find((r) => nOf(r.body) === 1);
      if (bad && failsLeft-- > 0) return { batchItemFailures: [{ itemIdentifier: bad.messageId }] };
      return {};
    });
    bus.put([event(0), event(1), event(2)]);
    expect(await bus.drain(5000)).toBe(true);
    const deliveries = batches.flatMap((b) => b.Records.map((r) => [nOf(r.body), Number(r.attributes.ApproximateReceiveCount)]));
    expect(deliveries.filter(([n]) => n === 0)).toEqual([[0, 1]]);
    expect(deliveries.filter(([n]) => n === 2)).toEqual([[2, 1]]);
    expect(deliveries.filter(([n]) => n === 1)).toEqual([[1, 1], [1, 2], [1, 3]]);
    expect(bus.deadLetters()).toEqual([]);
    await bus.stop();
  });

  it('a thrown error or an unknown item id fails the whole batch', async () => {
    let calls = 0;
    const { bus, batches } = harness(async () => {
      calls++;
      if (calls === 1) throw new Error('crash');
      if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
      return { batchItemFailures: [] };
    });
    bus.put([event(0), event(1)]);
    expect(await bus.drain(5000)).toBe(true);
    expect(batches.map((b) => b.Records.map((r) => r.attributes.ApproximateReceiveCount).join())).toEqual(['1,1', '2,2', '3,3']);
    expect(bus.stats()[0]).toMatchObject({ succeeded: 2, failedReceives: 4 });
    await bus.stop();
  });

  it('moves a message to the dead letters after maxReceiveCount receives, and stops delivering it', async () => {
    const { bus, batches } = harness(async (e) => ({
      batchItemFailures: e.Records.filter((r) => nOf(r.body) === 7).map((r) => ({ itemIdentifier: r.messageId })),
    }));
    const [poison] = bus.put([event(7), event(8)]);
    expect(await bus.drain(5000)).toBe(true);
    const receives = batches.flatMap((b) => b.Records).filter((r) => nOf(r.body) === 7).length;
    expect(receives).toBe(3);
    const dead = bus.deadLetters();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ route: 'TestQueue', target: 'alert', eventId: poison!.eventId, receiveCount: 3, detailType: 'LinkCreated' });
    expect(dead[0]!.lastError).toMatch(/batchItemFailures/);
    await new Promise((r) => setTimeout(r, 100));
    expect(batches.flatMap((b) => b.Records).filter((r) => nOf(r.body) === 7).length).toBe(3);
    await bus.stop();
  });

  it('a direct route invokes with the EventBridge event itself, retried on error, then dead-lettered', async () => {
    const direct: Route = { name: 'Direct', source: 'bank.alerting', detailTypes: ['AccountFrozen'], target: 'delivery', via: 'direct', maxReceiveCount: 2 };
    const seen: { name: FunctionName; event: Record<string, unknown> }[] = [];
    const bus = createEventBus({
      routes: [direct],
      available: () => true,
      visibilityTimeoutMs: 20,
      invoke: async (name, e) => {
        seen.push({ name, event: e as Record<string, unknown> });
        if ((e as { detail: { fail?: boolean } }).detail.fail) throw new Error('down');
        return null;
      },
    });
    bus.put([{ source: 'bank.alerting', 'detail-type': 'AccountFrozen', detail: { ok: 1 } }, { source: 'bank.alerting', 'detail-type': 'AccountFrozen', detail: { fail: true } }]);
    expect(await bus.drain(5000)).toBe(true);
    expect(seen.every((s) => s.name === 'delivery' && s.event.source === 'bank.alerting' && !('Records' in s.event))).toBe(true);
    expect(seen.filter((s) => (s.event.detail as { fail?: boolean }).fail)).toHaveLength(2);
    expect(bus.deadLetters()).toEqual([expect.objectContaining({ route: 'Direct', receiveCount: 2, lastError: 'Error: down' })]);
    await bus.stop();
  });

  it('routes by the table: unmatched events go nowhere; a missing function leaves messages waiting', async () => {
    let available = false;
    const seen: unknown[] = [];
    const bus = createEventBus({ routes: [route], available: () => available, visibilityTimeoutMs: 20, invoke: async (_n, e) => void seen.push(e) });
    expect(bus.put([{ source: 'bank.alerting', 'detail-type': 'LinkCreated', detail: {} }])[0]!.routes).toEqual([]);
    bus.put([event(1)]);
    expect(await bus.drain(200)).toBe(false);
    expect(seen).toHaveLength(0);
    expect(bus.stats()[0]).toMatchObject({ pending: 1, consumer: false });
    available = true;
    bus.put([event(2)]);
    expect(await bus.drain(5000)).toBe(true);
    expect(seen).toHaveLength(1);
    expect((seen[0] as SQSEvent).Records).toHaveLength(2);
    await bus.stop();
  });
});

describe('startLocalRuntime: composition (fake handlers, real DynamoDB Local and peers)', () => {
  let rt: LocalRuntime;
  const seenEnv: Record<string, string | undefined>[] = [];
  const alertBodies: { detailType: string; eventId: string; receive: string }[] = [];
  const deliveryBodies: unknown[] = [];
  const tableBefore = process.env.TABLE_NAME;

  beforeAll(async () => {
    const alert: LambdaHandler = async (event: SQSEvent) => {
      seenEnv.push({ TABLE_NAME: process.env.TABLE_NAME, ACTION_BASE_URL: process.env.ACTION_BASE_URL, SES: process.env.AWS_ENDPOINT_URL_SESV2 });
      const failures: { itemIdentifier: string }[] = [];
      for (const r of event.Records) {
        const env = JSON.parse(r.body) as { 'detail-type': string; detail: { eventId: string; customerId?: string } };
        alertBodies.push({ detailType: env['detail-type'], eventId: env.detail.eventId, receive: r.attributes.ApproximateReceiveCount });
        if (env.detail.eventId === 'poison') failures.push({ itemIdentifier: r.messageId });
        if (env['detail-type'] === 'LinkCreated' && env.detail.eventId !== 'poison') {
          // Published through the real SDK client to the local EventBridge, then routed by the table.
          await publishEvents([
            {
              detailType: 'AlertSent',
              detail: { alertId: `al-${env.detail.eventId}`, sourceEventId: env.detail.eventId, sourceEventType: 'LinkCreated', customerId: 'cust-0001', channel: 'EMAIL', messageId: 'm-1', sentAt: new Date().toISOString() },
            },
          ]);
        }
      }
      return { batchItemFailures: failures };
    };
    const delivery: LambdaHandler = async (event: SQSEvent) => {
      for (const r of event.Records) deliveryBodies.push(JSON.parse(r.body));
      return { batchItemFailures: [] };
    };
    rt = await startLocalRuntime({ handlers: { alert, delivery }, bus: { visibilityTimeoutMs: 20 }, schedules: false, discoverPages: false });
  });
  afterAll(async () => {
    await rt?.stop();
  });

  it('loads the demo customers through the bus before it returns, with the handler environment set', () => {
    expect(rt.demoDataLoaded).toBe(true);
    expect(alertBodies.filter((b) => b.detailType === 'CustomerProfileUpserted').map((b) => b.eventId).sort()).toEqual(['evt-profile-0001', 'evt-profile-0002']);
    expect(seenEnv[0]).toEqual({ TABLE_NAME: 'alerting-local', ACTION_BASE_URL: `${rt.urls.api}/a/`, SES: rt.peers.env.AWS_ENDPOINT_URL_SESV2 });
    expect(rt.env.TOKEN_PEPPER!.length).toBeGreaterThanOrEqual(32);
    expect(rt.functions.loaded).toEqual(expect.arrayContaining(['alert', 'delivery']));
  });

  it('routes events the handlers publish by the same table (AlertSent -> delivery)', async () => {
    const r = await fetch(rt.urls.events, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(impostorLinksWallet(demoCustomers[0]!, 'pub')) });
    expect(r.status).toBe(200);
    expect(await rt.bus.drain(10_000)).toBe(true);
    expect(deliveryBodies).toEqual([expect.objectContaining({ source: 'bank.alerting', 'detail-type': 'AlertSent', detail: expect.objectContaining({ sourceEventId: 'evt-link-20201001-0001-pub' }) })]);
    const published = (await (await fetch(`${rt.urls.api}/published-events.json`)).json()) as { detailType: string }[];
    expect(published.map((p) => p.detailType)).toEqual(['AlertSent']);
  });

  it('shows a poison message on the dead-letter page after maxReceiveCount receives', async () => {
    rt.publish([{ source: 'bank.core', 'detail-type': 'LinkCreated', detail: { eventId: 'poison' } }]);
    expect(await rt.bus.drain(10_000)).toBe(true);
    expect(alertBodies.filter((b) => b.eventId === 'poison').map((b) => b.receive)).toEqual(['1', '2', '3', '4', '5']);
    const dead = (await (await fetch(`${rt.urls.api}/dead-letters.json`)).json()) as { eventId: string; receiveCount: number; body: string }[];
    expect(dead).toEqual([expect.objectContaining({ receiveCount: 5, route: 'CoreEventsToAlert' })]);
    // Kept whole, as a DLQ keeps it for a redrive.
    expect(JSON.parse(dead[0]!.body)).toMatchObject({ detail: { eventId: 'poison' } });
    const page = await (await fetch(rt.urls.deadLetters)).text();
    expect(page).toContain(dead[0]!.eventId);
    expect(page).toContain('reported in batchItemFailures');
  });

  it('stop() restores the environment it changed', async () => {
    await rt.stop();
    expect(process.env.TABLE_NAME).toBe(tableBefore);
    expect(process.env.ACTION_BASE_URL).toBeUndefined();
  });
});

/** Pids of every descendant of `root`, from /proc. */
function descendants(root: number): { pid: number; cmd: string }[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: { pid: number; cmd: string }[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) {
      if (pp !== p) continue;
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        // exited meanwhile
      }
      out.push({ pid: child, cmd });
      walk(child);
    }
  };
  walk(root);
  return out;
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('npm start, end to end', () => {
  let child: ChildProcess | undefined;
  let output = '';
  afterAll(() => {
    // Only if the test failed midway: never leave a runtime behind.
    if (child && child.exitCode === null) {
      for (const d of descendants(child.pid!)) process.kill(d.pid, 'SIGKILL');
      child.kill('SIGKILL');
    }
  });

  // Time bounds here only catch a hang (generous for a loaded 2-core machine); start-up speed is
  // not asserted (the README's figure is measured, not tested).
  it('gets ready, delivers the alert for a posted LinkCreated, and Ctrl-C stops every child', async () => {
    // The ports are given, as a user would set them; they come from freePort, so on a busy
    // machine one can be taken before npm start binds it ("port … is in use"): then start again
    // on fresh ones. Anything else fails the test.
    let ports: Record<string, number> = {};
    let runtimeFile = '';
    let exited: Promise<number | null> = Promise.resolve(null);
    for (let attempt = 1; ; attempt++) {
      ports = { LOCAL_API_PORT: await freePort(), LOCAL_DYNAMODB_PORT: await freePort(), LOCAL_SES_PORT: await freePort(), LOCAL_SMS_PORT: await freePort(), LOCAL_EVENTS_PORT: await freePort() };
      runtimeFile = join(mkdtempSync(join(tmpdir(), 'local-runtime-')), 'runtime.json');
      const env: Record<string, string> = { ...(process.env as Record<string, string>), LOCAL_RUNTIME_FILE: runtimeFile };
      for (const [k, v] of Object.entries(ports)) env[k] = String(v);
      for (const k of ['TABLE_NAME', 'TOKEN_PEPPER', 'LOCAL_API_KEY', 'AWS_ENDPOINT_URL_DYNAMODB']) delete env[k];

      const t0 = Date.now();
      output = '';
      const c = spawn('npm', ['start'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      c.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      c.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      exited = new Promise<number | null>((resolve) => c.once('exit', (code) => resolve(code)));
      const ready = await new Promise<boolean>((resolve, reject) => {
        const timer = setInterval(() => {
          if (output.includes('Local runtime ready')) {
            clearInterval(timer);
            resolve(true);
          } else if (c.exitCode !== null && attempt < 3 && /is in use|BindException|EADDRINUSE|did not start on port|exited \(/.test(output)) {
            clearInterval(timer);
            resolve(false);
          } else if (c.exitCode !== null || Date.now() - t0 > 180_000) {
            clearInterval(timer);
            reject(new Error(`npm start not ready:\n${output}`));
          }
        }, 100);
      });
      if (ready) break;
    }
    const api = `http://localhost:${ports.LOCAL_API_PORT}`;
    expect(output).toContain(`${api}/`);
    expect(output).toMatch(/x-api-key: local-/);
    expect(existsSync(runtimeFile)).toBe(true);
    expect(output).toContain('Functions       alert');

    const children = descendants(child.pid!);
    expect(children.some((c) => /DynamoDBLocal\.jar/.test(c.cmd))).toBe(true);
    expect(children.some((c) => /aws-ses-v2-local/.test(c.cmd))).toBe(true);

    const customer = demoCustomers[0]!;
    const since = Date.now() - 1000;
    const r = await fetch(`${api}/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(impostorLinksWallet(customer)) });
    expect(r.status).toBe(200);
    const link = new RegExp(`${api}/a/[A-Za-z0-9_-]+`);
    const deadline = Date.now() + 90_000;
    let email: { to: string[]; text?: string; html?: string } | undefined;
    let sms: { phoneNumber: string; message: string } | undefined;
    while ((!email || !sms) && Date.now() < deadline) {
      const emails = (await (await fetch(`${api}/local/emails.json`)).json()) as { to: string[]; text?: string; html?: string; at: string }[];
      const texts = (await (await fetch(`${api}/local/sms.json`)).json()) as { phoneNumber: string; message: string; at: string }[];
      email = emails.find((m) => Date.parse(m.at) >= since && m.to.includes(customer.email) && link.test(`${m.text ?? ''}${m.html ?? ''}`));
      sms = texts.find((m) => Date.parse(m.at) >= since && m.phoneNumber === customer.phone && link.test(m.message));
      if (!email || !sms) await new Promise((res) => setTimeout(res, 250));
    }
    expect(email, `no alert email arrived:\n${output}`).toBeDefined();
    expect(sms, `no alert SMS arrived:\n${output}`).toBeDefined();

    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'hung'>((res) => setTimeout(() => res('hung'), 60_000))]);
    expect(code).toBe(0);
    // The children exit on their own after the parent; give a loaded machine time to reap them.
    const reapBy = Date.now() + 30_000;
    while (children.some((c) => running(c.pid)) && Date.now() < reapBy) await new Promise((res) => setTimeout(res, 200));
    expect(children.filter((c) => running(c.pid))).toEqual([]);
    expect(existsSync(runtimeFile)).toBe(false);
  }, 420_000);
});
