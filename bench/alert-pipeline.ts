/**
 * The alert pipeline: 5,000 bank.core events through the alert function's handler (SQS batches
 * of 10, 4 batches in flight like 4 concurrent Lambda instances) against DynamoDB Local and the
 * local SES v2 / SMS / EventBridge peers, with the real SDK clients. Per event: the duration of
 * the batch invocation that carried it (SQS deletes a message when its batch answers).
 *
 * Floor, same run, same batching and concurrency: only the DynamoDB reads and writes the
 * handler must do for the same events, done directly with the same document client (account,
 * customer and link reads; link, token, ledger claim and SENT, alert record writes), without
 * rendering, sending or publishing.
 *
 * Run alone: npm run bench -- alert-pipeline. BENCH_ALERT_EVENTS sets the number of events.
 */
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { fmt, percentile, type BenchSection } from './section.ts';
import { startDynamoDbLocal, createTable, LOCAL_AWS_ENV } from '../local/dynamodb-local.ts';
import { startLocalPeers } from '../local/peers.ts';
import { resetRuntimeConfig } from '../src/config.ts';
import { awsClients, setAwsClients } from '../src/adapters/clients.ts';
import { resetTokenPeppers } from '../src/adapters/pepper.ts';
import { upsertCustomerProfile } from '../src/store/customers.ts';
import { key, TTL_ATTRIBUTE } from '../src/store/table.ts';
import { CustomerProfileUpserted } from '../events/core.ts';

const EVENTS = Number(process.env.BENCH_ALERT_EVENTS ?? 5000);
const BATCH = 10;
const IN_FLIGHT = 4;
const CUSTOMERS = 500;
const PEPPER = 'bench-pepper-0123456789abcdef0123456789abcdef';

interface Ev {
  detailType: string;
  detail: Record<string, unknown>;
  /** What the floor must do for it. */
  floor: { reads: ('account' | 'customer' | 'link')[]; link: boolean; recipients: number; alert: boolean };
}

function customers(): CustomerProfileUpserted[] {
  return Array.from({ length: CUSTOMERS }, (_, i) =>
    CustomerProfileUpserted.parse({
      eventId: `bench-prof-${i}`,
      occurredAt: '2026-11-24T09:00:00+09:00',
      customerId: `bench-cust-${i}`,
      displayName: i % 2 ? '山田 花子' : 'Hanako Yamada',
      email: `bench-${i}@example.jp`,
      phone: `+8190${String(10_000_000 + i)}`,
      locale: i % 2 ? 'ja' : 'en',
      accounts: [{ accountId: `bench-acct-${i}`, last4: String(1000 + (i % 9000)) }],
    }),
  );
}

/**
 * The mix: 35% LinkCreated, 15% AppActivated, 40% WithdrawalPosted (half of them small card ATM
 * withdrawals that the default preference does not alert on), 10% ContactChanged.
 */
function events(run: string): Ev[] {
  const out: Ev[] = [];
  const links: string[][] = Array.from({ length: CUSTOMERS }, () => []);
  for (let n = 0; n < EVENTS; n++) {
    const i = n % CUSTOMERS;
    const accountId = `bench-acct-${i}`;
    const eventId = `bench-${run}-${n}`;
    const occurredAt = new Date().toISOString();
    const r = n % 20;
    if (r < 7) {
      const linkId = `lnk-${run}-${n}`;
      links[i]!.push(linkId);
      out.push({
        detailType: 'LinkCreated',
        detail: { eventId, occurredAt, accountId, linkId, provider: { id: 'dwallet', displayName: 'D-Wallet' }, linkType: 'EPAY', channel: 'PROVIDER_APP', origin: { ip: '203.0.113.77' } },
        floor: { reads: ['account', 'customer'], link: true, recipients: 2, alert: true },
      });
    } else if (r < 10) {
      out.push({
        detailType: 'AppActivated',
        detail: { eventId, occurredAt, accountId, appId: 'cardless', appName: 'Cardless ATM', deviceName: 'iPhone 15' },
        floor: { reads: ['account', 'customer'], link: false, recipients: 2, alert: true },
      });
    } else if (r < 18) {
      const small = r < 14;
      const linkId = !small && links[i]!.length > 0 ? links[i]![0] : undefined;
      out.push({
        detailType: 'WithdrawalPosted',
        detail: {
          eventId,
          occurredAt,
          accountId,
          withdrawalId: `wd-${n}`,
          channel: small ? 'ATM_CARD' : 'EPAY_CHARGE',
          amount: small ? 5_000 : 30_000,
          currency: 'JPY',
          ...(linkId ? { linkId } : {}),
          counterparty: 'D-Wallet top-up',
        },
        floor: { reads: ['account', 'customer', ...(linkId ? (['link'] as const) : [])], link: false, recipients: small ? 0 : 2, alert: !small },
      });
    } else {
      out.push({
        detailType: 'ContactChanged',
        detail: {
          eventId,
          occurredAt,
          customerId: `bench-cust-${i}`,
          previous: { email: `bench-${i}@example.jp`, phone: `+8190${String(10_000_000 + i)}` },
          current: { email: `bench-new-${n}@example.jp`, phone: `+8180${String(10_000_000 + n)}` },
          channel: 'ONLINE',
        },
        floor: { reads: ['customer', 'account'], link: false, recipients: 4, alert: true },
      });
    }
  }
  return out;
}

