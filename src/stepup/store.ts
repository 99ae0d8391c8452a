/**
 * Step-up state in the single table (see src/store/table.ts):
 *   ACCT#{accountId} / STEPUP#{alertId}#{actionKey}   the code challenge of one confirmation (hash only)
 *   CUST#{customerId} / STEPUPRATE#{hour}              codes sent to a customer in a clock hour, TTL
 *   CUST#{customerId} / PASSKEY#{credentialId}         a registered passkey (public key, counter)
 *   TOKEN#{tokenHash} / WEBAUTHN#{purpose}             an outstanding WebAuthn challenge, single use, TTL
 * Every change is one transaction with its audit entry, conditioned on the state just read.
 */
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { auditPut } from '../store/audit.ts';
import { db, isConditionFailure, queryByPrefix, tableName } from '../store/db.ts';
import { key, TTL_ATTRIBUTE } from '../store/table.ts';
import { tokenRef, type TransactItem } from '../store/actions.ts';
import type { CodeChallenge, CodeChannel, StepUpPolicy } from './codes.ts';
import { hourBucket } from './codes.ts';

const challengeKey = (accountId: string, alertId: string, actionKey: string) => ({ pk: key.account(accountId).pk, sk: `STEPUP#${alertId}#${actionKey}` });
const rateKey = (customerId: string, hour: string) => ({ pk: key.customer(customerId).pk, sk: `STEPUPRATE#${hour}` });
const passkeyKey = (customerId: string, credentialId: string) => ({ pk: key.customer(customerId).pk, sk: `PASSKEY#${credentialId}` });
const webauthnKey = (tokenHash: string, purpose: WebAuthnPurpose) => ({ pk: key.token(tokenHash).pk, sk: `WEBAUTHN#${purpose}` });

/** Challenges are kept a day after they expire (the console can still show a lock), then TTL'd. */
const CHALLENGE_TTL_SECONDS = 86_400;

async function transact(items: TransactItem[]): Promise<boolean> {
  try {
    await db().send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (e) {
    const err = e as { name?: string; CancellationReasons?: { Code?: string }[] };
    if (isConditionFailure(e) || err.name === 'TransactionConflictException') return false;
    if (err.name === 'TransactionCanceledException' && (err.CancellationReasons ?? []).some((r) => r.Code === 'TransactionConflict')) return false;
    throw e;
  }
}

function strip<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const { pk: _pk, sk: _sk, [TTL_ATTRIBUTE]: _t, kind: _k, ...rest } = item;
  return rest as T;
}

export async function getChallenge(accountId: string, alertId: string, actionKey: string): Promise<CodeChallenge | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: challengeKey(accountId, alertId, actionKey), ConsistentRead: true }));
  return strip<CodeChallenge>(out.Item);
}

export interface CodeRequest {
  accountId: string;
  customerId: string;
  alertId: string;
  actionKey: string;
  /** LINK#{linkId}: what the confirmation is about, for the audit entry. */
  target: string;
  tokenHash: string;
  channel: CodeChannel;
  codeHash: string;
  now: Date;
  policy: StepUpPolicy;
  /** The challenge as just read (undefined: none yet). */
  current: CodeChallenge | undefined;
}

export type CodeRequestResult = 'STORED' | 'RATE_LIMITED' | 'CONFLICT';

/**
 * Stores a new code for the confirmation (replacing any earlier one, keeping the wrong-try count),
 * counts it against the customer's hourly limit and audits the send, in one transaction. The
 * caller sends the message only after this commits.
 */
