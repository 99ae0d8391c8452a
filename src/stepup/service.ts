/**
 * The step-up of a releasing action ("it was me"), over the store and the message adapters: send
 * a code to the other channel, check a typed code and release in one transaction with the code
 * spent, or do the same with a passkey; and, after a code confirmation, register a passkey.
 * The action page (src/domain/action-page) decides what to show; this decides nothing about pages.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Locale } from '../../events/core.ts';
import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import { runtimeConfig } from '../config.ts';
import { tokenPeppers } from '../adapters/pepper.ts';
import { sendSms } from '../adapters/sms.ts';
import { sendEmail } from '../adapters/email.ts';
import { getCustomer } from '../store/customers.ts';
import { ActionRefusedError, type ActionContext, type ActionResult } from '../store/actions.ts';
import type { TokenRecord } from '../store/types.ts';
import { sameHash } from '../domain/tokens.ts';
import {
  canSendCode,
  generateCode,
  hashCode,
  hasLiveCode,
  isLocked,
  judgeCode,
  maskContact,
  normaliseCode,
  pickCodeChannel,
  type CodeChallenge,
  type CodeChannel,
  type StepUpPolicy,
} from './codes.ts';
import { codeEmail, codeSms } from './messages.ts';
import {
  authenticationOptions,
  REGISTRATION_WINDOW_MS,
  registrationOptions,
  relyingParty,
  verifyAuthentication,
  verifyRegistration,
  WEBAUTHN_CHALLENGE_TTL_MS,
  webauthnUserId,
} from './passkeys.ts';
import {
  forgetFailedSend,
  getChallenge,
  getPasskey,
  getWebAuthnChallenge,
  listPasskeys,
  notLocked,
  putWebAuthnChallenge,
  recordWrongCode,
  registerPasskey,
  registrationGrant,
  spendCode,
  spendWebAuthnChallenge,
  storeNewCode,
  usePasskey,
} from './store.ts';

export function stepUpPolicy(): StepUpPolicy {
  const c = runtimeConfig();
  return {
    codeTtlMinutes: c.STEPUP_CODE_TTL_MINUTES,
    maxAttempts: c.STEPUP_MAX_ATTEMPTS,
    resendAfterSeconds: c.STEPUP_RESEND_SECONDS,
    maxSendsPerConfirmation: 3,
    maxSendsPerCustomerPerHour: c.STEPUP_MAX_CODES_PER_HOUR,
  };
}

/** Releases the action (confirmLink, later confirmApp) with the step-up's writes in its transaction. */
export type Release = (ctx: ActionContext) => Promise<ActionResult>;

export interface Destination {
  channel: CodeChannel;
  masked: string;
  /** The code goes by the same channel as the alert (the customer has no other on file). */
  sameChannel: boolean;
}

export interface StepUpStatus {
  locked: boolean;
  destination?: Destination;
  /** A code sent for this page, still usable. */
  liveCode?: { expiresAt: string; destination: Destination };
  hasPasskeys: boolean;
}

/** What the confirmation is about, in the audit trail's words (LINK#… / APP#…, as the confirm's own entry). */
const targetOf = (key: string) => {
  const id = key.slice(key.indexOf(':') + 1);
  return key.startsWith('CONFIRM_APP:') ? `APP#${id}` : `LINK#${id}`;
};

async function destinationFor(record: TokenRecord): Promise<{ address: string; d: Destination } | undefined> {
  const customer = await getCustomer(record.customerId, true);
  const choice = pickCodeChannel(record.channel, customer ?? {});
  if (!choice.ok) return undefined;
  return { address: choice.address, d: { channel: choice.channel, masked: maskContact(choice.channel, choice.address), sameChannel: choice.sameChannel } };
}

