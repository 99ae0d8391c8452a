/**
 * The operations API's request/response shapes and router. Each src/ops/<area>.ts module exports
 * one function `(req) => Promise<OpsResponse | undefined>` answering its own routes and
 * undefined for any other, and functions/ops/handler.ts lists the modules; adding an area is one
 * line there.
 */

export interface OpsRequest {
  method: string;
  /** Path as received, e.g. /ops/accounts/acc-1/unfreeze-requests (API Gateway's rawPath). */
  path: string;
  query: Record<string, string | undefined>;
  /** The signed-in operator (JWT `sub` from the authorizer; the dev login locally). */
  operatorId: string;
  /** The operator's Cognito groups (`operators`, `approvers`), from the `cognito:groups` claim. */
  groups: string[];
  /** The raw body (decoded from base64 when API Gateway encoded it); '' when none. */
  body: string;
  headers: Record<string, string | undefined>;
}

export interface OpsResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type OpsModule = (req: OpsRequest) => Promise<OpsResponse | undefined>;

export const opsJson = (statusCode: number, body: unknown): OpsResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** A refusal naming its reason code and, for bad input, the field. */
export const opsProblem = (statusCode: number, error: string, message: string, field?: string): OpsResponse =>
  opsJson(statusCode, { error, message, ...(field ? { field } : {}) });

/** The first module that knows the route answers; none: 404. */
export async function routeOps(modules: readonly OpsModule[], req: OpsRequest): Promise<OpsResponse> {
  for (const m of modules) {
    const res = await m(req);
    if (res) return res;
  }
  return opsProblem(404, 'NOT_FOUND', `no operations route ${req.method} ${req.path}`);
}

/** Builds the request from an API Gateway HTTP API (payload 2.0) event; undefined without an operator. */
export function opsRequestFromEvent(event: {
  rawPath?: string;
  body?: string;
  isBase64Encoded?: boolean;
  headers?: Record<string, string | undefined>;
  requestContext?: { http?: { method?: string; path?: string }; authorizer?: { jwt?: { claims?: Record<string, unknown> } } };
  queryStringParameters?: Record<string, string | undefined> | null;
}): OpsRequest | undefined {
  const operatorId = event.requestContext?.authorizer?.jwt?.claims?.sub;
  if (typeof operatorId !== 'string' || operatorId === '') return undefined;
  const raw = event.body ?? '';
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? event.requestContext?.http?.path ?? '',
    query: event.queryStringParameters ?? {},
    operatorId,
    groups: parseGroups(event.requestContext?.authorizer?.jwt?.claims?.['cognito:groups']),
    body: event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw,
    headers: event.headers ?? {},
  };
}

/**
 * API Gateway's JWT authoriser flattens the `cognito:groups` array into a string "[a b]"; a
 * direct invocation may carry the array itself.
 */
export function parseGroups(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string');
  if (typeof claim !== 'string') return [];
  return claim.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
}
