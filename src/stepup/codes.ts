/**
 * Step-up by one-time code: the rules, in plain TypeScript (no AWS). "It was me" releases money,
 * so it needs something a link scanner and a mailbox thief lack: a 6-digit code sent to the
 * customer's OTHER channel (page opened from the email: the code goes by SMS; from the SMS: by
 * email; one channel on file: that one, and the page says so).
 *
 * One challenge per (alert, releasing action): new codes replace the old one, wrong tries add up
 * across codes (asking for a new code never buys more guesses), and the last allowed wrong try
 * locks that confirmation for good. Freeze and revoke are never gated.
 */
import { createHmac, randomInt } from 'node:crypto';
import { sameHash } from '../domain/tokens.ts';

export const CODE_DIGITS = 6;

export type CodeChannel = 'SMS' | 'EMAIL';

export interface StepUpPolicy {
  /** A code is valid this long after it was sent. */
  codeTtlMinutes: number;
  /** Wrong tries (over all codes of one confirmation) that lock it. */
  maxAttempts: number;
  /** A new code for the same confirmation no sooner than this after the last one. */
  resendAfterSeconds: number;
  /** Codes per confirmation, ever. */
  maxSendsPerConfirmation: number;
  /** Codes per customer per clock hour, over all alerts (nobody floods a phone through us). */
  maxSendsPerCustomerPerHour: number;
}

export const DEFAULT_POLICY: StepUpPolicy = {
  codeTtlMinutes: 10,
  maxAttempts: 5,
  resendAfterSeconds: 60,
  maxSendsPerConfirmation: 3,
  maxSendsPerCustomerPerHour: 6,
};

/** The stored state of one confirmation's step-up (hashes only, never a code). */
export interface CodeChallenge {
  accountId: string;
  customerId: string;
  alertId: string;
  actionKey: string;
  /** The token whose page asked for the current code: the code works only there. */
  tokenHash: string;
  channel: CodeChannel;
  codeHash: string;
  sentAt: string;
  expiresAt: string;
  /** Codes sent for this confirmation. */
  sends: number;
  /** Wrong tries over all codes of this confirmation. */
  failures: number;
  lockedAt?: string;
  /** When the current code was spent (in the confirm's own transaction). */
  consumedAt?: string;
  version: number;
}

/** Six digits from a CSPRNG, leading zeros kept. */
export function generateCode(): string {
  return String(randomInt(0, 10 ** CODE_DIGITS)).padStart(CODE_DIGITS, '0');
}

export interface CodeBinding {
  alertId: string;
  actionKey: string;
  tokenHash: string;
}

/**
 * HMAC(pepper, binding + code): the table never holds a code, and a code only matches the alert,
 * action and page (token) it was sent for, so another alert's code is simply wrong.
 */
export function hashCode(pepper: string, b: CodeBinding, code: string): string {
  return createHmac('sha256', pepper).update(`stepup|${b.alertId}|${b.actionKey}|${b.tokenHash}|${code}`, 'utf8').digest('base64url');
}

/**
 * What the customer typed, as six ASCII digits: full-width digits (NFKC), spaces and hyphens are
 * forgiven; anything else is not a code (and does not count as a try).
 */
export function normaliseCode(input: string | undefined): string | undefined {
  if (input === undefined || input.length > 32) return undefined;
  const s = input.normalize('NFKC').replace(/[\s-]/g, '');
  return /^[0-9]{6}$/.test(s) ? s : undefined;
}

export interface Contacts {
  phone?: string | undefined;
  email?: string | undefined;
  suppressedPhone?: boolean | undefined;
  suppressedEmail?: boolean | undefined;
}

export type ChannelChoice =
  | { ok: true; channel: CodeChannel; address: string; /** the same channel as the alert that carried the link */ sameChannel: boolean }
  | { ok: false; reason: 'NO_CONTACT' };

/**
 * Where the code goes. `openedFrom` is the channel whose message carried the token; a token that
 * does not know (issued before tokens were per channel) is treated as opened from the email,
 * whose link a mailbox thief is likelier to hold, so the code goes to the phone.
 */
