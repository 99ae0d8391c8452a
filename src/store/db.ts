/** The table name and document client every store module uses. */
import { awsClients } from '../adapters/clients.ts';
import { runtimeConfig } from '../config.ts';

export const db = () => awsClients().doc;
export const tableName = () => runtimeConfig().TABLE_NAME;

/** True for a failed condition, alone or inside a cancelled transaction. */
export function isConditionFailure(e: unknown): boolean {
  const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
  if (err?.name === 'ConditionalCheckFailedException') return true;
  return err?.name === 'TransactionCanceledException' && (err.CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}
