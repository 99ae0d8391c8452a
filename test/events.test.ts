import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { coreEvents, coreEventNames, EventBridgeEnvelope, CustomerProfileUpserted, ContactChanged, WithdrawalPosted } from '../events/core.ts';
import { jsonSchemas } from '../events/json-schema.ts';

const examplesDir = new URL('../events/examples/', import.meta.url);
const example = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, examplesDir), 'utf8'));

describe('event contracts', () => {
  it('has one realistic example per inbound event, and each parses', () => {
    const files = readdirSync(examplesDir).filter((f) => f.endsWith('.json')).map((f) => f.replace('.json', ''));
    expect(files.sort()).toEqual([...coreEventNames].sort());
    for (const name of coreEventNames) {
      const env = EventBridgeEnvelope.parse(example(name));
      expect(env.source).toBe('bank.core');
      expect(env['detail-type']).toBe(name);
      expect(coreEvents[name].safeParse(env.detail).success, name).toBe(true);
    }
  });

  it('requires eventId and occurredAt on every event', () => {
    for (const name of coreEventNames) {
      const { eventId: _e, ...noId } = example(name).detail;
      const { occurredAt: _o, ...noTime } = example(name).detail;
      expect(coreEvents[name].safeParse(noId).success).toBe(false);
      expect(coreEvents[name].safeParse(noTime).success).toBe(false);
    }
  });

  it('rejects amounts that are not positive integers in minor units, and unknown channels', () => {
    const d = example('WithdrawalPosted').detail;
    for (const amount of [0, -1, 10.5, '30000', 1e14]) expect(WithdrawalPosted.safeParse({ ...d, amount }).success).toBe(false);
    expect(WithdrawalPosted.safeParse({ ...d, channel: 'CHEQUE' }).success).toBe(false);
    expect(WithdrawalPosted.safeParse({ ...d, currency: 'yen' }).success).toBe(false);
  });

  it('rejects unknown fields, so a typo in the core is seen rather than ignored', () => {
    expect(WithdrawalPosted.safeParse({ ...example('WithdrawalPosted').detail, ammount: 1 }).success).toBe(false);
  });

  it('rejects contacts that are not E.164 phones or email addresses, and an empty contact change', () => {
    const d = example('ContactChanged').detail;
    expect(ContactChanged.safeParse({ ...d, current: { phone: '090-1234-5678' } }).success).toBe(false);
    expect(ContactChanged.safeParse({ ...d, current: { email: 'not-an-address' } }).success).toBe(false);
    expect(ContactChanged.safeParse({ ...d, current: {} }).success).toBe(false);
  });

  it('defaults withdrawal alerts to cardless, e-payment and linked withdrawals', () => {
    const { preferences: _p, ...d } = example('CustomerProfileUpserted').detail;
    const parsed = CustomerProfileUpserted.parse(d);
    expect(parsed.preferences.withdrawals).toBe('LINKED_AND_CARDLESS');
    expect(parsed.preferences.marketingOptOut).toBe(false);
  });

  it('keeps the committed JSON Schemas in step with the zod contracts', () => {
    const schemas = jsonSchemas();
    expect(Object.keys(schemas).length).toBeGreaterThanOrEqual(coreEventNames.length);
    for (const [name, schema] of Object.entries(schemas)) {
      const committed = JSON.parse(readFileSync(new URL(`../events/schemas/${name}.json`, import.meta.url), 'utf8'));
      expect(committed, `${name}: run npm run schemas`).toEqual(JSON.parse(JSON.stringify(schema)));
    }
    const link = schemas['bank.core.LinkCreated']!;
    expect(link.required).toEqual(expect.arrayContaining(['eventId', 'occurredAt', 'accountId', 'linkId', 'provider']));
  });
});
