/**
 * Actions and authorisation through the local HTTP server (local/http-server.ts: the API Gateway
 * emulation invoking the real Lambda handlers) against DynamoDB Local, at 50 concurrent
 * connections, beside the floor of a bare strongly consistent GetItem at the same concurrency.
 *
 *   POST /a/{token}     a real freeze each time: a fresh account and token per request
 *                       (token lookup, account/customer reads, one 4-item transaction: account,
 *                       token use, audit, outbox; the AccountFrozen PutEvents to the local
 *                       EventBridge, then the outbox item's delete)
 *   POST /v1/authorize  an ALLOW on an active account (one consistent GetItem), and through a
 *                       link (two, in parallel)
 *
 * Run alone: npm run bench -- actions. BENCH_ACTIONS_SECONDS sets each measurement's length.
 */
import { request, Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { fmt, percentile, type BenchSection } from './section.ts';
import { startDynamoDbLocal, createTable, LOCAL_AWS_ENV } from '../local/dynamodb-local.ts';
import { startLocalEventBridge } from '../local/eventbridge-endpoint.ts';
import { startLocalHttpServer } from '../local/http-server.ts';
import { createInvoker, type LambdaHandler } from '../local/handlers.ts';
import { resetRuntimeConfig } from '../src/config.ts';
import { awsClients, setAwsClients } from '../src/adapters/clients.ts';
import { resetTokenPeppers } from '../src/adapters/pepper.ts';
import { key, TTL_ATTRIBUTE } from '../src/store/table.ts';
import { generateToken, hashToken } from '../src/domain/tokens.ts';
import { formCheck } from '../src/domain/action-page/flow.ts';
import type { FunctionName } from '../src/routing.ts';

const CONCURRENCY = 50;
const SECONDS = Number(process.env.BENCH_ACTIONS_SECONDS ?? 12);
const WARMUP_SECONDS = 2;
const PEPPER = 'bench-pepper-0123456789abcdef0123456789abcdef';
const API_KEY = 'bench-api-key-0123456789';
const TABLE = `bench-actions-${Date.now()}`;

/** The first few failures, for the notes (status codes only). */
const errorSamples: string[] = [];
const sampleError = (what: string) => {
  if (errorSamples.length < 5) errorSamples.push(what);
};

interface Measurement {
  requests: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/**
 * `workers` loops, each issuing the next operation as soon as its previous one answered, for
 * `seconds` (or until `next` runs out). Latency per operation; throughput over the wall time.
 */
async function measure(seconds: number, op: (i: number) => Promise<boolean> | undefined): Promise<Measurement> {
  const latencies: number[] = [];
  let errors = 0;
  let i = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const p = op(i++);
        if (!p) return;
        const ok = await p.catch((e: unknown) => {
          sampleError(e instanceof Error ? e.name : 'error');
          return false;
        });
        latencies.push(performance.now() - t0);
        if (!ok) errors++;
      }
    }),
  );
  const wall = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length, errors, seconds: wall, latencies };
}

function post(agent: Agent, url: URL, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function batchPut(items: Record<string, unknown>[]): Promise<void> {
  const chunks: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < chunks.length) {
        let pending: Record<string, unknown>[] = chunks[next++]!;
        while (pending.length > 0) {
          const out = await awsClients().doc.send(new BatchWriteCommand({ RequestItems: { [TABLE]: pending.map((Item) => ({ PutRequest: { Item } })) } }));
          pending = (out.UnprocessedItems?.[TABLE] ?? []).map((r) => r.PutRequest!.Item as Record<string, unknown>);
        }
      }
    }),
  );
}

function accountItems(accountId: string, customerId: string, now: string) {
  return [
    { ...key.customer(customerId), customerId, locale: 'ja', accountIds: [accountId], profileOccurredAt: now, updatedAt: now },
    { ...key.account(accountId), accountId, customerId, last4: '1234', state: 'ACTIVE', version: 0, updatedAt: now },
  ];
}

/** Fresh accounts with a freeze token each: a freeze can only happen once per account. */
async function seedFreezePool(n: number, prefix = 'fz'): Promise<{ token: string; check: string; tokenHash: string }[]> {
  const now = new Date();
  const iso = now.toISOString();
  const expiresAt = new Date(now.getTime() + 7 * 86_400_000).toISOString();
  const items: Record<string, unknown>[] = [];
  const pool: { token: string; check: string; tokenHash: string }[] = [];
  for (let i = 0; i < n; i++) {
    const accountId = `bench-${prefix}-${i}`;
    const customerId = `bench-${prefix}c-${i}`;
    items.push(...accountItems(accountId, customerId, iso));
    const token = generateToken();
    const tokenHash = hashToken(token, PEPPER);
    items.push({
      ...key.token(tokenHash),
      tokenHash,
      accountId,
      customerId,
      alertId: `bench-al-${i}`,
      actions: [{ kind: 'FREEZE_ACCOUNT' }],
      issuedAt: iso,
      expiresAt,
      used: {},
      [TTL_ATTRIBUTE]: Math.floor(Date.parse(expiresAt) / 1000),
    });
    pool.push({ token, tokenHash, check: formCheck(tokenHash, 'FREEZE_ACCOUNT', PEPPER) });
  }
  await batchPut(items);
  return pool;
}

