/**
 * Passkeys (WebAuthn) in place of the code, with @simplewebauthn/server; no AWS here.
 *
 * The relying party is the action pages' host (ACTION_BASE_URL: alerts.example-bank.jp in AWS,
 * localhost locally) and only that origin is accepted. User verification is required (the
 * device's PIN or biometrics), so a passkey stands for "the customer, on their own device". The
 * WebAuthn user handle is an HMAC of the customer id: stable per customer, meaningless to anyone
 * else. Challenges live a few minutes and are spent by the transaction that uses them.
 */
import { createHmac } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';

export const WEBAUTHN_CHALLENGE_TTL_MS = 5 * 60_000;
/** After a code confirmation, the page may register a passkey for this long. */
export const REGISTRATION_WINDOW_MS = 10 * 60_000;

export interface RelyingParty {
  rpID: string;
  origin: string;
  name: string;
}

export function relyingParty(actionBaseUrl: string): RelyingParty {
  const u = new URL(actionBaseUrl);
  return { rpID: u.hostname, origin: u.origin, name: 'Example Bank / サンプル銀行' };
}

export function webauthnUserId(pepper: string, customerId: string): Uint8Array<ArrayBuffer> {
  const digest = createHmac('sha256', pepper).update(`webauthn-user|${customerId}`, 'utf8').digest();
  return new Uint8Array(digest.subarray(0, 16));
}

export interface StoredCredential {
  credentialId: string;
  publicKey: string;
  counter: number;
  transports?: string[] | undefined;
}

export async function registrationOptions(opts: {
  rp: RelyingParty;
  userId: Uint8Array<ArrayBuffer>;
  /** What the customer's passkey manager shows: the bank and the masked account, no name or contact. */
  label: string;
  existing: readonly StoredCredential[];
}): Promise<PublicKeyCredentialCreationOptionsJSON> {
  return generateRegistrationOptions({
    rpName: opts.rp.name,
    rpID: opts.rp.rpID,
    userID: opts.userId,
    userName: opts.label,
    userDisplayName: opts.label,
    attestationType: 'none',
    timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    excludeCredentials: opts.existing.map((c) => ({ id: c.credentialId, ...(c.transports ? { transports: c.transports } : {}) })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'required' },
  });
}

export async function verifyRegistration(
  response: RegistrationResponseJSON,
  expectedChallenge: string,
  rp: RelyingParty,
): Promise<{ ok: true; credential: StoredCredential; backedUp: boolean } | { ok: false; reason: string }> {
  try {
    const v = await verifyRegistrationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
    });
    if (!v.verified) return { ok: false, reason: 'NOT_VERIFIED' };
    const c = v.registrationInfo.credential;
    return {
      ok: true,
      credential: { credentialId: c.id, publicKey: Buffer.from(c.publicKey).toString('base64url'), counter: c.counter, ...(c.transports ? { transports: [...c.transports] } : {}) },
      backedUp: v.registrationInfo.credentialBackedUp,
    };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.name : 'INVALID' };
  }
}

export async function authenticationOptions(rp: RelyingParty, credentials: readonly StoredCredential[]): Promise<PublicKeyCredentialRequestOptionsJSON> {
  return generateAuthenticationOptions({
    rpID: rp.rpID,
    timeout: WEBAUTHN_CHALLENGE_TTL_MS,
    userVerification: 'required',
    allowCredentials: credentials.map((c) => ({ id: c.credentialId, ...(c.transports ? { transports: c.transports } : {}) })),
  });
}

export async function verifyAuthentication(
  response: AuthenticationResponseJSON,
  expectedChallenge: string,
  rp: RelyingParty,
  credential: StoredCredential,
): Promise<{ ok: true; newCounter: number } | { ok: false; reason: string }> {
  try {
    const v = await verifyAuthenticationResponse({
      response,
      expectedChallenge,
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpID,
      requireUserVerification: true,
      credential: {
        id: credential.credentialId,
        publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')),
        counter: credential.counter,
        ...(credential.transports ? { transports: credential.transports } : {}),
      },
    });
    if (!v.verified) return { ok: false, reason: 'NOT_VERIFIED' };
    return { ok: true, newCounter: v.authenticationInfo.newCounter };
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.name : 'INVALID' };
  }
}
