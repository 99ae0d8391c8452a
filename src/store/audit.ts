/** The audit trail: one entry per state change, written in the same transaction as the change. */
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './db.ts';
import { key } from './table.ts';
import type { AuditEntry } from './types.ts';

/** The Put of an audit entry, to include in the transaction that makes the change. */
export function auditPut(entry: Omit<AuditEntry, 'entryId'> & { entryId?: string }) {
  const full: AuditEntry = { ...entry, entryId: entry.entryId ?? randomUUID() };
  return {
    Put: {
      TableName: tableName(),
      Item: { ...key.audit(full.accountId, full.at, full.entryId), ...full, auditDay: key.auditDay(full.at, full.entryId) },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Audit entries of an account, oldest first, optionally within [from, to). */
export async function listAudit(accountId: string, range: { from?: string; to?: string } = {}): Promise<AuditEntry[]> {
  const items: AuditEntry[] = [];
  let start: Record<string, unknown> | undefined;
  const pk = key.account(accountId).pk;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': pk, ':a': `AUDIT#${range.from ?? ''}`, ':b': `AUDIT#${range.to ?? '\uffff'}` },
        ExclusiveStartKey: start,
      }),
    );
    for (const i of out.Items ?? []) {
      const { pk: _pk, sk: _sk, auditDay: _d, ...rest } = i;
      items.push(rest as AuditEntry);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
}