export async function storeNewCode(r: CodeRequest): Promise<CodeRequestResult> {
  const at = r.now.toISOString();
  const next: CodeChallenge = {
    accountId: r.accountId,
    customerId: r.customerId,
    alertId: r.alertId,
    actionKey: r.actionKey,
    tokenHash: r.tokenHash,
    channel: r.channel,
    codeHash: r.codeHash,
    sentAt: at,
    expiresAt: new Date(r.now.getTime() + r.policy.codeTtlMinutes * 60_000).toISOString(),
    sends: (r.current?.sends ?? 0) + 1,
    failures: r.current?.failures ?? 0,
    version: (r.current?.version ?? 0) + 1,
  };
  const ok = await transact([
    {
      Put: {
        TableName: tableName(),
        Item: {
          ...challengeKey(r.accountId, r.alertId, r.actionKey),
          kind: 'STEPUP_CHALLENGE',
          ...next,
          [TTL_ATTRIBUTE]: Math.floor(Date.parse(next.expiresAt) / 1000) + CHALLENGE_TTL_SECONDS,
        },
        // Exactly the state we judged: no lock, no send, no wrong try slipped in meanwhile.
        ConditionExpression: r.current ? 'version = :v AND attribute_not_exists(lockedAt)' : 'attribute_not_exists(pk)',
        ...(r.current ? { ExpressionAttributeValues: { ':v': r.current.version } } : {}),
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: rateKey(r.customerId, hourBucket(r.now)),
        UpdateExpression: 'ADD sent :one SET #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(sent) OR sent < :max',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':one': 1, ':max': r.policy.maxSendsPerCustomerPerHour, ':ttl': Math.floor(r.now.getTime() / 1000) + 2 * 3600 },
      },
    },
    auditPut({
      accountId: r.accountId,
      at,
      action: 'sendStepUpCode',
      actor: 'CUSTOMER_WEB',
      alertId: r.alertId,
      tokenRef: tokenRef(r.tokenHash),
      target: r.target,
      oldState: r.current && !r.current.consumedAt ? 'CODE_SENT' : 'NO_CODE',
      newState: 'CODE_SENT',
      channel: r.channel,
    }) as TransactItem,
  ]);
  if (ok) return 'STORED';
  const rate = await db().send(new GetCommand({ TableName: tableName(), Key: rateKey(r.customerId, hourBucket(r.now)), ConsistentRead: true }));
  return Number(rate.Item?.sent ?? 0) >= r.policy.maxSendsPerCustomerPerHour ? 'RATE_LIMITED' : 'CONFLICT';
}

/**
 * After a send the provider refused: the next request need not wait out the resend delay (the
 * code itself stays as it is: nobody ever saw it). Best effort: at worst the customer waits.
 */
export async function forgetFailedSend(ch: Pick<CodeChallenge, 'accountId' | 'alertId' | 'actionKey'>, codeHash: string): Promise<void> {
  await db()
    .send(
      new UpdateCommand({
        TableName: tableName(),
        Key: challengeKey(ch.accountId, ch.alertId, ch.actionKey),
        UpdateExpression: 'SET sentAt = :old',
        ConditionExpression: 'codeHash = :h',
        ExpressionAttributeValues: { ':old': '1970-01-01T00:00:00.000Z', ':h': codeHash },
      }),
    )
    .catch(() => undefined);
}

/** One wrong code: the try counted (and the confirmation locked on the last one), audited. */
export async function recordWrongCode(ch: CodeChallenge, opts: { now: Date; locks: boolean; tokenHash: string; target: string }): Promise<boolean> {
  const at = opts.now.toISOString();
  return transact([
    {
      Update: {
        TableName: tableName(),
        Key: challengeKey(ch.accountId, ch.alertId, ch.actionKey),
        UpdateExpression: `SET failures = failures + :one, version = version + :one${opts.locks ? ', lockedAt = :at' : ''}`,
        ConditionExpression: 'version = :v AND attribute_not_exists(lockedAt)',
        ExpressionAttributeValues: { ':one': 1, ':v': ch.version, ...(opts.locks ? { ':at': at } : {}) },
      },
    },
    auditPut({
      accountId: ch.accountId,
      at,
      action: opts.locks ? 'lockStepUp' : 'rejectStepUpCode',
      actor: 'CUSTOMER_WEB',
      alertId: ch.alertId,
      tokenRef: tokenRef(opts.tokenHash),
      target: opts.target,
      oldState: 'CODE_SENT',
      newState: opts.locks ? 'LOCKED' : 'CODE_SENT',
    }) as TransactItem,
  ]);
}

