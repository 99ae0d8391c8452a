import { beforeAll, describe, expect, it } from 'vitest';
import { PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { setupTestEnv } from './support/env.ts';
import { upsertCustomerProfile } from '../src/store/customers.ts';
import { createLink } from '../src/store/links.ts';
import { auditPut } from '../src/store/audit.ts';
import { db, tableName } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';
import { countEvent } from '../src/console-data/metrics.ts';
import { csvCell, exportAuditChunks, handleConsoleRequest, maskEmail, maskPhone, consoleRequestFromEvent } from '../src/ops/console.ts';
import type { AuditEntry } from '../src/store/types.ts';

const get = (path: string, query: Record<string, string> = {}) => handleConsoleRequest({ method: 'GET', path, query, operatorId: 'op-1' });

async function audit(e: Omit<AuditEntry, 'entryId'>) {
  await db().send(new TransactWriteCommand({ TransactItems: [auditPut(e)] }));
}

async function drain(gen: AsyncGenerator<string, string | undefined>): Promise<{ text: string; cursor: string | undefined }> {
  let text = '';
  for (;;) {
    const n = await gen.next();
    if (n.done) return { text, cursor: n.value };
    text += n.value;
  }
}

beforeAll(async () => {
  await setupTestEnv();
  await upsertCustomerProfile({
    eventId: 'p1',
    occurredAt: '2026-01-01T00:00:00Z',
    customerId: 'cust-1',
    email: 'taro.yamada@example.jp',
    phone: '+819012345678',
    locale: 'ja',
    accounts: [{ accountId: 'acc-1', last4: '1234' }],
    preferences: { withdrawals: 'LINKED_AND_CARDLESS', withdrawalThreshold: 50_000, marketingOptOut: false },
  });
  await createLink({ accountId: 'acc-1', linkId: 'lnk-1', customerId: 'cust-1', providerId: 'payco', providerName: 'PayCo', linkType: 'EPAY', createdAt: '2026-01-02T00:00:00Z', holdUntil: '2026-01-03T00:00:00Z' });
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...key.alert({ accountId: 'acc-1', customerId: 'cust-1' }, 'al-1'),
        alertId: 'al-1',
        sourceEventType: 'LinkCreated',
        occurredAt: '2026-01-02T00:00:05Z',
        createdAt: '2026-01-02T00:00:06Z',
        deliveries: {
          'SMS#r2': { channel: 'SMS', recipientRef: 'r2', recipient: '+819012345678', role: 'PROFILE', status: 'BLOCKED', updatedAt: '2026-01-02T00:00:09Z', detail: 'carrier blocked' },
          'EMAIL#r1': { channel: 'EMAIL', recipientRef: 'r1', recipient: 'taro.yamada@example.jp', role: 'PROFILE', status: 'DELIVERED', updatedAt: '2026-01-02T00:00:07Z' },
        },
      },
    }),
  );
  // 30 entries over three days, written out of order, in two accounts.
  for (let i = 0; i < 30; i++) {
    const day = 10 + (i % 3);
    await audit({
      accountId: i % 2 ? 'acc-1' : 'acc-2',
      at: `2026-02-${day}T${String(23 - (i % 24)).padStart(2, '0')}:00:${String(i).padStart(2, '0')}.000Z`,
      action: i === 7 ? '=HYPERLINK("x")' : 'revokeLink',
      actor: 'CUSTOMER_WEB',
      target: `link:lnk-${i}`,
      oldState: 'PENDING',
      newState: 'REVOKED',
      alertId: 'al-1',
      tokenRef: 'abcd1234',
    });
  }
});