async function seedAuthorizeAccounts(n: number): Promise<void> {
  const iso = new Date().toISOString();
  const holdUntil = new Date(Date.now() + 86_400_000).toISOString();
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const accountId = `bench-az-${i}`;
    items.push(...accountItems(accountId, `bench-azc-${i}`, iso));
    items.push({
      ...key.link(accountId, 'lnk-1'),
      accountId,
      linkId: 'lnk-1',
      customerId: `bench-azc-${i}`,
      providerId: 'dwallet',
      providerName: 'D-Wallet',
      linkType: 'EPAY',
      state: 'PENDING',
      createdAt: iso,
      holdUntil,
      version: 0,
      updatedAt: iso,
    });
  }
  await batchPut(items);
}

function row(name: string, m: Measurement, floor: Measurement | undefined): (string | number)[] {
  const rps = m.requests / m.seconds;
  const p50 = percentile(m.latencies, 50);
  const p99 = percentile(m.latencies, 99);
  const floorRps = floor ? floor.requests / floor.seconds : NaN;
  const floorP50 = floor ? percentile(floor.latencies, 50) : NaN;
  return [
    name,
    m.requests,
    m.errors,
    fmt(rps, 0),
    fmt(p50, 1),
    fmt(p99, 1),
    floor ? `${fmt(floorRps / rps, 1)}×` : '1.0× (floor)',
    floor ? `${fmt(p50 / floorP50, 1)}×` : '1.0× (floor)',
  ];
}

