import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { setupTestEnv, TEST_PEPPER } from './support/env.ts';
import { CustomerProfileUpserted } from '../events/core.ts';
import { upsertCustomerProfile, getCustomer, getAccount, findCustomersByPhone, findCustomersByEmail } from '../src/store/customers.ts';
import { issueToken, findToken } from '../src/store/tokens.ts';
import { createLink, getLink } from '../src/store/links.ts';

const profile = CustomerProfileUpserted.parse(
  JSON.parse(readFileSync(new URL('../events/examples/CustomerProfileUpserted.json', import.meta.url), 'utf8')).detail,
);

describe('store against DynamoDB Local', () => {
  beforeAll(async () => {
    await setupTestEnv();
  });

  it('projects a customer profile with its accounts ACTIVE, and finds the customer by phone and email', async () => {
    expect(await upsertCustomerProfile(profile)).toBe(true);
    const c = await getCustomer(profile.customerId, true);
    expect(c?.locale).toBe('ja');
    expect(c?.accountIds).toEqual(['acct-0001']);
    const a = await getAccount('acct-0001');
    expect(a).toMatchObject({ state: 'ACTIVE', customerId: 'cust-0001', last4: '1234', version: 0 });
    expect(await findCustomersByPhone('+819012345678')).toEqual(['cust-0001']);
    expect(await findCustomersByEmail('Hanako.Yamada@EXAMPLE.jp')).toEqual(['cust-0001']);
  });

  it('ignores a profile event older than the one applied', async () => {
    const stale = { ...profile, occurredAt: '2020-01-01T00:00:00+09:00', locale: 'en' as const };
    expect(await upsertCustomerProfile(stale)).toBe(false);
    expect((await getCustomer(profile.customerId, true))?.locale).toBe('ja');
  });

  it('stores only the hash of a token and finds it by the clear token', async () => {
    const { token, record } = await issueToken(
      { accountId: 'acct-0001', customerId: 'cust-0001', alertId: 'al-1', actions: [{ kind: 'FREEZE_ACCOUNT' }] },
      { pepper: TEST_PEPPER, ttlDays: 7 },
    );
    expect(token).toHaveLength(22);
    expect(record.tokenHash).not.toContain(token);
    expect((await findToken(token, [TEST_PEPPER]))?.alertId).toBe('al-1');
    expect(await findToken(token, ['another-pepper-0123456789abcdef0123'])).toBeUndefined();
  });

  it('creates a link once as PENDING', async () => {
    const link = {
      accountId: 'acct-0001', linkId: 'lnk-1', customerId: 'cust-0001', providerId: 'dwallet', providerName: 'D-Wallet',
      linkType: 'EPAY' as const, createdAt: '2026-11-25T00:00:00.000Z', holdUntil: '2026-11-26T00:00:00.000Z',
    };
    expect(await createLink(link)).toBe(true);
    expect(await createLink(link)).toBe(false);
    expect((await getLink('acct-0001', 'lnk-1'))?.state).toBe('PENDING');
  });
});

describe('profile updates keep what other modules recorded', () => {
  beforeAll(async () => {
    await setupTestEnv();
  });

  it('keeps an email suppression while the address is unchanged, and lifts it when the address changes', async () => {
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { awsClients } = await import('../src/adapters/clients.ts');
    const { key } = await import('../src/store/table.ts');
    await upsertCustomerProfile(profile);
    await awsClients().doc.send(
      new UpdateCommand({ TableName: process.env.TABLE_NAME, Key: key.customer(profile.customerId), UpdateExpression: 'SET suppressedEmail = :t', ExpressionAttributeValues: { ':t': true } }),
    );
    expect(await upsertCustomerProfile({ ...profile, occurredAt: '2026-11-24T10:00:00+09:00', locale: 'en' })).toBe(true);
    expect(await getCustomer(profile.customerId, true)).toMatchObject({ locale: 'en', suppressedEmail: true });
    expect(await upsertCustomerProfile({ ...profile, occurredAt: '2026-11-24T11:00:00+09:00', email: 'new@example.jp' })).toBe(true);
    const c = await getCustomer(profile.customerId, true);
    expect(c?.suppressedEmail).toBeUndefined();
    expect(await findCustomersByEmail('new@example.jp')).toEqual(['cust-0001']);
    expect(await findCustomersByEmail('hanako.yamada@example.jp')).toEqual([]);
  });

  it('removes a contact the profile no longer has, and the reverse lookup with it', async () => {
    const { phone: _p, ...noPhone } = profile;
    expect(await upsertCustomerProfile({ ...noPhone, occurredAt: '2026-11-24T12:00:00+09:00' })).toBe(true);
    expect((await getCustomer(profile.customerId, true))?.phone).toBeUndefined();
    expect(await findCustomersByPhone('+819012345678')).toEqual([]);
  });
});