export async function stepUpStatus(record: TokenRecord, key: string, now: Date): Promise<StepUpStatus> {
  const policy = stepUpPolicy();
  const [ch, dest, passkeys] = await Promise.all([getChallenge(record.accountId, record.alertId, key), destinationFor(record), listPasskeys(record.customerId)]);
  return {
    locked: isLocked(ch, policy),
    ...(dest ? { destination: dest.d } : {}),
    ...(ch && hasLiveCode(ch, record.tokenHash, now) ? { liveCode: { expiresAt: ch.expiresAt, destination: { channel: ch.channel, masked: dest?.d.masked ?? '', sameChannel: dest?.d.sameChannel ?? false } } } : {}),
    hasPasskeys: passkeys.length > 0,
  };
}

export type SendResult =
  | { ok: true; destination: Destination; expiresAt: string }
  | { ok: false; reason: 'LOCKED' | 'TOO_MANY' | 'RATE_LIMITED' | 'NO_CONTACT' | 'SEND_FAILED' | 'CONFLICT' }
  | { ok: false; reason: 'TOO_SOON'; retryAt: string };

/** Sends a fresh code for this page's confirmation, if the limits allow. Audited before it goes. */
export async function sendStepUpCode(record: TokenRecord, key: string, locale: Locale, now: Date): Promise<SendResult> {
  const policy = stepUpPolicy();
  const [current, dest] = await Promise.all([getChallenge(record.accountId, record.alertId, key), destinationFor(record)]);
  const verdict = canSendCode(current, now, policy);
  if (!verdict.ok) return verdict;
  if (!dest) return { ok: false, reason: 'NO_CONTACT' };
  const code = generateCode();
  const { current: pepper } = await tokenPeppers();
  const codeHash = hashCode(pepper, { alertId: record.alertId, actionKey: key, tokenHash: record.tokenHash }, code);
  const stored = await storeNewCode({
    accountId: record.accountId,
    customerId: record.customerId,
    alertId: record.alertId,
    actionKey: key,
    target: targetOf(key),
    tokenHash: record.tokenHash,
    channel: dest.d.channel,
    codeHash,
    now,
    policy,
    current,
  });
  if (stored !== 'STORED') return { ok: false, reason: stored };
  try {
    if (dest.d.channel === 'SMS') await sendSms({ to: dest.address, message: codeSms(locale, code, policy.codeTtlMinutes) });
    else await sendEmail({ to: dest.address, ...codeEmail(locale, code, policy.codeTtlMinutes), tags: { purpose: 'stepup-code' } });
  } catch {
    await forgetFailedSend({ accountId: record.accountId, alertId: record.alertId, actionKey: key }, codeHash);
    return { ok: false, reason: 'SEND_FAILED' };
  }
  return { ok: true, destination: dest.d, expiresAt: new Date(now.getTime() + policy.codeTtlMinutes * 60_000).toISOString() };
}

export type ReleaseOutcome =
  | { ok: true; changed: boolean; eventPublished?: boolean }
  | { ok: false; reason: 'WRONG'; attemptsLeft: number }
  | { ok: false; reason: 'LOCKED' | 'EXPIRED' | 'USED' | 'NO_CODE' | 'BAD_CODE' | 'CONFLICT' }
  | { ok: false; refusal: string };

/** The typed code's hash under the pepper that made the stored one (rotation-safe), else the current. */
async function typedHashFor(record: TokenRecord, key: string, code: string, ch: CodeChallenge | undefined): Promise<string> {
  const { all } = await tokenPeppers();
  const hashes = all.map((p) => hashCode(p, { alertId: record.alertId, actionKey: key, tokenHash: record.tokenHash }, code));
  return hashes.find((h) => ch && sameHash(h, ch.codeHash)) ?? hashes[0]!;
}

const refusalOf = (e: unknown): ReleaseOutcome => {
  if (e instanceof ActionRefusedError) return { ok: false, refusal: e.reason };
  throw e;
};

/**
 * Checks the typed code and, when right, releases with the code spent in the same transaction
 * (and a passkey-registration grant for this browser). Wrong: one try counted (the last locks).
 */