function sqs(batch: Ev[]): SQSEvent {
  return {
    Records: batch.map((e) => ({
      messageId: randomUUID(),
      receiptHandle: 'rh',
      body: JSON.stringify({ version: '0', id: randomUUID(), source: 'bank.core', 'detail-type': e.detailType, time: new Date().toISOString(), detail: e.detail }),
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 'bench', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:ap-northeast-1:123456789012:CoreEventsToAlert',
      awsRegion: 'ap-northeast-1',
    })),
  };
}

const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'alert',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:ap-northeast-1:123456789012:function:alert',
  memoryLimitInMB: '512',
  awsRequestId: 'bench',
  logGroupName: '/aws/lambda/alert',
  logStreamName: 'bench',
  getRemainingTimeInMillis: () => 60_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

interface Result {
  seconds: number;
  perEvent: number[];
  failures: number;
}

/** Batches of BATCH, IN_FLIGHT at a time; every event gets its batch's duration. */
async function drive(evs: Ev[], invoke: (batch: Ev[]) => Promise<number>): Promise<Result> {
  const batches: Ev[][] = [];
  for (let i = 0; i < evs.length; i += BATCH) batches.push(evs.slice(i, i + BATCH));
  const perEvent: number[] = [];
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) {
        const b = batches[next++]!;
        const s = performance.now();
        failures += await invoke(b);
        const ms = performance.now() - s;
        for (let k = 0; k < b.length; k++) perEvent.push(ms);
        if (process.env.BENCH_PROGRESS && perEvent.length % 500 < b.length) {
          process.stderr.write(`  ${perEvent.length} events, ${((perEvent.length / (performance.now() - t0)) * 1000).toFixed(0)}/s so far\n`);
        }
      }
    }),
  );
  perEvent.sort((a, b) => a - b);
  return { seconds: (performance.now() - t0) / 1000, perEvent, failures };
}

/** The DynamoDB work of one event, bare: the same reads in the same order, the same writes. */
async function floorEvent(e: Ev, table: string): Promise<void> {
  const doc = awsClients().doc;
  const d = e.detail as { accountId?: string; customerId?: string; eventId: string; linkId?: string };
  const acct = d.accountId ?? 'bench-acct-0';
  const get = (Key: Record<string, string>) => doc.send(new GetCommand({ TableName: table, Key, ConsistentRead: true }));
  if (e.floor.reads[0] === 'customer') {
    await get(key.customer(d.customerId!));
    await get(key.account(acct));
  } else {
    await Promise.all([get(key.account(acct)), ...(e.floor.reads.includes('link') ? [get(key.link(acct, d.linkId ?? 'x'))] : [])]);
    await get(key.customer('bench-cust-0'));
  }
  if (e.floor.link) {
    await doc.send(new PutCommand({ TableName: table, Item: { ...key.link(acct, `floor-${d.eventId}`), state: 'PENDING', providerId: 'dwallet' } }));
  }
  if (!e.floor.alert) return;
  const alertId = `floor-${d.eventId}`;
  const recipients = Array.from({ length: e.floor.recipients }, (_, k) => `r${k}`);
  await Promise.all(
    recipients.map((r) =>
      doc.send(new PutCommand({ TableName: table, Item: { ...key.send(alertId, 'X', r), state: 'SENDING', attemptId: 'a', claimedAt: new Date().toISOString(), [TTL_ATTRIBUTE]: 1 } })),
    ),
  );
  await doc.send(new PutCommand({ TableName: table, Item: { ...key.token(`floor-${d.eventId}`), alertId, actions: [{ kind: 'FREEZE_ACCOUNT' }] } }));
  await Promise.all(
    recipients.map((r) =>
      doc.send(
        new UpdateCommand({
          TableName: table,
          Key: key.send(alertId, 'X', r),
          UpdateExpression: 'SET #s = :s, messageId = :m',
          ExpressionAttributeNames: { '#s': 'state' },
          ExpressionAttributeValues: { ':s': 'SENT', ':m': 'm' },
        }),
      ),
    ),
  );
  await doc.send(new PutCommand({ TableName: table, Item: { ...key.alert({ accountId: acct, customerId: 'c' }, alertId), alertId, deliveries: {} } }));
}