export function pickCodeChannel(openedFrom: CodeChannel | undefined, c: Contacts): ChannelChoice {
  const phone = c.phone && !c.suppressedPhone ? c.phone : undefined;
  const email = c.email && !c.suppressedEmail ? c.email : undefined;
  const from = openedFrom ?? 'EMAIL';
  const other = from === 'EMAIL' ? (phone ? { channel: 'SMS' as const, address: phone } : undefined) : email ? { channel: 'EMAIL' as const, address: email } : undefined;
  if (other) return { ok: true, ...other, sameChannel: false };
  const same = from === 'EMAIL' ? (email ? { channel: 'EMAIL' as const, address: email } : undefined) : phone ? { channel: 'SMS' as const, address: phone } : undefined;
  if (same) return { ok: true, ...same, sameChannel: true };
  return { ok: false, reason: 'NO_CONTACT' };
}

export type SendVerdict =
  | { ok: true }
  | { ok: false; reason: 'LOCKED' | 'TOO_MANY' }
  | { ok: false; reason: 'TOO_SOON'; retryAt: string };

/** Whether another code may be sent for this confirmation now. */
export function canSendCode(ch: CodeChallenge | undefined, now: Date, p: StepUpPolicy): SendVerdict {
  if (!ch) return { ok: true };
  if (ch.lockedAt || ch.failures >= p.maxAttempts) return { ok: false, reason: 'LOCKED' };
  if (ch.sends >= p.maxSendsPerConfirmation) return { ok: false, reason: 'TOO_MANY' };
  const next = Date.parse(ch.sentAt) + p.resendAfterSeconds * 1000;
  if (!ch.consumedAt && now.getTime() < next) return { ok: false, reason: 'TOO_SOON', retryAt: new Date(next).toISOString() };
  return { ok: true };
}

export type CodeVerdict =
  | { ok: true }
  | { ok: false; reason: 'NO_CODE' | 'USED' | 'EXPIRED' | 'LOCKED' }
  | { ok: false; reason: 'WRONG'; attemptsLeft: number; locks: boolean };

/**
 * Judges a typed code against the challenge. Order matters: a locked confirmation stays locked
 * even for the right code; a spent or expired code is refused without costing a try; a wrong
 * code (including one meant for another page or alert) costs one, and the last one locks.
 */
export function judgeCode(ch: CodeChallenge | undefined, typedHash: string, tokenHash: string, now: Date, p: StepUpPolicy): CodeVerdict {
  if (!ch) return { ok: false, reason: 'NO_CODE' };
  if (ch.lockedAt || ch.failures >= p.maxAttempts) return { ok: false, reason: 'LOCKED' };
  const matches = ch.tokenHash === tokenHash && sameHash(typedHash, ch.codeHash);
  if (matches && ch.consumedAt) return { ok: false, reason: 'USED' };
  if (matches && now.getTime() >= Date.parse(ch.expiresAt)) return { ok: false, reason: 'EXPIRED' };
  if (matches) return { ok: true };
  const failures = ch.failures + 1;
  return { ok: false, reason: 'WRONG', attemptsLeft: Math.max(0, p.maxAttempts - failures), locks: failures >= p.maxAttempts };
}

/** Whether the confirmation is locked (no code, no passkey: only freeze and revoke remain). */
export const isLocked = (ch: CodeChallenge | undefined, p: StepUpPolicy): boolean => Boolean(ch && (ch.lockedAt || ch.failures >= p.maxAttempts));

/** A code that can still be typed on this token's page (sent for it, not spent, not expired). */
export const hasLiveCode = (ch: CodeChallenge | undefined, tokenHash: string, now: Date): boolean =>
  Boolean(ch && ch.tokenHash === tokenHash && !ch.consumedAt && !ch.lockedAt && now.getTime() < Date.parse(ch.expiresAt));

/** The clock-hour bucket of the per-customer rate limit. */
export const hourBucket = (now: Date): string => now.toISOString().slice(0, 13);

/** Phone ...5678 / t***@example.jp: enough for the customer to recognise, never the whole contact. */
export function maskContact(channel: CodeChannel, address: string): string {
  if (channel === 'SMS') return `...${address.replace(/\D/g, '').slice(-4)}`;
  const [local = '', domain = ''] = address.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}
