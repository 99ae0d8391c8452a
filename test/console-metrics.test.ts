import { beforeAll, describe, expect, it } from 'vitest';
import { setupTestEnv } from './support/env.ts';
import { countAlertingEvent, countEvent, readMetrics } from '../src/console-data/metrics.ts';

beforeAll(async () => {
  await setupTestEnv();
});

describe('overview counters', () => {
  it('counts by kind and channel into minute, hour and 6-hour buckets', async () => {
    const now = new Date('2026-03-10T12:34:56Z');
    await countEvent('alert', 'EMAIL', new Date('2026-03-10T12:34:10Z'), { detail: 'LinkCreated' });
    await countEvent('alert', 'EMAIL', new Date('2026-03-10T12:34:50Z'), { detail: 'LinkCreated' });
    await countEvent('alert', 'SMS', new Date('2026-03-10T12:00:00Z'), { detail: 'LinkCreated' });
    await countEvent('freeze', 'WEB', new Date('2026-03-10T11:40:00Z'));
    await countEvent('hold', 'API', new Date('2026-03-09T13:00:00Z'), { by: 3 });
    await countEvent('revoke', 'WEB', new Date('2026-03-03T12:59:00Z'));
    await countEvent('revoke', 'SMS_REPLY', new Date('2026-03-03T13:00:00Z'));

    const hour = await readMetrics('hour', now);
    expect(hour.buckets).toHaveLength(60);
    expect(hour.bucketSeconds).toBe(60);
    expect(hour.buckets.at(-1)).toBe('2026-03-10T12:34:00.000Z');
    expect(hour.series['alert:LinkCreated|EMAIL']!.at(-1)).toBe(2);
    expect(hour.totals).toEqual({ 'alert:LinkCreated|EMAIL': 2, 'alert:LinkCreated|SMS': 1, 'freeze|WEB': 1 });
    expect(hour.series['freeze|WEB']![5]).toBe(1); // 11:40 is six minutes after 11:35, the first bucket

    const day = await readMetrics('day', now);
    expect(day.buckets).toHaveLength(24);
    expect(day.totals).toEqual({ 'alert:LinkCreated|EMAIL': 2, 'alert:LinkCreated|SMS': 1, 'freeze|WEB': 1, 'hold|API': 3 });
    expect(day.series['hold|API']![0]).toBe(3);

    const week = await readMetrics('week', now);
    expect(week.bucketSeconds).toBe(6 * 3600);
    // The week's first hourly bucket is 167 h before the current one: 03-03T13:00.
    expect(week.totals['revoke|WEB']).toBeUndefined();
    expect(week.totals['revoke|SMS_REPLY']).toBe(1);
    expect(week.totals['hold|API']).toBe(3);
    const sum = Object.values(week.series).flat().reduce((a, b) => a + b, 0);
    expect(sum).toBe(2 + 1 + 1 + 3 + 1);
    expect(new Date(week.buckets[0]!).getTime()).toBeLessThanOrEqual(Date.parse('2026-03-03T13:00:00Z'));
  });

  it('counts a retried event once when it has a dedupe key, and rejects bad names', async () => {
    const at = '2026-04-01T08:00:00Z';
    const event = {
      detailType: 'AlertSent' as const,
      detail: { alertId: 'a-1', sourceEventId: 'e-1', sourceEventType: 'WithdrawalPosted', customerId: 'c-1', channel: 'SMS' as const, messageId: 'm', sentAt: at },
    };
    expect(await countAlertingEvent(event)).toBe(true);
    expect(await countAlertingEvent(event)).toBe(false);
    expect(await countAlertingEvent({ detailType: 'AccountFrozen', detail: { accountId: 'acc', at, actor: 'CUSTOMER_SMS_REPLY' } })).toBe(true);
    expect(await countEvent('freeze', 'bad channel!', at)).toBe(false);
    expect(await countEvent('freeze', 'WEB', 'not a date')).toBe(false);
    const m = await readMetrics('hour', new Date('2026-04-01T08:30:00Z'));
    expect(m.totals).toEqual({ 'alert:WithdrawalPosted|SMS': 1, 'freeze|SMS_REPLY': 1 });
  });
});