export async function run(): Promise<BenchSection[]> {
  const dynamo = await startDynamoDbLocal();
  const bridge = await startLocalEventBridge();
  let server: Awaited<ReturnType<typeof startLocalHttpServer>> | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  try {
    await createTable(dynamo.endpoint, TABLE);
    Object.assign(process.env, {
      ...LOCAL_AWS_ENV,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: bridge.endpoint,
      TABLE_NAME: TABLE,
      EVENT_BUS_NAME: 'default',
      TOKEN_PEPPER: PEPPER,
      LOCAL_API_KEY: API_KEY,
      POWERTOOLS_SERVICE_NAME: 'alerting-bench',
      POWERTOOLS_METRICS_NAMESPACE: 'BankAlerting',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    resetRuntimeConfig();
    setAwsClients(undefined);
    resetTokenPeppers();
    // Handlers read their settings at import, as at a Lambda cold start: import after the env is set.
    const handlers = new Map<FunctionName, LambdaHandler>();
    for (const name of ['action', 'authorize'] as const) {
      handlers.set(name, ((await import(`../functions/${name}/handler.ts`)) as { handler: LambdaHandler }).handler);
    }
    server = await startLocalHttpServer({ invoke: createInvoker(handlers), apiKey: API_KEY, sessionSecret: 'bench-session-secret-0123456789abcdef' });
    const base = server.url.replace('localhost', '127.0.0.1');

    const AUTH_ACCOUNTS = 1000;
    await seedAuthorizeAccounts(AUTH_ACCOUNTS);
    // Enough fresh accounts for the freeze measurement at well above the rate this machine reaches.
    const pool = await seedFreezePool(Math.max(2000, Math.round(SECONDS * 400)));

    const doc = awsClients().doc;
    const getItem = (i: number) =>
      doc.send(new GetCommand({ TableName: TABLE, Key: key.account(`bench-az-${i % AUTH_ACCOUNTS}`), ConsistentRead: true })).then((o) => Boolean(o.Item));
    const authUrl = new URL('/v1/authorize', base);
    const authHeaders = { 'content-type': 'application/json', 'x-api-key': API_KEY };
    const authorize = (i: number, viaLink: boolean) =>
      post(
        agent,
        authUrl,
        JSON.stringify({
          accountId: `bench-az-${i % AUTH_ACCOUNTS}`,
          channel: viaLink ? 'EPAY_CHARGE' : 'ATM_CARD',
          amount: 5_000,
          currency: 'JPY',
          ...(viaLink ? { linkId: 'lnk-1' } : {}),
          requestId: `r-${i}`,
        }),
        authHeaders,
      ).then((r) => {
        const ok = r.status === 200 && r.text.includes('"ALLOW"');
        if (!ok) sampleError(`authorize ${r.status} ${r.text.slice(0, 80)}`);
        return ok;
      });
    let used = 0;
    const freeze = () => {
      const t = pool[used++];
      if (!t) return undefined;
      return post(agent, new URL(`/a/${t.token}`, base), new URLSearchParams({ action: 'FREEZE_ACCOUNT', check: t.check }).toString(), {
        'content-type': 'application/x-www-form-urlencoded',
      }).then((r) => {
        if (r.status !== 200) sampleError(`freeze ${r.status}`);
        return r.status === 200;
      });
    };
    // Second floor, for the freeze: the bare transaction it commits (account update conditioned on
    // state and version, token use, audit put, outbox put) on accounts of the same pool shape, no HTTP.
    const txPool = await seedFreezePool(Math.max(2000, Math.round(SECONDS * 400)), 'tx');
    let txUsed = 0;
    const bareFreezeTx = () => {
      const n = txUsed++;
      if (n >= txPool.length) return undefined;
      const at = new Date().toISOString();
      return doc
        .send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: TABLE,
                  Key: key.account(`bench-tx-${n}`),
                  UpdateExpression: 'SET #s = :f, version = :one, updatedAt = :at',
                  ConditionExpression: '#s = :a AND version = :zero',
                  ExpressionAttributeNames: { '#s': 'state' },
                  ExpressionAttributeValues: { ':f': 'FROZEN', ':a': 'ACTIVE', ':one': 1, ':zero': 0, ':at': at },
                },
              },
              {
                Update: {
                  TableName: TABLE,
                  Key: key.token(txPool[n]!.tokenHash),
                  UpdateExpression: 'SET used.#k = :at',
                  ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(used.#k)',
                  ExpressionAttributeNames: { '#k': 'FREEZE_ACCOUNT' },
                  ExpressionAttributeValues: { ':at': at },
                },
              },
              { Put: { TableName: TABLE, Item: { ...key.audit(`bench-tx-${n}`, at, `e-${n}`), action: 'freezeAccount' }, ConditionExpression: 'attribute_not_exists(pk)' } },
              { Put: { TableName: TABLE, Item: { pk: `BENCHOUTBOX#${n % 4}`, sk: `${at}#${n}`, detailType: 'AccountFrozen' }, ConditionExpression: 'attribute_not_exists(pk)' } },
            ],
          }),
        )
        .then(() => true);
    };

    // Warm up connections, the JIT and DynamoDB Local on every path.
    await measure(WARMUP_SECONDS, getItem);
    await measure(WARMUP_SECONDS, (i) => authorize(i, false));
    await measure(1, () => freeze());

    const floor = await measure(SECONDS, getItem);
    const authPlain = await measure(SECONDS, (i) => authorize(i, false));
    const authLink = await measure(SECONDS, (i) => authorize(i, true));
    const txFloor = await measure(SECONDS, () => bareFreezeTx());
    const freezes = await measure(SECONDS, () => freeze());
    const poolRanOut = used > pool.length || txUsed > txPool.length;

    return [
      {
        title: 'Actions and debit authorisation (HTTP, 50 concurrent connections)',
        method:
          `Through the local API Gateway emulation (local/http-server.ts) into the real action and authorize handlers, against DynamoDB Local (in memory), ` +
          `${CONCURRENCY} concurrent keep-alive connections for ${SECONDS} s each after a warm-up; the load generator, server, handlers and SDK share one Node process. ` +
          `Floor: a bare strongly consistent GetItem of an account item through the same SDK client at the same concurrency. ` +
          `Ratios: floor throughput / throughput, and p50 / floor p50.`,
        columns: ['operation', 'requests', 'errors', 'req/s', 'p50 ms', 'p99 ms', 'floor req/s ÷ req/s', 'p50 ÷ floor p50'],
        rows: [
          row('floor: consistent GetItem (SDK, no HTTP)', floor, undefined),
          row('POST /v1/authorize (ALLOW, no link: 1 consistent read)', authPlain, floor),
          row('POST /v1/authorize (ALLOW via a PENDING link: 2 consistent reads)', authLink, floor),
          row('POST /a/{token} freeze (token + 3 gets, 4-item transaction, PutEvents + overview counter, outbox delete)', freezes, floor),
        ],
        notes: [
          'Each freeze is a real state change on a fresh account with its own token (seeded beforehand), so every request commits a transaction and publishes AccountFrozen to the local EventBridge.',
          'The authorise requests are authenticated by the local x-api-key check (IAM/SigV4 in AWS) and answered ALLOW; errors count non-200 or unexpected answers.',
          `Freeze against its own floor, the bare 4-item TransactWriteItems it commits (SDK, no HTTP): ${fmt(txFloor.requests / txFloor.seconds, 0)} tx/s, p50 ${fmt(percentile(txFloor.latencies, 50), 1)} ms, p99 ${fmt(percentile(txFloor.latencies, 99), 1)} ms; ` +
            `freeze throughput is ${fmt(txFloor.requests / txFloor.seconds / (freezes.requests / freezes.seconds), 1)}× below it and its p50 ${fmt(percentile(freezes.latencies, 50) / percentile(txFloor.latencies, 50), 1)}× above it.`,
          ...(poolRanOut ? ['A freeze pool ran out before the time was up: that row covers fewer seconds.'] : []),
          ...(errorSamples.length ? [`First errors: ${errorSamples.join('; ')}.`] : []),
          `${bridge.publishedEvents().length} AccountFrozen events published during the run (warm-up included).`,
        ],
      },
    ];
  } finally {
    agent.destroy();
    await server?.close();
    await bridge.stop();
    await dynamo.stop();
    setAwsClients(undefined);
  }
}