/**
 * The code's part of the confirm transaction: spent exactly when the confirmation commits. It
 * holds only for the code as judged (same hash, same page, unspent, unexpired, not locked, no
 * wrong try in between). It also leaves the grant to register a passkey (its secret's hash), for
 * the browser that typed the code and only for a short while.
 */
export function spendCode(ch: CodeChallenge, typedHash: string, now: Date, policy: StepUpPolicy, registration: { secretHash: string; until: string }): TransactItem {
  return {
    Update: {
      TableName: tableName(),
      Key: challengeKey(ch.accountId, ch.alertId, ch.actionKey),
      UpdateExpression: 'SET consumedAt = :now, version = version + :one, registerSecretHash = :rs, registerUntil = :ru',
      ConditionExpression:
        'codeHash = :h AND tokenHash = :th AND attribute_not_exists(consumedAt) AND attribute_not_exists(lockedAt) AND failures < :max AND expiresAt > :now AND version = :v',
      ExpressionAttributeValues: {
        ':now': now.toISOString(),
        ':one': 1,
        ':rs': registration.secretHash,
        ':ru': registration.until,
        ':h': typedHash,
        ':th': ch.tokenHash,
        ':max': policy.maxAttempts,
        ':v': ch.version,
      },
    },
  };
}

/** For a passkey confirmation: holds only while the confirmation is not locked by wrong codes. */
export function notLocked(accountId: string, alertId: string, actionKey: string): TransactItem {
  return {
    ConditionCheck: {
      TableName: tableName(),
      Key: challengeKey(accountId, alertId, actionKey),
      ConditionExpression: 'attribute_not_exists(lockedAt)',
    },
  };
}

// --- Passkeys -------------------------------------------------------------------------------

export interface PasskeyRecord {
  customerId: string;
  credentialId: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports?: string[];
  createdAt: string;
  /** The account and alert whose confirmed "it was me" allowed the registration. */
  accountId: string;
  createdFromAlertId: string;
  lastUsedAt?: string;
  backedUp?: boolean;
}

export type WebAuthnPurpose = 'AUTH' | 'REGISTER';

export interface WebAuthnChallenge {
  challenge: string;
  actionKey: string;
  expiresAt: string;
}

export async function listPasskeys(customerId: string): Promise<PasskeyRecord[]> {
  const items = await queryByPrefix(key.customer(customerId).pk, 'PASSKEY#', { consistent: true });
  return items.map((i) => strip<PasskeyRecord>(i)!);
}

export async function getPasskey(customerId: string, credentialId: string): Promise<PasskeyRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: passkeyKey(customerId, credentialId), ConsistentRead: true }));
  return strip<PasskeyRecord>(out.Item);
}

/** A new WebAuthn challenge for the token's page; it replaces any earlier one of the same purpose. */
export async function putWebAuthnChallenge(tokenHash: string, purpose: WebAuthnPurpose, c: WebAuthnChallenge): Promise<void> {
  await db().send(
    new PutCommand({
      TableName: tableName(),
      Item: { ...webauthnKey(tokenHash, purpose), kind: 'WEBAUTHN_CHALLENGE', ...c, [TTL_ATTRIBUTE]: Math.floor(Date.parse(c.expiresAt) / 1000) + 3600 },
    }),
  );
}

export async function getWebAuthnChallenge(tokenHash: string, purpose: WebAuthnPurpose): Promise<WebAuthnChallenge | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: webauthnKey(tokenHash, purpose), ConsistentRead: true }));
  return strip<WebAuthnChallenge>(out.Item);
}

/** Spends the challenge in the transaction that uses it: a replayed response finds it gone. */
export function spendWebAuthnChallenge(tokenHash: string, purpose: WebAuthnPurpose, c: WebAuthnChallenge, now: Date): TransactItem {
  return {
    Delete: {
      TableName: tableName(),
      Key: webauthnKey(tokenHash, purpose),
      ConditionExpression: 'challenge = :c AND expiresAt > :now',
      ExpressionAttributeValues: { ':c': c.challenge, ':now': now.toISOString() },
    },
  };
}

