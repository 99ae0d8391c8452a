/**
 * Operations on customers' passkeys (lost or replaced phone, the customer's request, suspicion):
 *   GET  /ops/accounts/{accountId}/passkeys                          the account holder's passkeys
 *   POST /ops/accounts/{accountId}/passkeys/{credentialId}/remove    removes one, audited on the account
 * Passkeys belong to the customer (one customer, several accounts); operations reach them through
 * the account they are looking at. Listing shows no key material, only ids and dates.
 */
import { getAccount } from '../store/customers.ts';
import { opsJson, opsProblem, type OpsRequest, type OpsResponse } from '../ops/router.ts';
import { listPasskeys, removePasskey } from './store.ts';

const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const CREDENTIAL_ID = /^[A-Za-z0-9_-]{16,1366}$/;

export async function handlePasskeyOps(req: OpsRequest): Promise<OpsResponse | undefined> {
  const m = /^\/ops\/accounts\/([^/]+)\/passkeys(?:\/([^/]+)\/(remove))?$/.exec(req.path.replace(/\/+$/, ''));
  if (!m) return undefined;
  const accountId = decodeURIComponent(m[1]!);
  if (!ID.test(accountId)) return opsProblem(400, 'INVALID_REQUEST', 'not an account id', 'accountId');
  const account = await getAccount(accountId, true);
  if (!account) return opsProblem(404, 'UNKNOWN_ACCOUNT', 'no such account');
  if (m[2] === undefined) {
    if (req.method !== 'GET') return undefined;
    const passkeys = await listPasskeys(account.customerId);
    return opsJson(200, {
      accountId,
      customerId: account.customerId,
      passkeys: passkeys
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        .map((p) => ({
          credentialId: p.credentialId,
          createdAt: p.createdAt,
          ...(p.lastUsedAt ? { lastUsedAt: p.lastUsedAt } : {}),
          registeredOnAccount: p.accountId,
          registeredFromAlert: p.createdFromAlertId,
          backedUp: p.backedUp ?? false,
          transports: p.transports ?? [],
        })),
    });
  }
  if (req.method !== 'POST') return undefined;
  const credentialId = decodeURIComponent(m[2]);
  if (!CREDENTIAL_ID.test(credentialId)) return opsProblem(400, 'INVALID_REQUEST', 'not a passkey credential id', 'credentialId');
  const removed = await removePasskey({ customerId: account.customerId, credentialId, accountId, operatorId: req.operatorId });
  if (!removed) return opsProblem(404, 'PASSKEY_NOT_FOUND', 'no such passkey for this account holder (already removed?)');
  return opsJson(200, { accountId, customerId: account.customerId, credentialId, removed: true });
}