export async function confirmWithCode(
  record: TokenRecord,
  key: string,
  typed: string | undefined,
  now: Date,
  release: Release,
): Promise<ReleaseOutcome & { registrationSecret?: string }> {
  const code = normaliseCode(typed);
  if (!code) return { ok: false, reason: 'BAD_CODE' };
  const policy = stepUpPolicy();
  for (let attempt = 0; attempt < 3; attempt++) {
    const ch = await getChallenge(record.accountId, record.alertId, key);
    const typedHash = await typedHashFor(record, key, code, ch);
    const verdict = judgeCode(ch, typedHash, record.tokenHash, now, policy);
    if (!verdict.ok && verdict.reason === 'WRONG') {
      const counted = await recordWrongCode(ch!, { now, locks: verdict.locks, tokenHash: record.tokenHash, target: targetOf(key) });
      if (!counted) continue; // another try landed first: judge again against the new count
      return verdict.locks ? { ok: false, reason: 'LOCKED' } : { ok: false, reason: 'WRONG', attemptsLeft: verdict.attemptsLeft };
    }
    if (!verdict.ok) return { ok: false, reason: verdict.reason };
    const secret = randomBytes(18).toString('base64url');
    const proof = {
      method: 'CODE' as const,
      items: [spendCode(ch!, typedHash, now, policy, { secretHash: sha256(secret), until: new Date(now.getTime() + REGISTRATION_WINDOW_MS).toISOString() })],
      stillValid: async () => judgeCode(await getChallenge(record.accountId, record.alertId, key), typedHash, record.tokenHash, now, policy).ok,
    };
    try {
      const r = await release({ actor: 'CUSTOMER_WEB', alertId: record.alertId, token: { tokenHash: record.tokenHash, actionKey: key }, at: now, stepUp: proof });
      return { ok: true, changed: r.changed, ...(r.eventPublished !== undefined ? { eventPublished: r.eventPublished } : {}), registrationSecret: secret };
    } catch (e) {
      const out = refusalOf(e);
      // Refused because the code no longer held (spent or locked meanwhile): say which.
      if (!out.ok && 'refusal' in out && out.refusal === 'ACTION_NOT_AVAILABLE') {
        const again = judgeCode(await getChallenge(record.accountId, record.alertId, key), typedHash, record.tokenHash, now, policy);
        if (!again.ok && again.reason !== 'WRONG') return { ok: false, reason: again.reason };
      }
      return out;
    }
  }
  return { ok: false, reason: 'CONFLICT' };
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('base64url');

// --- Passkeys ------------------------------------------------------------------------------------

const rp = () => relyingParty(runtimeConfig().ACTION_BASE_URL);

export type PasskeyError = 'NO_PASSKEY' | 'LOCKED' | 'NO_CHALLENGE' | 'NOT_VERIFIED' | 'NO_GRANT' | 'CONFLICT';

export async function passkeyAuthOptions(record: TokenRecord, key: string, now: Date): Promise<{ ok: true; options: unknown } | { ok: false; error: PasskeyError }> {
  const [passkeys, ch] = await Promise.all([listPasskeys(record.customerId), getChallenge(record.accountId, record.alertId, key)]);
  if (isLocked(ch, stepUpPolicy())) return { ok: false, error: 'LOCKED' };
  if (passkeys.length === 0) return { ok: false, error: 'NO_PASSKEY' };
  const options = await authenticationOptions(rp(), passkeys);
  await putWebAuthnChallenge(record.tokenHash, 'AUTH', { challenge: options.challenge, actionKey: key, expiresAt: new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_MS).toISOString() });
  return { ok: true, options };
}

