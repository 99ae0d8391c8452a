/**
 * Operations re-enable cardless withdrawals after a customer said "not me" to an app activation
 * (src/holds/app-actions.ts, reenableCardless):
 *   GET  /ops/accounts/{accountId}/apps                                  the account's app holds
 *   POST /ops/accounts/{accountId}/apps/{activationId}/reenable          {"verificationRef": "IDV-…"}
 * Re-enabling lets cash leave through a cardless app again, so, like an unfreeze, it follows an
 * identity check (its reference is audited) and only an operator in the `approvers` group may do it.
 * Neither a link nor a reply can: only this route.
 */
import * as z from 'zod';
import { getAccount } from '../store/customers.ts';
import { ActionRefusedError } from '../store/actions.ts';
import { opsJson, opsProblem, type OpsRequest, type OpsResponse } from '../ops/router.ts';
import { reenableCardless } from './app-actions.ts';

const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const ReenableBody = z.object({ verificationRef: z.string().trim().min(3).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'letters, digits and . _ : - only') }).strict();

export async function handleCardlessOps(req: OpsRequest): Promise<OpsResponse | undefined> {
  const m = /^\/ops\/accounts\/([^/]+)\/apps(?:\/([^/]+)\/(reenable))?$/.exec(req.path.replace(/\/+$/, ''));
  if (!m) return undefined;
  const accountId = decodeURIComponent(m[1]!);
  if (!ID.test(accountId)) return opsProblem(400, 'INVALID_REQUEST', 'not an account id', 'accountId');
  if (m[2] === undefined) {
    if (req.method !== 'GET') return undefined;
    const account = await getAccount(accountId, true);
    if (!account) return opsProblem(404, 'UNKNOWN_ACCOUNT', 'no such account');
    return opsJson(200, { accountId, apps: Object.values(account.apps ?? {}).sort((a, b) => a.activatedAt.localeCompare(b.activatedAt)) });
  }
  if (req.method !== 'POST') return undefined;
  const activationId = decodeURIComponent(m[2]);
  if (!ID.test(activationId)) return opsProblem(400, 'INVALID_REQUEST', 'not an activation id', 'activationId');
  if (!req.groups.includes('approvers')) return opsProblem(403, 'NOT_AN_APPROVER', 'only an operator in the approvers group may re-enable cardless withdrawals');
  let raw: unknown;
  try {
    raw = JSON.parse(req.body || 'null');
  } catch {
    return opsProblem(400, 'INVALID_REQUEST', 'not valid JSON', 'body');
  }
  const parsed = ReenableBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'body';
    return opsProblem(400, 'INVALID_REQUEST', issue.code === 'unrecognized_keys' ? 'unknown field' : issue.message, field);
  }
  try {
    await reenableCardless(accountId, activationId, { operatorId: req.operatorId, verificationRef: parsed.data.verificationRef });
  } catch (e) {
    if (!(e instanceof ActionRefusedError)) throw e;
    if (e.reason === 'UNKNOWN_ACCOUNT') return opsProblem(404, 'UNKNOWN_ACCOUNT', 'no such account');
    if (e.reason === 'UNKNOWN_LINK') return opsProblem(404, 'UNKNOWN_APP', 'no such app activation on this account');
    return opsProblem(409, e.reason, 'cardless withdrawals through this app are not deactivated');
  }
  return opsJson(200, { accountId, activationId, reenabled: true });
}
