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
 * nothing; accounts are created ACTIVE once and never have their state touched here.
 * Returns false when the event was stale.
 */
export async function upsertCustomerProfile(p: CustomerProfileUpserted, now = new Date()): Promise<boolean> {
  const updatedAt = now.toISOString();
  const customer: CustomerRecord = {
    customerId: p.customerId,
    ...(p.displayName ? { displayName: p.displayName } : {}),
    ...(p.email ? { email: p.email } : {}),
    ...(p.phone ? { phone: p.phone } : {}),
    locale: p.locale,
    accountIds: p.accounts.map((a) => a.accountId),
    preferences: p.preferences,
    profileOccurredAt: p.occurredAt,
    updatedAt,
  };
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: tableName(),
              Item: {
                ...key.customer(p.customerId),
                ...customer,
                ...(p.phone ? { phoneKey: key.phoneIndex(p.phone) } : {}),
                ...(p.email ? { emailKey: key.emailIndex(p.email) } : {}),
              },
              ConditionExpression: 'attribute_not_exists(pk) OR profileOccurredAt <= :t',
              ExpressionAttributeValues: { ':t': p.occurredAt },
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
        ],
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
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