export async function run(): Promise<BenchSection[]> {
  const dynamo = await startDynamoDbLocal();
  const peers = await startLocalPeers();
  const table = `bench-alert-${Date.now()}`;
  try {
    await createTable(dynamo.endpoint, table);
    Object.assign(process.env, {
      ...LOCAL_AWS_ENV,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      ...peers.env,
      TABLE_NAME: table,
      TOKEN_PEPPER: PEPPER,
      ACTION_BASE_URL: 'https://alerts.example-bank.jp/a/',
      SES_CONFIGURATION_SET: 'alerts',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_SERVICE_NAME: 'alert',
    });
    resetRuntimeConfig();
    resetTokenPeppers();
    setAwsClients(undefined);
    const { handler } = await import('../functions/alert/handler.ts');

    const profiles = customers();
    for (let i = 0; i < profiles.length; i += 25) await Promise.all(profiles.slice(i, i + 25).map((p) => upsertCustomerProfile(p)));

    // Warm-up (JIT, connections, DynamoDB Local's first writes), not measured.
    const warm = events('warm').slice(0, 100);
    await drive(warm, async (b) => (await handler(sqs(b), context)).batchItemFailures.length);
    await drive(warm, async (b) => (await Promise.all(b.map((e) => floorEvent(e, table))), 0));
    await peers.clear();

    const evs = events('run');
    const pipeline = await drive(evs, async (b) => (await handler(sqs(b), context)).batchItemFailures.length);
    const emails = (await peers.emails()).length;
    const sms = peers.smsMessages().length;
    const floor = await drive(evs, async (b) => (await Promise.all(b.map((e) => floorEvent(e, table))), 0));

    const expectedMessages = evs.reduce((n, e) => n + e.floor.recipients, 0);
    const row = (name: string, r: Result) => [
      name,
      evs.length,
      fmt(evs.length / r.seconds, 0),
      fmt(percentile(r.perEvent, 50)),
      fmt(percentile(r.perEvent, 99)),
      fmt(r.seconds),
    ];
    return [
      {
        title: 'Alert pipeline (alert function, SQS batches) vs its DynamoDB floor',
        method: `${evs.length} bank.core events (35% LinkCreated, 15% AppActivated, 40% WithdrawalPosted of which half need no alert, 10% ContactChanged to 4 recipients) through functions/alert/handler.ts in SQS batches of ${BATCH}, ${IN_FLIGHT} batches in flight, against DynamoDB Local and the local SES v2 / SMS / EventBridge peers with the real SDK clients. Per-event latency is the duration of the batch invocation carrying it. The floor does only the DynamoDB reads and writes the handler must do for the same events, same batching and concurrency.`,
        columns: ['run', 'events', 'events/s', 'p50 ms/event', 'p99 ms/event', 'wall s'],
        rows: [
          row('pipeline (handler)', pipeline),
          row('floor (bare DynamoDB)', floor),
          ['ratio pipeline/floor', '', fmt(floor.seconds / pipeline.seconds === 0 ? NaN : pipeline.seconds / floor.seconds, 2) + '× time', fmt(percentile(pipeline.perEvent, 50) / percentile(floor.perEvent, 50), 2) + '×', fmt(percentile(pipeline.perEvent, 99) / percentile(floor.perEvent, 99), 2) + '×', ''],
        ],
        notes: [
          `Sent: ${emails} emails and ${sms} SMS for ${expectedMessages} expected messages; ${pipeline.failures} batch item failures.`,
          'The pipeline also renders both messages, issues a token (HMAC), calls SES and SNS over HTTP (the SES peer is aws-ses-v2-local behind a proxy, in a child process) and publishes AlertSent to the local EventBridge; the floor has none of that.',
          'Everything (DynamoDB Local in Java, the peers, the handler) shares the same machine, so the absolute figures are a lower bound of what one Lambda instance does in AWS; the ratio is what to compare.',
        ],
      },
    ];
  } finally {
    await peers.stop();
    await dynamo.stop();
  }
}
