/** Shared by the fraud-operations tests: the ops handler as API Gateway calls it, links of a given provider. */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { httpEvent, invoke, uniq, type Handler } from './action-support.ts';
import { createLink } from '../src/store/links.ts';
import { db, tableName } from '../src/store/db.ts';

export async function callOps(handler: Handler, method: 'GET' | 'POST', path: string, operatorId: string, body?: unknown, groups?: string[]) {
  const res = await invoke(
    handler,
    httpEvent({ method, path, operatorId, ...(groups ? { groups } : {}), headers: { 'content-type': 'application/json' }, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) }),
    'ops',
  );
  const parsed = res.headers['content-type']?.startsWith('application/json') ? (JSON.parse(res.body) as Record<string, unknown>) : { text: res.body };
  return { status: res.statusCode, body: parsed, headers: res.headers };
}

export async function providerLink(accountId: string, customerId: string, providerId: string, opts: { createdAt?: Date; holdHours?: number } = {}) {
  const linkId = uniq('lnk');
  const createdAt = opts.createdAt ?? new Date();
  await createLink({
    accountId,
    linkId,
    customerId,
    providerId,
    providerName: `Wallet ${providerId}`,
    linkType: 'EPAY',
    createdAt: createdAt.toISOString(),
    holdUntil: new Date(createdAt.getTime() + (opts.holdHours ?? 24) * 3_600_000).toISOString(),
  });
  return linkId;
}

/** Every item of a partition: "nothing changed" compares these before and after. */
export async function partition(pk: string): Promise<string> {
  const out = await db().send(new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true }));
  return JSON.stringify(out.Items ?? []);
}
