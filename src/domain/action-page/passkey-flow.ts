/**
 * The passkey calls of the action page's script: POST /a/{token}/passkey/{op}, JSON in and out.
 *   auth-options     -> WebAuthn request options for the customer's passkeys (challenge stored)
 *   auth-verify      -> the assertion checked; right: released (challenge spent, counter moved)
 *   register-options -> creation options, only with the secret of a code confirmation just made
 *   register-verify  -> the new passkey stored and audited
 * Each carries the page's form fields (action + check), so only our page's script can call, for
 * an action the token offers; JSON only (a cross-site form cannot send it without a preflight we
 * never grant). Bad input: 400 naming the field, nothing changed.
 */
import * as z from 'zod';
import type { TokenRecord } from '../../store/types.ts';
import { actionKey, isWellFormedToken, type TokenAction } from '../tokens.ts';
import { isReleasing, offeredActions, readActionForm } from './flow.ts';
import type { Subject } from './service.ts';

export const PASSKEY_OPS = ['auth-options', 'auth-verify', 'register-options', 'register-verify'] as const;
export type PasskeyOp = (typeof PASSKEY_OPS)[number];

export interface JsonResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

export type PasskeyCall<T> = Promise<({ ok: true } & T) | { ok: false; error: string }>;

export interface PasskeyPorts {
  peppers(): Promise<readonly string[]>;
  findToken(token: string, peppers: readonly string[]): Promise<TokenRecord | undefined>;
  loadSubject(record: TokenRecord, opts?: { withAlert: boolean }): Promise<Subject>;
  authOptions(record: TokenRecord, key: string, now: Date): PasskeyCall<{ options: unknown }>;
  authVerify(record: TokenRecord, action: TokenAction, key: string, response: unknown, now: Date): PasskeyCall<{ changed: boolean; eventPublished?: boolean }>;
  registerOptions(record: TokenRecord, key: string, secret: string, label: string, now: Date): PasskeyCall<{ options: unknown }>;
  registerVerify(record: TokenRecord, key: string, secret: string, response: unknown, now: Date): PasskeyCall<{ credentialRef: string }>;
}

export interface PasskeyRequest {
  token: string;
  op: string;
  body: string;
  contentType?: string | undefined;
  lang?: string | undefined;
  now: Date;
}

export interface PasskeyResult {
  response: JsonResponse;
  log: { outcome: string; accountId?: string; alertId?: string; op?: string; changed?: boolean; eventPublished?: boolean };
}

const MAX_BODY = 16 * 1024;

const json = (statusCode: number, body: Record<string, unknown>): JsonResponse => ({
  statusCode,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  },
  body: JSON.stringify(body),
});

const Body = z
  .object({
    action: z.string().min(1).max(100),
    check: z.string().min(1).max(64),
    secret: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/).optional(),
    // The WebAuthn response's shape is checked by the verifier (@simplewebauthn/server).
    response: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export async function handlePasskeyRequest(req: PasskeyRequest, ports: PasskeyPorts): Promise<PasskeyResult> {
  const fail = (statusCode: number, error: string, extra: Record<string, unknown> = {}, log: Partial<PasskeyResult['log']> = {}): PasskeyResult => ({
    response: json(statusCode, { ok: false, error, ...extra }),
    log: { outcome: error, op: req.op, ...log },
  });
  if (!(PASSKEY_OPS as readonly string[]).includes(req.op)) return fail(404, 'UNKNOWN_OPERATION', { field: 'op' });
  const op = req.op as PasskeyOp;
  if (!isWellFormedToken(req.token)) return fail(404, 'INVALID_LINK');
  if (!/^application\/json\b/i.test(req.contentType ?? '')) return fail(415, 'JSON_REQUIRED', { field: 'content-type' });
  if (Buffer.byteLength(req.body, 'utf8') > MAX_BODY) return fail(413, 'TOO_LARGE', { field: 'body' });
  let raw: unknown;
  try {
    raw = JSON.parse(req.body);
  } catch {
    return fail(400, 'INVALID_JSON', { field: 'body' });
  }
  const parsed = Body.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'body';
    return fail(400, 'INVALID_REQUEST', { field });
  }
  const b = parsed.data;
  const needsSecret = op.startsWith('register');
  const needsResponse = op.endsWith('verify');
  if (needsSecret && !b.secret) return fail(400, 'INVALID_REQUEST', { field: 'secret' });
  if (!needsSecret && b.secret) return fail(400, 'INVALID_REQUEST', { field: 'secret' });
  if (needsResponse !== (b.response !== undefined)) return fail(400, 'INVALID_REQUEST', { field: 'response' });

  const peppers = await ports.peppers();
  const record = await ports.findToken(req.token, peppers);
  if (!record) return fail(404, 'INVALID_LINK');
  const ids = { accountId: record.accountId, alertId: record.alertId };
  if (req.now.getTime() >= Date.parse(record.expiresAt)) return fail(410, 'EXPIRED', {}, ids);
  // The same proof as the page's forms: this action, on this token's page.
  const form = readActionForm(new URLSearchParams({ action: b.action, check: b.check }).toString(), record.tokenHash, peppers);
  if (!form.ok) return fail(400, 'BAD_FORM', { field: 'check' }, ids);
  if (!isReleasing(form.action) || !record.actions.some((a) => actionKey(a) === form.key)) return fail(403, 'NOT_OFFERED', { field: 'action' }, ids);
  const key = form.key;

  if (!needsSecret) {
    const subject = await ports.loadSubject(record, { withAlert: false });
    const offered = offeredActions(record, subject.account, subject.links).find((o) => o.key === key);
    if (!offered?.available) return fail(409, 'NOT_AVAILABLE', {}, ids);
    if (op === 'auth-options') {
      const r = await ports.authOptions(record, key, req.now);
      return r.ok ? { response: json(200, { ok: true, options: r.options }), log: { outcome: 'OPTIONS', op, ...ids } } : fail(409, r.error, {}, ids);
    }
    const r = await ports.authVerify(record, form.action, key, b.response, req.now);
    if (!r.ok) return fail(r.error === 'NOT_VERIFIED' || r.error === 'NO_CHALLENGE' ? 403 : 409, r.error, {}, ids);
    const next = `${req.token}?lang=${req.lang === 'en' ? 'en' : 'ja'}`;
    return {
      response: json(200, { ok: true, changed: r.changed, next }),
      log: { outcome: r.changed ? 'CHANGED' : 'UNCHANGED', op, ...ids, changed: r.changed, ...(r.eventPublished !== undefined ? { eventPublished: r.eventPublished } : {}) },
    };
  }

  // Registration: right after this token's own code confirmation, from the browser that typed it.
  if (!record.used?.[key]) return fail(409, 'NOT_CONFIRMED', {}, ids);
  if (op === 'register-options') {
    const subject = await ports.loadSubject(record, { withAlert: false });
    const last4 = subject.account?.last4;
    const label = `Example Bank${last4 ? ` ...${last4}` : ''}`;
    const r = await ports.registerOptions(record, key, b.secret!, label, req.now);
    return r.ok ? { response: json(200, { ok: true, options: r.options }), log: { outcome: 'OPTIONS', op, ...ids } } : fail(403, r.error, {}, ids);
  }
  const r = await ports.registerVerify(record, key, b.secret!, b.response, req.now);
  return r.ok ? { response: json(200, { ok: true }), log: { outcome: 'REGISTERED', op, ...ids } } : fail(r.error === 'CONFLICT' ? 409 : 403, r.error, {}, ids);
}
