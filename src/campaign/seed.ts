/**
 * Generated linked accounts for tests, benchmarks and local demos: customers, accounts and links
 * (with their Audience index attributes) written with BatchWriteItem, and the same recipients as
 * an in-memory stream for the dry run. Deterministic: recipient i is the same everywhere.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from '../store/db.ts';
import { key } from '../store/table.ts';
import { audienceAttributes } from '../store/links.ts';
import type { AccountRecord, CustomerRecord, LinkRecord } from '../store/types.ts';

export const providers = [
  { id: 'dwallet', name: 'D-Wallet' },
  { id: 'paynext', name: 'PayNext' },
  { id: 'kpay', name: 'K-Pay' },
  { id: 'cardless-atm', name: 'Cardless ATM' },
];

export interface SeedOptions {
  /** Every n-th account is FROZEN (0: none). */
  frozenEvery?: number;
  /** Every n-th customer has no email / no phone (0: none). */
  noEmailEvery?: number;
  noPhoneEvery?: number;
  /** Every n-th customer's email is suppressed (0: none). */
  suppressedEmailEvery?: number;
  /** Every n-th account has a second link (to another provider) (0: none). */
  secondLinkEvery?: number;
  /** Every n-th account's only link is REVOKED (not in the audience) (0: none). */
  revokedEvery?: number;
}

export const accountIdOf = (i: number) => `acct-${String(i).padStart(8, '0')}`;
export const customerIdOf = (i: number) => `cust-${String(i).padStart(8, '0')}`;
export const emailOf = (i: number) => `user${i}@example.jp`;
export const phoneOf = (i: number) => `+8190${String(i).padStart(8, '0')}`;

const every = (n: number | undefined, i: number) => n !== undefined && n > 0 && i % n === n - 1;

export interface SeedRecipient {
  customer: CustomerRecord;
  account: AccountRecord;
  links: LinkRecord[];
}

export function seedRecipient(i: number, o: SeedOptions = {}, now = '2026-11-25T00:00:00.000Z'): SeedRecipient {
  const accountId = accountIdOf(i);
  const customerId = customerIdOf(i);
  const loc = i % 3 === 2 ? 'en' : 'ja';
  const customer: CustomerRecord = {
    customerId,
    displayName: loc === 'ja' ? `利用者 ${i}` : `Customer ${i}`,
    ...(every(o.noEmailEvery, i) ? {} : { email: emailOf(i) }),
    ...(every(o.noPhoneEvery, i) ? {} : { phone: phoneOf(i) }),
    locale: loc,
    accountIds: [accountId],
    preferences: { withdrawals: 'LINKED_AND_CARDLESS', withdrawalThreshold: 50_000, marketingOptOut: true },
    ...(every(o.suppressedEmailEvery, i) ? { suppressedEmail: true } : {}),
    profileOccurredAt: now,
    updatedAt: now,
  };
  const account: AccountRecord = { accountId, customerId, last4: String(i % 10_000).padStart(4, '0'), state: every(o.frozenEvery, i) ? 'FROZEN' : 'ACTIVE', version: 0, updatedAt: now };
  const p1 = providers[i % providers.length]!;
  const link = (p: { id: string; name: string }, n: number, state: LinkRecord['state']): LinkRecord => ({
    accountId,
    linkId: `lnk-${i}-${n}`,
    customerId,
    providerId: p.id,
    providerName: p.name,
    linkType: p.id === 'cardless-atm' ? 'CARDLESS_ATM' : 'EPAY',
    state,
    createdAt: now,
    holdUntil: now,
    version: 0,
    updatedAt: now,
  });
  const links = [link(p1, 1, every(o.revokedEvery, i) ? 'REVOKED' : i % 2 ? 'ACTIVE' : 'PENDING')];
  if (every(o.secondLinkEvery, i)) links.push(link(providers[(i + 1) % providers.length]!, 2, 'ACTIVE'));
  return { customer, account, links };
}

function items(r: SeedRecipient): Record<string, unknown>[] {
  return [
    { ...key.customer(r.customer.customerId), ...r.customer, ...(r.customer.phone ? { phoneKey: key.phoneIndex(r.customer.phone) } : {}), ...(r.customer.email ? { emailKey: key.emailIndex(r.customer.email) } : {}) },
    { ...key.account(r.account.accountId), ...r.account },
    ...r.links.map((l) => ({ ...key.link(l.accountId, l.linkId), ...l, ...(l.state === 'REVOKED' ? {} : audienceAttributes(l)) })),
  ];
}

/** Writes recipients [from, to) to the table, `parallel` BatchWriteItem calls at a time. */
export async function seedAudience(from: number, to: number, o: SeedOptions = {}, parallel = 8): Promise<void> {
  let buffer: Record<string, unknown>[] = [];
  const inflight = new Set<Promise<void>>();
  const flush = async (chunk: Record<string, unknown>[]) => {
    let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      const out = await db().send(new BatchWriteCommand({ RequestItems: { [tableName()]: pending } }));
      pending = (out.UnprocessedItems?.[tableName()] ?? []) as typeof pending;
      if (pending.length) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    }
  };
  const launch = async (chunk: Record<string, unknown>[]) => {
    const p = flush(chunk);
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    if (inflight.size >= parallel) await Promise.race(inflight);
  };
  for (let i = from; i < to; i++) {
    buffer.push(...items(seedRecipient(i, o)));
    while (buffer.length >= 25) await launch(buffer.splice(0, 25));
  }
  if (buffer.length) await launch(buffer);
  buffer = [];
  await Promise.all([...inflight]);
}