/** The passkey's signature counter moves forward (and its last use is noted) with the confirmation. */
export function usePasskey(p: PasskeyRecord, newCounter: number, now: Date): TransactItem {
  return {
    Update: {
      TableName: tableName(),
      Key: passkeyKey(p.customerId, p.credentialId),
      UpdateExpression: 'SET #c = :new, lastUsedAt = :now',
      ConditionExpression: 'attribute_exists(pk) AND #c = :old',
      ExpressionAttributeNames: { '#c': 'counter' },
      ExpressionAttributeValues: { ':new': newCounter, ':old': p.counter, ':now': now.toISOString() },
    },
  };
}

export const credentialRef = (credentialId: string) => credentialId.slice(0, 8);

/**
 * Registers a passkey: the credential stored (new id only), the registration grant of the code
 * confirmation spent (its secret, unexpired, once), the WebAuthn challenge spent, and the audit
 * entry, in one transaction. False when any of it no longer holds.
 */
export async function registerPasskey(opts: {
  passkey: PasskeyRecord;
  grant: { alertId: string; actionKey: string; secretHash: string };
  tokenHash: string;
  challenge: WebAuthnChallenge;
  now: Date;
}): Promise<boolean> {
  const at = opts.now.toISOString();
  const p = opts.passkey;
  return transact([
    {
      Put: {
        TableName: tableName(),
        Item: { ...passkeyKey(p.customerId, p.credentialId), kind: 'PASSKEY', ...p },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    {
      Update: {
        TableName: tableName(),
        Key: challengeKey(p.accountId, opts.grant.alertId, opts.grant.actionKey),
        UpdateExpression: 'SET registeredAt = :now REMOVE registerSecretHash',
        ConditionExpression: 'registerSecretHash = :s AND registerUntil > :now AND attribute_exists(consumedAt)',
        ExpressionAttributeValues: { ':s': opts.grant.secretHash, ':now': at },
      },
    },
    spendWebAuthnChallenge(opts.tokenHash, 'REGISTER', opts.challenge, opts.now),
    auditPut({
      accountId: p.accountId,
      at,
      action: 'registerPasskey',
      actor: 'CUSTOMER_WEB',
      alertId: opts.grant.alertId,
      tokenRef: tokenRef(opts.tokenHash),
      target: `CUSTOMER#${p.customerId}`,
      oldState: 'NONE',
      newState: 'REGISTERED',
      credentialRef: credentialRef(p.credentialId),
    }) as TransactItem,
  ]);
}

/** The registration grant of a confirmation, if it is still open. */
export async function registrationGrant(accountId: string, alertId: string, actionKey: string): Promise<{ secretHash: string; until: string } | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: challengeKey(accountId, alertId, actionKey), ConsistentRead: true }));
  const i = out.Item;
  if (!i || typeof i.registerSecretHash !== 'string' || typeof i.registerUntil !== 'string') return undefined;
  return { secretHash: i.registerSecretHash, until: i.registerUntil };
}

/** Operations remove a passkey (lost phone, customer's request): deleted and audited on the account. */
export async function removePasskey(opts: { customerId: string; credentialId: string; accountId: string; operatorId: string; now?: Date }): Promise<boolean> {
  const at = (opts.now ?? new Date()).toISOString();
  return transact([
    {
      Delete: {
        TableName: tableName(),
        Key: passkeyKey(opts.customerId, opts.credentialId),
        ConditionExpression: 'attribute_exists(pk)',
      },
    },
    auditPut({
      accountId: opts.accountId,
      at,
      action: 'removePasskey',
      actor: 'OPERATOR',
      operatorId: opts.operatorId,
      target: `CUSTOMER#${opts.customerId}`,
      oldState: 'REGISTERED',
      newState: 'REMOVED',
      credentialRef: credentialRef(opts.credentialId),
    }) as TransactItem,
  ]);
}

/** For tests and the console: delete a WebAuthn challenge (e.g. after a failed verification). */
export async function dropWebAuthnChallenge(tokenHash: string, purpose: WebAuthnPurpose): Promise<void> {
  await db().send(new DeleteCommand({ TableName: tableName(), Key: webauthnKey(tokenHash, purpose) }));
}
