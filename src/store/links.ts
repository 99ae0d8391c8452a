/** Links between an account and an e-payment service or cardless-ATM app. */
import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName, isConditionFailure, queryByPrefix } from './db.ts';
import { key } from './table.ts';
import type { LinkRecord } from './types.ts';

/** Audience index attributes: present only while the link is PENDING or ACTIVE (sparse). */
export function audienceAttributes(l: Pick<LinkRecord, 'providerId' | 'accountId' | 'linkId'>) {
  return { audiencePk: l.providerId, audienceSk: `${l.accountId}#${l.linkId}` };
}

/**
 * Records a new link as PENDING, or SUSPENDED when operations have suspended its provider's new
 * links (src/fraud/providers). The provider check is part of the same transaction, so a link
 * committed after the suspension is always SUSPENDED. The same link seen again (redelivery)
 * changes nothing.
 */
export async function createLink(link: Omit<LinkRecord, 'state' | 'version' | 'updatedAt'>, now = new Date()): Promise<boolean> {
  const record: LinkRecord = { ...link, state: 'PENDING', version: 0, updatedAt: now.toISOString() };
  try {
    await db().send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: tableName(),
              Key: key.providerControl(link.providerId),
              ConditionExpression: 'attribute_not_exists(pk) OR suspended <> :t',
              ExpressionAttributeValues: { ':t': true },
            },
          },
          { Put: { TableName: tableName(), Item: { ...key.link(link.accountId, link.linkId), ...record, ...audienceAttributes(link) }, ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    return true;
  } catch (e) {
    if (!isConditionFailure(e)) throw e;
    const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
    if (reasons[1]?.Code === 'ConditionalCheckFailed' || reasons[0]?.Code !== 'ConditionalCheckFailed') return false;
  }
  // The provider is suspended: the link exists for the record (and the alert), but nothing goes through it.
  // Not in the Audience index: it is no live link for campaigns.
  try {
    await db().send(
      new PutCommand({
        TableName: tableName(),
        Item: { ...key.link(link.accountId, link.linkId), ...record, state: 'SUSPENDED', suspendedAt: now.toISOString() },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    throw e;
  }
}

/** Whether operations have suspended new links to this provider (strongly consistent). */
export async function isProviderSuspended(providerId: string): Promise<boolean> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.providerControl(providerId), ConsistentRead: true, ProjectionExpression: 'suspended' }));
  return out.Item?.suspended === true;
}

export async function getLink(accountId: string, linkId: string, consistent = true): Promise<LinkRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.link(accountId, linkId), ConsistentRead: consistent }));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, audiencePk: _a, audienceSk: _s, ...rest } = out.Item;
  return rest as LinkRecord;
}

export async function listLinks(accountId: string): Promise<LinkRecord[]> {
  const items = await queryByPrefix(key.account(accountId).pk, 'LINK#', { consistent: true });
  return items.map(({ pk: _pk, sk: _sk, audiencePk: _a, audienceSk: _s, ...rest }) => rest as unknown as LinkRecord);
}
