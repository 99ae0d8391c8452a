/**
 * What the fraud-operations modules share: the transaction helper (a lost race is `false`, not an
 * error), partner events through the same outbox as the actions store (OUTBOX#{shard} items in
 * the change's transaction, published after the commit, swept by republishPendingEvents when
 * EventBridge failed), audit entries of provider controls, bad-input and refusal errors.
 */
import { randomUUID } from 'node:crypto';
import { DeleteCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertingEvent } from '../../events/alerting.ts';
import { publishEvents } from '../adapters/publisher.ts';
import { db, isConditionFailure, tableName } from '../store/db.ts';
import { key, TTL_ATTRIBUTE } from '../store/table.ts';
import type { AuditEntry } from '../store/types.ts';

export type TransactItem = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>[number];

/** Runs one transaction; false when a condition failed or another transaction held an item. */
export async function transact(items: TransactItem[]): Promise<boolean> {
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (e) {
    if (isConditionFailure(e)) return false;
    const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
    if (err.name === 'TransactionConflictException') return false;
    if (err.name === 'TransactionCanceledException' && (err.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict')) return false;
    throw e;
  }
}

const OUTBOX_SHARDS = 4;
const OUTBOX_TTL_SECONDS = 14 * 86_400;

export interface Outboxed {
  event: AlertingEvent;
  key: { pk: string; sk: string };
}

/** The event of a change, as an outbox item to write in the change's transaction. */
export function outboxed(event: AlertingEvent, at: string): { o: Outboxed; put: TransactItem } {
  const id = randomUUID();
  const o: Outboxed = { event, key: { pk: `OUTBOX#${parseInt(id.slice(0, 2), 16) % OUTBOX_SHARDS}`, sk: `${at}#${id}` } };
  return {
    o,
    put: {
      Put: {
        TableName: tableName(),
        Item: { ...o.key, detailType: event.detailType, detail: event.detail, [TTL_ATTRIBUTE]: Math.floor(Date.now() / 1000) + OUTBOX_TTL_SECONDS },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  };
}

/** After the commit: publish and clear the outbox item; false leaves it for the sweep. */
export async function publishCommitted(o: Outboxed): Promise<boolean> {
  try {
    await publishEvents([o.event]);
  } catch {
    return false;
  }
  await db()
    .send(new DeleteCommand({ TableName: tableName(), Key: o.key }))
    .catch(() => undefined);
  return true;
}

/**
 * An audit entry of a provider control: PROVIDER#{id} / AUDIT#{at}#{entryId}, in the AuditByDay
 * index like the accounts' (so the operations export has it); accountId is empty, the target
 * names the provider.
 */
export function providerAuditPut(providerId: string, entry: Omit<AuditEntry, 'entryId' | 'accountId' | 'target'>): TransactItem {
  const entryId = randomUUID();
  const full: AuditEntry = { ...entry, accountId: '', target: `PROVIDER#${providerId}`, entryId };
  return {
    Put: {
      TableName: tableName(),
      Item: { pk: `PROVIDER#${providerId}`, sk: `AUDIT#${entry.at}#${entryId}`, ...full, auditDay: key.auditDay(entry.at, entryId) },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** Bad input: HTTP 400 naming the field; nothing was changed. */
export class FraudInputError extends Error {
  override readonly name = 'FraudInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A refused operation: HTTP status and a reason code; nothing was changed. */
export class FraudRefusedError extends Error {
  override readonly name = 'FraudRefusedError';
  constructor(
    readonly status: 403 | 404 | 409,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export { isConditionFailure };