/** Verifies the passkey's assertion and releases, with the challenge spent and the counter moved in the same transaction. */
export async function confirmWithPasskey(
  record: TokenRecord,
  key: string,
  response: AuthenticationResponseJSON,
  now: Date,
  release: Release,
): Promise<{ ok: true; changed: boolean; eventPublished?: boolean } | { ok: false; error: PasskeyError | string }> {
  const challenge = await getWebAuthnChallenge(record.tokenHash, 'AUTH');
  if (!challenge || challenge.actionKey !== key || Date.parse(challenge.expiresAt) <= now.getTime()) return { ok: false, error: 'NO_CHALLENGE' };
  // Only the token's own customer's passkeys count: another customer's credential is not found.
  const passkey = await getPasskey(record.customerId, response.id);
  if (!passkey) return { ok: false, error: 'NOT_VERIFIED' };
  const v = await verifyAuthentication(response, challenge.challenge, rp(), passkey);
  if (!v.ok) return { ok: false, error: 'NOT_VERIFIED' };
  const proof = {
    method: 'PASSKEY' as const,
    items: [spendWebAuthnChallenge(record.tokenHash, 'AUTH', challenge, now), usePasskey(passkey, v.newCounter, now), notLocked(record.accountId, record.alertId, key)],
    stillValid: async () => {
      const [c, p, ch] = await Promise.all([getWebAuthnChallenge(record.tokenHash, 'AUTH'), getPasskey(record.customerId, passkey.credentialId), getChallenge(record.accountId, record.alertId, key)]);
      return c?.challenge === challenge.challenge && p?.counter === passkey.counter && !isLocked(ch, stepUpPolicy());
    },
  };
  try {
    const r = await release({ actor: 'CUSTOMER_WEB', alertId: record.alertId, token: { tokenHash: record.tokenHash, actionKey: key }, at: now, stepUp: proof });
    return { ok: true, changed: r.changed, ...(r.eventPublished !== undefined ? { eventPublished: r.eventPublished } : {}) };
  } catch (e) {
    if (e instanceof ActionRefusedError) return { ok: false, error: e.reason };
    throw e;
  }
}

async function openGrant(record: TokenRecord, key: string, secret: string, now: Date) {
  const grant = await registrationGrant(record.accountId, record.alertId, key);
  if (!grant || Date.parse(grant.until) <= now.getTime() || !sameHash(grant.secretHash, sha256(secret))) return undefined;
  return grant;
}

export async function passkeyRegistrationOptions(
  record: TokenRecord,
  key: string,
  secret: string,
  label: string,
  now: Date,
): Promise<{ ok: true; options: unknown } | { ok: false; error: PasskeyError }> {
  if (!(await openGrant(record, key, secret, now))) return { ok: false, error: 'NO_GRANT' };
  const [{ current }, existing] = await Promise.all([tokenPeppers(), listPasskeys(record.customerId)]);
  const options = await registrationOptions({ rp: rp(), userId: webauthnUserId(current, record.customerId), label, existing });
  await putWebAuthnChallenge(record.tokenHash, 'REGISTER', { challenge: options.challenge, actionKey: key, expiresAt: new Date(now.getTime() + WEBAUTHN_CHALLENGE_TTL_MS).toISOString() });
  return { ok: true, options };
}

export async function registerPasskeyFor(
  record: TokenRecord,
  key: string,
  secret: string,
  response: RegistrationResponseJSON,
  now: Date,
): Promise<{ ok: true; credentialRef: string } | { ok: false; error: PasskeyError }> {
  const grant = await openGrant(record, key, secret, now);
  if (!grant) return { ok: false, error: 'NO_GRANT' };
  const challenge = await getWebAuthnChallenge(record.tokenHash, 'REGISTER');
  if (!challenge || challenge.actionKey !== key || Date.parse(challenge.expiresAt) <= now.getTime()) return { ok: false, error: 'NO_CHALLENGE' };
  const v = await verifyRegistration(response, challenge.challenge, rp());
  if (!v.ok) return { ok: false, error: 'NOT_VERIFIED' };
  const ok = await registerPasskey({
    passkey: {
      customerId: record.customerId,
      credentialId: v.credential.credentialId,
      publicKey: v.credential.publicKey,
      counter: v.credential.counter,
      ...(v.credential.transports ? { transports: v.credential.transports } : {}),
      createdAt: now.toISOString(),
      accountId: record.accountId,
      createdFromAlertId: record.alertId,
      backedUp: v.backedUp,
    },
    grant: { alertId: record.alertId, actionKey: key, secretHash: grant.secretHash },
    tokenHash: record.tokenHash,
    challenge,
    now,
  });
  return ok ? { ok: true, credentialRef: v.credential.credentialId.slice(0, 8) } : { ok: false, error: 'CONFLICT' };
}
