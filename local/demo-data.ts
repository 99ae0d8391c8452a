/**
 * Demo customers and the demo's events. The Japanese customer is events/examples/
 * CustomerProfileUpserted.json as is; the English one shows the other locale. They are loaded
 * through the event bus like any profile from the core, so they go through the same handler.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SOURCE, CustomerProfileUpserted, LinkCreated } from '../events/core.ts';
import type { PutEnvelope } from './event-bus.ts';
import { REPO_ROOT } from './handlers.ts';

export interface DemoCustomer {
  customerId: string;
  accountId: string;
  last4: string;
  locale: 'ja' | 'en';
  email: string;
  phone: string;
}

interface Example<T> {
  source: string;
  'detail-type': string;
  detail: T;
}

/** An example from events/examples/, validated so that a contract change cannot silently break the demo. */
function example<T>(name: string, schema: { parse(v: unknown): T }): Example<T> {
  const raw = JSON.parse(readFileSync(join(REPO_ROOT, 'events', 'examples', `${name}.json`), 'utf8')) as Example<unknown>;
  return { ...raw, detail: schema.parse(raw.detail) };
}

const jaProfile = example('CustomerProfileUpserted', CustomerProfileUpserted).detail;

const enProfile: CustomerProfileUpserted = CustomerProfileUpserted.parse({
  eventId: 'evt-profile-0002',
  occurredAt: '2026-11-24T09:05:00+09:00',
  customerId: 'cust-0002',
  displayName: 'Emily Carter',
  email: 'emily.carter@example.com',
  phone: '+818011112222',
  locale: 'en',
  accounts: [{ accountId: 'acct-0002', last4: '5678' }],
  preferences: {},
});

function toCustomer(p: CustomerProfileUpserted): DemoCustomer {
  return { customerId: p.customerId, accountId: p.accounts[0]!.accountId, last4: p.accounts[0]!.last4, locale: p.locale, email: p.email!, phone: p.phone! };
}

export const demoCustomers: readonly DemoCustomer[] = [toCustomer(jaProfile), toCustomer(enProfile)];

/** The profiles as the core publishes them. */
export function demoCustomerEvents(): PutEnvelope[] {
  return [jaProfile, enProfile].map((detail) => ({ source: CORE_SOURCE, 'detail-type': 'CustomerProfileUpserted', detail }));
}

/**
 * The 2020 case: an impostor links an e-payment wallet to the customer's account. Ids are fresh
 * per call (the example's ids plus a suffix), so every demo run is a new event and a new alert.
 */
export function impostorLinksWallet(customer: DemoCustomer, suffix = Date.now().toString(36)): PutEnvelope {
  const base = example('LinkCreated', LinkCreated);
  const detail: LinkCreated = LinkCreated.parse({
    ...base.detail,
    eventId: `${base.detail.eventId}-${suffix}`,
    linkId: `${base.detail.linkId}-${suffix}`,
    accountId: customer.accountId,
    occurredAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
  return { source: base.source, 'detail-type': base['detail-type'], detail };
}
