/**
 * Action tokens. A token is 22 base64url characters carrying 128 random bits: short enough that a
 * Japanese SMS keeps its link inside two UCS-2 segments, long enough that it cannot be guessed.
 * Only an HMAC of it (keyed with a pepper kept outside the table) is stored, so a leaked table
 * yields no usable links. A token is bound to one alert and one account, lists the protective
 * actions that alert offered, expires, and each action can be used once.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_LENGTH = 22;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export type TokenAction =
  | { kind: 'FREEZE_ACCOUNT' }
  | { kind: 'REVOKE_LINK'; linkId: string }
  | { kind: 'CONFIRM_LINK'; linkId: string }
  /**
   * A cardless-ATM app activation, held like a link (src/holds/). "Deactivate this app" is
   * protective (one tap, like revoke); "it was me" releases money (step-up, like CONFIRM_LINK).
   * activationId: the AppActivated event's eventId, so a new activation of the same app (an
   * impostor's device) is a new hold that an older alert cannot release.
   */
  | { kind: 'DEACTIVATE_APP'; activationId: string }
  | { kind: 'CONFIRM_APP'; activationId: string };
export type TokenActionKind = TokenAction['kind'];

/** Stable name of an action within a token, used for the once-per-action mark. */
export function actionKey(a: TokenAction): string {
  if (a.kind === 'FREEZE_ACCOUNT') return a.kind;
  return a.kind === 'DEACTIVATE_APP' || a.kind === 'CONFIRM_APP' ? `${a.kind}:${a.activationId}` : `${a.kind}:${a.linkId}`;
}

export interface TokenGrant {
  accountId: string;
  customerId: string;
  alertId: string;
  actions: TokenAction[];
  issuedAt: string;
  expiresAt: string;
  /** The channel whose message carries the token; the step-up code for "it was me" goes to the other. */
  channel?: 'EMAIL' | 'SMS';
}

export function generateToken(): string {
  // 16 bytes -> 22 base64url characters without padding.
  return randomBytes(16).toString('base64url');
}

/** Cheap shape check before any hashing or lookup: rejects truncated, padded, long and non-ASCII input. */
export function isWellFormedToken(candidate: unknown): candidate is string {
  return typeof candidate === 'string' && candidate.length === TOKEN_LENGTH && TOKEN_PATTERN.test(candidate);
}

/** The table key of a token: HMAC-SHA256(pepper, token), base64url. */
export function hashToken(token: string, pepper: string): string {
  return createHmac('sha256', pepper).update(token, 'utf8').digest('base64url');
}

export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function tokenExpiry(issuedAt: Date, ttlDays: number): Date {
  return new Date(issuedAt.getTime() + ttlDays * 86_400_000);
}

export type TokenRejection = 'MALFORMED' | 'UNKNOWN' | 'EXPIRED' | 'ACTION_NOT_OFFERED' | 'ALREADY_USED';

/** Whether a stored grant allows `action` at `now`; `usedActions` are the keys already spent. */
export function checkGrant(
  grant: TokenGrant,
  action: TokenAction,
  usedActions: readonly string[],
  now: Date,
): { ok: true } | { ok: false; reason: TokenRejection } {
  if (now.getTime() >= Date.parse(grant.expiresAt)) return { ok: false, reason: 'EXPIRED' };
  const key = actionKey(action);
  if (!grant.actions.some((a) => actionKey(a) === key)) return { ok: false, reason: 'ACTION_NOT_OFFERED' };
  if (usedActions.includes(key)) return { ok: false, reason: 'ALREADY_USED' };
  return { ok: true };
}
