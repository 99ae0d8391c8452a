/** Customers and accounts: the projection of the core's profile events, and reverse lookups. */
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { CustomerProfileUpserted } from '../../events/core.ts';
import { db, tableName, isConditionFailure } from './db.ts';
import { key } from './table.ts';
import type { AccountRecord, CustomerRecord } from './types.ts';

function strip<T extends Record<string, unknown>>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, phoneKey: _p, emailKey: _e, audiencePk: _a, audienceSk: _s, ttl: _t, ...rest } = item;
  return rest as T;
}

/**
 * Applies a profile event. An older event than the one applied (out-of-order delivery) changes
 * nothing; accounts are created ACTIVE once and never have their state touched here. Attributes
 * other modules keep on the profile (suppression after bounces, counters) survive, except that a
 * suppression is lifted when its address or number changes. Returns false when the event was stale.
 */
export async function upsertCustomerProfile(p: CustomerProfileUpserted, now = new Date()): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    const current = await getCustomer(p.customerId, true);
    if (current && current.profileOccurredAt > p.occurredAt) return false;
    try {
      await db().send(new TransactWriteCommand({ TransactItems: profileWrites(p, current, now.toISOString()) }));
      return true;
    } catch (e) {
      // Another profile event landed between the read and the write: read again and re-decide.
      if (isConditionFailure(e) && attempt < 5) continue;
      throw e;
    }
  }
}

function profileWrites(p: CustomerProfileUpserted, current: CustomerRecord | undefined, updatedAt: string) {
  const set: Record<string, unknown> = {
    customerId: p.customerId,
    locale: p.locale,
    accountIds: p.accounts.map((a) => a.accountId),
    preferences: p.preferences,
    profileOccurredAt: p.occurredAt,
    updatedAt,
    displayName: p.displayName,
    email: p.email,
    phone: p.phone,
    phoneKey: p.phone ? key.phoneIndex(p.phone) : undefined,
    emailKey: p.email ? key.emailIndex(p.email) : undefined,
  };
  const remove = Object.keys(set).filter((k) => set[k] === undefined);
  if (current?.email !== p.email) remove.push('suppressedEmail', 'suppressedEmailAt', 'suppressedEmailReason');
  if (current?.phone !== p.phone) remove.push('suppressedPhone', 'suppressedPhoneAt', 'suppressedPhoneReason');
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(set)
    .filter(([, v]) => v !== undefined)
    .map(([k, v], i) => {
      names[`#s${i}`] = k;
      values[`:s${i}`] = v;
      return `#s${i} = :s${i}`;
    });
  const removes = remove.map((k, i) => {
    names[`#r${i}`] = k;
    return `#r${i}`;
  });
  if (current) {
    names['#t'] = 'profileOccurredAt';
    values[':prevT'] = current.profileOccurredAt;
  }
  return [
    {
      Update: {
        TableName: tableName(),
        Key: key.customer(p.customerId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        // Optimistic: nothing else applied a profile since the read that decided the removals.
        ConditionExpression: current ? '#t = :prevT' : 'attribute_not_exists(pk)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    },
    ...p.accounts.map((a) => ({
      Update: {
        TableName: tableName(),
        Key: key.account(a.accountId),
        UpdateExpression:
          'SET accountId = :a, customerId = :c, last4 = :l, updatedAt = :u, #s = if_not_exists(#s, :active), version = if_not_exists(version, :zero)',
        ExpressionAttributeNames: { '#s': 'state' },
        ExpressionAttributeValues: { ':a': a.accountId, ':c': p.customerId, ':l': a.last4, ':u': updatedAt, ':active': 'ACTIVE', ':zero': 0 },
      },
    })),
  ];
}

export async function getCustomer(customerId: string, consistent = false): Promise<CustomerRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.customer(customerId), ConsistentRead: consistent }));
  return strip<CustomerRecord & Record<string, unknown>>(out.Item);
}

/** Strongly consistent by default: decisions depend on the latest state. */
export async function getAccount(accountId: string, consistent = true): Promise<AccountRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.account(accountId), ConsistentRead: consistent }));
  return strip<AccountRecord & Record<string, unknown>>(out.Item);
}

async function lookupCustomerId(indexName: 'ByPhone' | 'ByEmail', attr: string, value: string): Promise<string[]> {
  const out = await db().send(
    new QueryCommand({
      TableName: tableName(),
      IndexName: indexName,
      KeyConditionExpression: '#k = :v',
      ExpressionAttributeNames: { '#k': attr },
      ExpressionAttributeValues: { ':v': value },
      Limit: 10,
    }),
  );
  return (out.Items ?? []).map((i) => String(i.customerId));
}

/** Customers whose profile has this E.164 number (normally one; several means shared phone). */
export const findCustomersByPhone = (e164: string) => lookupCustomerId('ByPhone', 'phoneKey', key.phoneIndex(e164));
export const findCustomersByEmail = (email: string) => lookupCustomerId('ByEmail', 'emailKey', key.emailIndex(email));
