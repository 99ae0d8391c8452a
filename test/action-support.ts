/**
 * Shared fixtures of the action, authorise and unfreeze tests: a fresh table, the local
 * EventBridge peer (so published events can be counted), seeded customers/accounts/links/tokens,
 * API Gateway (payload 2.0) events, and a snapshot of everything an action could change.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { setupTestEnv, TEST_PEPPER } from './support/env.ts';
import { startLocalEventBridge, type LocalEventBridge } from '../local/eventbridge-endpoint.ts';
import { lambdaContext } from '../local/handlers.ts';
import { resetTokenPeppers } from '../src/adapters/pepper.ts';
import { upsertCustomerProfile } from '../src/store/customers.ts';
import { createLink } from '../src/store/links.ts';
import { issueToken } from '../src/store/tokens.ts';
import { db, tableName } from '../src/store/db.ts';
import { key } from '../src/store/table.ts';
import type { TokenAction } from '../src/domain/tokens.ts';
import type { TokenRecord } from '../src/store/types.ts';
import { canonicalJson } from './support/canonical-json.ts';

export { TEST_PEPPER };

export interface ActionEnv {
  bridge: LocalEventBridge;
  tableName: string;
}

export async function setupActionEnv(extra: Record<string, string> = {}): Promise<ActionEnv> {
  const bridge = await startLocalEventBridge();
  const env = await setupTestEnv({ AWS_ENDPOINT_URL_EVENTBRIDGE: bridge.endpoint, EVENT_BUS_NAME: 'default', POWERTOOLS_METRICS_DISABLED: 'true', ...extra });
  resetTokenPeppers();
  return { bridge, tableName: env.tableName };
}

let seq = 0;
/** A unique suffix per fixture, so tests in one file never share an account. */
export const uniq = (p: string) => `${p}-${process.pid}-${++seq}`;

export async function seedAccount(opts: { accountId?: string; customerId?: string; locale?: 'ja' | 'en'; last4?: string } = {}) {
  const accountId = opts.accountId ?? uniq('acct');
  const customerId = opts.customerId ?? uniq('cust');
  await upsertCustomerProfile({
    eventId: uniq('evt'),
    occurredAt: new Date().toISOString(),
    customerId,
    locale: opts.locale ?? 'ja',
    email: `${customerId}@example.jp`,
    accounts: [{ accountId, last4: opts.last4 ?? '1234' }],
    preferences: { withdrawals: 'LINKED_AND_CARDLESS', withdrawalThreshold: 50_000, marketingOptOut: false },
  });
  return { accountId, customerId };
}

export async function seedLink(
  accountId: string,
  customerId: string,
  opts: { linkId?: string; createdAt?: Date; holdHours?: number; providerName?: string } = {},
) {
  const linkId = opts.linkId ?? uniq('lnk');
  const createdAt = opts.createdAt ?? new Date();
  await createLink({
    accountId,
    linkId,
    customerId,
    providerId: 'dwallet',
    providerName: opts.providerName ?? 'D-Wallet',
    linkType: 'EPAY',
    createdAt: createdAt.toISOString(),
    holdUntil: new Date(createdAt.getTime() + (opts.holdHours ?? 24) * 3_600_000).toISOString(),
  });
  return linkId;
}

export async function issue(accountId: string, customerId: string, actions: TokenAction[], opts: { alertId?: string; ttlDays?: number; now?: Date } = {}) {
  const alertId = opts.alertId ?? uniq('al');
  const { token, record } = await issueToken(
    { accountId, customerId, alertId, actions },
    { pepper: TEST_PEPPER, ttlDays: opts.ttlDays ?? 7, ...(opts.now ? { now: opts.now } : {}) },
  );
  return { token, record, alertId };
}

/** An account with a fresh PENDING link and a token offering freeze, revoke and confirm. */
export async function seedAlertScenario(opts: { locale?: 'ja' | 'en' } = {}) {
  const { accountId, customerId } = await seedAccount(opts);
  const linkId = await seedLink(accountId, customerId);
  const { token, record, alertId } = await issue(accountId, customerId, [
    { kind: 'FREEZE_ACCOUNT' },
    { kind: 'REVOKE_LINK', linkId },
    { kind: 'CONFIRM_LINK', linkId },
  ]);
  return { accountId, customerId, linkId, token, record, alertId };
}

export function httpEvent(opts: {
  method: 'GET' | 'POST';
  path: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
  operatorId?: string;
  /** Cognito groups of the operator; default: an operator who is also an approver. */
  groups?: string[];
}): APIGatewayProxyEventV2 {
  const body = opts.body === undefined ? undefined : opts.base64 ? Buffer.from(opts.body).toString('base64') : opts.body;
  return {
    version: '2.0',
    routeKey: `${opts.method} ${opts.path}`,
    rawPath: opts.path,
    rawQueryString: new URLSearchParams(opts.query ?? {}).toString(),
    headers: opts.headers ?? {},
    ...(opts.query ? { queryStringParameters: opts.query } : {}),
    ...(opts.pathParameters ? { pathParameters: opts.pathParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method: opts.method, path: opts.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'vitest' },
      requestId: uniq('req'),
      routeKey: `${opts.method} ${opts.path}`,
      stage: '$default',
      time: '',
      timeEpoch: Date.now(),
      ...(opts.operatorId !== undefined
        ? { authorizer: { jwt: { claims: { sub: opts.operatorId, 'cognito:groups': `[${(opts.groups ?? ['operators', 'approvers']).join(' ')}]` }, scopes: null } } }
        : {}),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: Boolean(opts.base64),
  } as APIGatewayProxyEventV2;
}

/**
 * Imports a Lambda entry point after the environment is set, as the Lambda runtime does: the
 * Powertools logger and metrics read their settings when the module loads.
 */
export async function loadHandler(name: 'action' | 'authorize' | 'ops'): Promise<Handler> {
  const mod = (await import(`../functions/${name}/handler.ts`)) as { handler: Handler };
  return mod.handler;
}

export type Handler = (event: never, context: ReturnType<typeof lambdaContext>) => Promise<unknown>;

export async function invoke(handler: Handler, event: APIGatewayProxyEventV2, name = 'test'): Promise<APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string; headers: Record<string, string> }> {
  const out = (await handler(event as never, lambdaContext(name))) as APIGatewayProxyStructuredResultV2;
  return out as APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string; headers: Record<string, string> };
}

/** Every item of the account's partition and the token's item: what any action could change. */
export async function snapshot(accountId: string, tokenHashes: string[] = []): Promise<string> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': key.account(accountId).pk },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  for (const h of tokenHashes) {
    const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.token(h), ConsistentRead: true }));
    items.push(out.Item ?? { missing: h });
  }
  return canonicalJson(items);
}

export async function readToken(tokenHash: string): Promise<TokenRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: key.token(tokenHash), ConsistentRead: true }));
  return out.Item as TokenRecord | undefined;
}

/** Extracts the hidden fields of the form whose action is `actionKey` from a rendered page. */
export function formFields(html: string, actionKey: string): { action: string; check: string } | undefined {
  const forms = html.split('<form').slice(1);
  for (const f of forms) {
    const action = /name="action" value="([^"]*)"/.exec(f)?.[1];
    const check = /name="check" value="([^"]*)"/.exec(f)?.[1];
    if (action === actionKey && check) return { action, check };
  }
  return undefined;
}

export const formBody = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
