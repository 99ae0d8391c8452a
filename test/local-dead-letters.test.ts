/**
 * Local parity with AWS for dead letters: an event that fails its schema is parked by the alert
 * function in the alert queue's dead-letter queue with the reason (the real SQS client against the
 * local queue endpoint, as ALERT_DLQ_URL is wired in the stack), shown on /dead-letters, and
 * a redrive sends it back to its queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startLocalRuntime, type LocalRuntime } from '../local/runtime.ts';
import { REPO_ROOT } from '../local/handlers.ts';
import { LOCAL_AWS_ENV } from '../local/dynamodb-local.ts';
import type { DeadLetter } from '../local/event-bus.ts';

let rt: LocalRuntime;
beforeAll(async () => {
  rt = await startLocalRuntime({ demoData: false, schedules: false, discoverPages: false });
});
afterAll(async () => {
  await rt?.stop();
});

const example = JSON.parse(readFileSync(join(REPO_ROOT, 'events', 'examples', 'LinkCreated.json'), 'utf8')) as { detail: Record<string, unknown> };

async function deadLetters(): Promise<DeadLetter[]> {
  return (await (await fetch(`${rt.urls.api}/dead-letters.json`)).json()) as DeadLetter[];
}

async function until<T>(what: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await what();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('local dead-letter queue', () => {
  it('parks an event that fails its schema with the reason, shows it, and redrives it', async () => {
    const eventId = `evt-dlq-${Date.now()}`;
    // A field the contract does not know: the core changed before this side did.
    const detail = { ...example.detail, eventId, loyaltyTier: 'gold' };
    const put = await fetch(`${rt.urls.api}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'bank.core', 'detail-type': 'LinkCreated', detail }),
    });
    expect(put.status).toBe(200);

    const letters = await until(deadLetters, (l) => l.some((d) => d.attributes?.eventId === eventId));
    const letter = letters.find((d) => d.attributes?.eventId === eventId)!;
    expect(letter).toMatchObject({ route: 'CoreEventsToAlert', target: 'alert', detailType: 'LinkCreated' });
    expect(letter.attributes?.rejectedBy).toBe('alert');
    expect(letter.attributes?.reason).toMatch(/loyaltyTier/);
    expect(letter.lastError).toMatch(/loyaltyTier/);
    // The body is kept unchanged, so a redrive after a contract fix delivers the original event.
    expect((JSON.parse(letter.body) as { detail: { eventId: string } }).detail.eventId).toBe(eventId);
    // Parked at once, not retried: one receive.
    expect(rt.bus.stats().find((q) => q.route === 'CoreEventsToAlert')!.failedReceives).toBe(0);

    const page = await (await fetch(`${rt.urls.deadLetters}`)).text();
    expect(page).toContain(eventId);
    expect(page).toMatch(/loyaltyTier/);
    expect(page).toContain(`name="messageId" value="${letter.messageId}"`);

    const redrive = await fetch(`${rt.urls.api}/dead-letters/redrive`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ messageId: letter.messageId }).toString(),
      redirect: 'manual',
    });
    expect(redrive.status).toBe(303);
    expect(redrive.headers.get('location')).toBe('/dead-letters?redriven=ok');
    // Still invalid, so the alert function parks it again: delivered once more, one letter again.
    const mine = (l: DeadLetter[]) => l.filter((d) => d.attributes?.eventId === eventId || d.eventId === letter.eventId);
    const again = await until(deadLetters, (l) => mine(l).length === 1 && mine(l)[0]!.deadAt !== letter.deadAt);
    expect(mine(again)).toHaveLength(1);
    expect(mine(again)[0]!.deadAt).not.toBe(letter.deadAt);
    expect(mine(again)[0]!.attributes?.reason).toMatch(/loyaltyTier/);
    expect(rt.bus.stats().find((q) => q.route === 'CoreEventsToAlert')!.failedReceives).toBe(0);
  });

  it('answers a redrive of an unknown message without changing anything', async () => {
    const before = await deadLetters();
    const r = await fetch(`${rt.urls.api}/dead-letters/redrive`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'messageId=no-such-message',
      redirect: 'manual',
    });
    expect(r.headers.get('location')).toBe('/dead-letters?redriven=none');
    expect(await deadLetters()).toEqual(before);
  });

  it('answers SendMessage to a queue that does not exist as SQS does, and parks nothing', async () => {
    const before = await deadLetters();
    const sqs = new SQSClient({ region: LOCAL_AWS_ENV.AWS_REGION, endpoint: rt.env.AWS_ENDPOINT_URL_SQS, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    const url = rt.env.ALERT_DLQ_URL!.replace('CoreEventsToAlert', 'NoSuchRoute');
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{}' }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
    expect(await deadLetters()).toEqual(before);
    sqs.destroy();
  });
});
