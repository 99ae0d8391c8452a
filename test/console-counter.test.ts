/**
 * The console's overview counters are kept off the customer's path: the publisher only publishes,
 * and the counter function (fed by its own rule on every bank.alerting event) counts each change
 * once, however often its event is delivered or republished.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Context, SQSEvent } from 'aws-lambda';
import { setupTestEnv } from './support/env.ts';
import { readMetrics } from '../src/console-data/metrics.ts';
import { routesFor } from '../src/routing.ts';
import { alertingEvents, type AlertingEvent } from '../events/alerting.ts';
import { createEventBus } from '../local/event-bus.ts';
import type { FunctionName } from '../src/routing.ts';

const ctx = { functionName: 'counter', awsRequestId: 'r', getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

function sqs(bodies: string[]): SQSEvent {
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: 'rh',
      body,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: '0', SenderId: 't', ApproximateFirstReceiveTimestamp: '0' },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:ap-northeast-1:000000000000:AlertingEventsToCounter',
      awsRegion: 'ap-northeast-1',
    })),
  };
}
const envelope = (e: AlertingEvent) => JSON.stringify({ version: '0', id: randomUUID(), source: 'bank.alerting', 'detail-type': e.detailType, time: new Date().toISOString(), detail: e.detail });

beforeAll(async () => {
  await setupTestEnv();
});

describe('routing', () => {
  it('every bank.alerting event type reaches the counter function', () => {
    for (const type of Object.keys(alertingEvents)) {
      expect(routesFor('bank.alerting', type).map((r) => r.target), type).toContain('counter');
    }
    expect(routesFor('bank.core', 'LinkCreated').map((r) => r.target)).not.toContain('counter');
  });
});

describe('counter function', () => {
  it('counts a freeze and an alert once each, although both arrive twice (outbox sweep, alert retry)', async () => {
    const { handler } = await import('../functions/counter/handler.ts');
    const at = new Date();
    const frozen: AlertingEvent = { detailType: 'AccountFrozen', detail: { accountId: `acc-${randomUUID()}`, at: at.toISOString(), actor: 'CUSTOMER_WEB', alertId: 'al-1' } };
    const sent: AlertingEvent = {
      detailType: 'AlertSent',
      detail: { alertId: `al-${randomUUID()}`, sourceEventId: 'ev-1', sourceEventType: 'LinkCreated', customerId: 'c-1', channel: 'SMS', messageId: 'm-1', sentAt: at.toISOString() },
    };
    const first = await handler(sqs([envelope(frozen), envelope(sent)]), ctx);
    const again = await handler(sqs([envelope(frozen), envelope(sent)]), ctx);
    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    const m = await readMetrics('hour', at);
    expect(m.totals['freeze|WEB']).toBe(1);
    expect(m.totals['alert:LinkCreated|SMS']).toBe(1);
  });

  it('consumes, without counting, an event that fails its contract (it could never count)', async () => {
    const { handler } = await import('../functions/counter/handler.ts');
    const at = new Date('2026-05-05T05:05:00Z');
    const bad = [
      'not json',
      JSON.stringify({ source: 'bank.core', 'detail-type': 'AccountFrozen', detail: { accountId: 'a', at: at.toISOString(), actor: 'CUSTOMER_WEB' } }),
      JSON.stringify({ source: 'bank.alerting', 'detail-type': 'AccountFrozen', detail: { accountId: 'a', at: at.toISOString(), actor: 'SOMEONE' } }),
      JSON.stringify({ source: 'bank.alerting', 'detail-type': 'AccountFrozen', detail: { at: at.toISOString(), actor: 'CUSTOMER_WEB' } }),
      JSON.stringify({ source: 'bank.alerting', 'detail-type': 'Nonsense', detail: {} }),
    ];
    expect((await handler(sqs(bad), ctx)).batchItemFailures).toEqual([]);
    expect((await readMetrics('hour', at)).totals).toEqual({});
  });

  it('fails the record (SQS brings it back) when the store cannot be written, and counts it on the retry', async () => {
    const { handler } = await import('../functions/counter/handler.ts');
    const at = new Date('2026-06-06T06:06:00Z');
    const e: AlertingEvent = { detailType: 'LinkRevoked', detail: { accountId: 'acc-r', linkId: `lnk-${randomUUID()}`, providerId: 'dwallet', at: at.toISOString(), actor: 'CUSTOMER_SMS_REPLY' } };
    const table = process.env.TABLE_NAME!;
    process.env.TABLE_NAME = 'no-such-table';
    const { resetRuntimeConfig } = await import('../src/config.ts');
    resetRuntimeConfig();
    const event = sqs([envelope(e)]);
    const failed = await handler(event, ctx).finally(() => {
      process.env.TABLE_NAME = table;
      resetRuntimeConfig();
    });
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect((await readMetrics('hour', at)).totals).toEqual({});
    expect((await handler(event, ctx)).batchItemFailures).toEqual([]);
    expect((await readMetrics('hour', at)).totals).toEqual({ 'revoke|SMS_REPLY': 1 });
  });
});

describe('through the local event bus, as the stack routes it', () => {
  it('a published AccountFrozen is counted by the counter function, not by the publisher', async () => {
    const { handler } = await import('../functions/counter/handler.ts');
    const invoked: FunctionName[] = [];
    const bus = createEventBus({
      invoke: (name, event) => {
        invoked.push(name);
        return name === 'counter' ? handler(event as SQSEvent, ctx) : Promise.resolve({ batchItemFailures: [] });
      },
      available: () => true,
      visibilityTimeoutMs: 20,
    });
    const at = new Date('2026-07-07T07:07:00Z');
    const detail = { accountId: `acc-${randomUUID()}`, at: at.toISOString(), actor: 'CUSTOMER_WEB' };
    // Published twice: the first attempt and the outbox sweep's republish.
    bus.put([{ source: 'bank.alerting', 'detail-type': 'AccountFrozen', detail }]);
    bus.put([{ source: 'bank.alerting', 'detail-type': 'AccountFrozen', detail }]);
    expect(await bus.drain(10_000)).toBe(true);
    await bus.stop();
    expect(invoked).toContain('counter');
    expect((await readMetrics('hour', at)).totals).toEqual({ 'freeze|WEB': 1 });
  });
});