describe('account view', () => {
  it('shows state, links, alerts with delivery per channel, audit newest first, contacts masked', async () => {
    const res = await get('/ops/accounts/acc-1');
    expect(res?.statusCode).toBe(200);
    const body = JSON.parse(res!.body);
    expect(body.account).toMatchObject({ accountId: 'acc-1', last4: '1234', state: 'ACTIVE' });
    expect(body.customer).toMatchObject({ email: 't•••@example.jp', phone: '+81 •••• 5678' });
    expect(res!.body).not.toContain('taro.yamada');
    expect(res!.body).not.toContain('12345678');
    expect(body.links).toEqual([expect.objectContaining({ linkId: 'lnk-1', state: 'PENDING', effectiveState: 'ACTIVE', providerName: 'PayCo' })]);
    expect(body.alerts[0]).toMatchObject({ alertId: 'al-1', kind: 'LinkCreated' });
    expect(body.alerts[0].delivery).toEqual([
      { channel: 'EMAIL', status: 'DELIVERED', role: 'PROFILE', at: '2026-01-02T00:00:07Z' },
      { channel: 'SMS', status: 'BLOCKED', role: 'PROFILE', at: '2026-01-02T00:00:09Z', reason: 'carrier blocked' },
    ]);
    expect(body.audit).toHaveLength(15);
    const times = body.audit.map((a: { at: string }) => a.at);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('answers 404 for an unknown account and 400 for a malformed id', async () => {
    expect((await get('/ops/accounts/nope'))?.statusCode).toBe(404);
    const bad = await get(`/ops/accounts/${encodeURIComponent('a b')}`);
    expect(bad?.statusCode).toBe(400);
    expect(JSON.parse(bad!.body).field).toBe('accountId');
    expect(await get('/ops/campaigns')).toBeUndefined();
    expect(await handleConsoleRequest({ method: 'POST', path: '/ops/overview', query: {}, operatorId: 'x' })).toBeUndefined();
  });

  it('masks contacts', () => {
    expect(maskEmail('a@b.c')).toBe('a•••@b.c');
    expect(maskEmail(undefined)).toBeUndefined();
    expect(maskPhone('+14155550123')).toBe('+1 •••• 0123');
  });
});

describe('audit export', () => {
  it('exports every entry of the range in time order, as CSV and JSON lines', async () => {
    const csv = await get('/ops/audit/export', { from: '2026-02-10', to: '2026-02-12', format: 'csv' });
    expect(csv?.statusCode).toBe(200);
    expect(csv!.headers['content-type']).toContain('text/csv');
    expect(csv!.headers['x-next-cursor']).toBeUndefined();
    const lines = csv!.body.trim().split('\r\n');
    expect(lines[0]).toBe('at,accountId,action,actor,target,oldState,newState,alertId,tokenRef,operatorId,approverId,verificationRef,entryId');
    expect(lines).toHaveLength(31);
    const at = lines.slice(1).map((l) => l.split(',')[0]!);
    expect([...at].sort()).toEqual(at);
    // A cell a spreadsheet would run as a formula is neutralised.
    expect(csv!.body).toContain(`"'=HYPERLINK(""x"")"`);

    const jl = await get('/ops/audit/export', { from: '2026-02-11', to: '2026-02-11', format: 'jsonl' });
    const rows = jl!.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(rows).toHaveLength(10);
    expect(rows.every((r: { at: string }) => r.at.startsWith('2026-02-11'))).toBe(true);
  });

  it('pages with a cursor and loses or repeats nothing', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { text, cursor: next } = await drain(exportAuditChunks({ from: '2026-02-09', to: '2026-02-13', format: 'jsonl', maxRows: 4, ...(cursor ? { cursor } : {}) }));
      for (const l of text.trim().split('\n').filter(Boolean)) seen.push(JSON.parse(l).entryId);
      cursor = next;
      pages++;
    } while (cursor);
    expect(pages).toBe(8);
    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
  });

  it('rejects bad ranges and formats with the field named', async () => {
    const cases: [Record<string, string>, string][] = [
      [{ to: '2026-02-10' }, 'from'],
      [{ from: '2026-02-31x', to: '2026-02-10' }, 'from'],
      [{ from: '2026-02-10', to: '2026-02-09' }, 'to'],
      [{ from: '2020-01-01', to: '2026-02-09' }, 'to'],
      [{ from: '2026-02-10', to: '2026-02-10', format: 'xml' }, 'format'],
      [{ from: '2026-02-10', to: '2026-02-10', cursor: 'garbage' }, 'cursor'],
    ];
    for (const [q, field] of cases) {
      const r = await get('/ops/audit/export', q);
      expect(r?.statusCode, JSON.stringify(q)).toBe(400);
      expect(JSON.parse(r!.body).field).toBe(field);
    }
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('-1')).toBe("'-1");
  });
});

describe('overview and identity', () => {
  it('sums the counters for the range', async () => {
    await countEvent('alert', 'EMAIL', new Date(), { detail: 'LinkCreated' });
    await countEvent('alert', 'SMS', new Date(), { detail: 'LinkCreated' });
    await countEvent('freeze', 'WEB', new Date());
    await countEvent('undelivered', 'ANY', new Date());
    const r = await get('/ops/overview', { range: 'hour' });
    const body = JSON.parse(r!.body);
    expect(body.summary).toMatchObject({ alertsSent: 2, alertsByChannel: { EMAIL: 1, SMS: 1 }, freezes: 1, undelivered: 1, holds: 0 });
    expect(body.buckets).toHaveLength(60);
    expect((await get('/ops/overview', { range: 'year' }))?.statusCode).toBe(400);
  });

  it('takes the operator from the JWT authorizer and refuses without one', () => {
    const req = consoleRequestFromEvent({ rawPath: '/ops/whoami', requestContext: { http: { method: 'GET' }, authorizer: { jwt: { claims: { sub: 'op-7' } } } } });
    expect(req?.operatorId).toBe('op-7');
    expect(consoleRequestFromEvent({ rawPath: '/ops/whoami', requestContext: { http: { method: 'GET' } } })).toBeUndefined();
  });
});
