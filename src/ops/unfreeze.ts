/**
 * Unfreezing, by operations only and by two people (never by a token or a reply):
 *   POST /ops/accounts/{accountId}/unfreeze-requests
 *        {"verificationRef": "..."}        operator A, after verifying the customer's identity
 *   POST /ops/accounts/{accountId}/unfreeze-requests/{requestId}/approve
 *                                          operator B (403 if B is A): FROZEN -> ACTIVE
 *   GET  /ops/accounts/{accountId}/unfreeze-requests
 * Both steps are audited (operatorId, approverId, verificationRef); the approval emits
 * AccountUnfrozen.
 */
import * as z from 'zod';
import { ActionRefusedError, approveUnfreeze, listUnfreezeRequests, requestUnfreeze, type ActionRefusal } from '../store/actions.ts';
import { opsJson, opsProblem, type OpsRequest, type OpsResponse } from './router.ts';

const ID = /^[A-Za-z0-9._:-]{1,64}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const UnfreezeRequestBody = z
  .object({
    /** Where the identity check is recorded (case number, call id): printable, no personal data. */
    verificationRef: z.string().trim().min(3).max(128).regex(/^[\x21-\x7e][\x20-\x7e]*$/, 'printable ASCII reference such as IDV-2026-000123'),
  })
  .strict();

const STATUS: Record<ActionRefusal, number> = {
  UNKNOWN_ACCOUNT: 404,
  UNKNOWN_LINK: 404,
  UNFREEZE_REQUEST_NOT_FOUND: 404,
  SAME_OPERATOR: 403,
  ACCOUNT_NOT_FROZEN: 409,
  UNFREEZE_REQUEST_NOT_PENDING: 409,
  UNFREEZE_REQUEST_EXPIRED: 409,
  CONFLICT: 409,
  ACCOUNT_FROZEN: 409,
  LINK_REVOKED: 409,
  LINK_SUSPENDED: 409,
  TOKEN_UNUSABLE: 409,
  TOKEN_ALREADY_USED: 409,
  ACTION_NOT_AVAILABLE: 409,
};

/** The Cognito group whose members may approve an unfreeze (infra/actions-api.ts creates it). */
export const APPROVER_GROUP = 'approvers';

const MESSAGE: Partial<Record<ActionRefusal, string>> = {
  SAME_OPERATOR: 'the approver must be a different operator from the one who requested the unfreeze',
  ACCOUNT_NOT_FROZEN: 'the account is not frozen',
  UNFREEZE_REQUEST_NOT_PENDING: 'this unfreeze request was already approved',
  UNFREEZE_REQUEST_EXPIRED: 'this unfreeze request expired; request again',
};

function refused(e: ActionRefusedError): OpsResponse {
  return opsProblem(STATUS[e.reason], e.reason, MESSAGE[e.reason] ?? e.reason.toLowerCase().replaceAll('_', ' '));
}

function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  if (body.trim() === '') return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch {
    return { ok: false };
  }
}

export async function handleUnfreezeRequest(req: OpsRequest): Promise<OpsResponse | undefined> {
  const path = req.path.replace(/\/+$/, '');
  const m = /^\/ops\/accounts\/([^/]+)\/unfreeze-requests(?:\/([^/]+)\/(approve))?$/.exec(path);
  if (!m) return undefined;
  const accountId = decodeURIComponent(m[1]!);
  const requestId = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
  if (!ID.test(accountId)) return opsProblem(400, 'INVALID_REQUEST', 'not an account id', 'accountId');
  try {
    if (requestId === undefined) {
      if (req.method === 'GET') return opsJson(200, { accountId, requests: await listUnfreezeRequests(accountId) });
      if (req.method !== 'POST') return undefined;
      const body = parseJson(req.body);
      if (!body.ok) return opsProblem(400, 'INVALID_REQUEST', 'body is not valid JSON', 'body');
      const parsed = UnfreezeRequestBody.safeParse(body.value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.code === 'unrecognized_keys' ? issue.keys.join(',') : issue.path.join('.') || 'body';
        const message = issue.path[0] === 'verificationRef' && issue.code === 'invalid_type' ? 'an identity-verification reference is required' : issue.message;
        return opsProblem(400, 'INVALID_REQUEST', message, field);
      }
      const request = await requestUnfreeze(accountId, { operatorId: req.operatorId, verificationRef: parsed.data.verificationRef });
      return opsJson(201, request);
    }
    if (req.method !== 'POST') return undefined;
    if (!UUID.test(requestId)) return opsProblem(404, 'UNFREEZE_REQUEST_NOT_FOUND', 'no such unfreeze request');
    // The second pair of eyes must be someone the bank made an approver, not any operator.
    if (!req.groups.includes(APPROVER_GROUP)) return opsProblem(403, 'NOT_AN_APPROVER', `approving an unfreeze needs the ${APPROVER_GROUP} group`);
    const out = await approveUnfreeze(accountId, requestId, { approverId: req.operatorId });
    return opsJson(200, { accountId, state: 'ACTIVE', request: out.request, eventPublished: out.eventPublished ?? true });
  } catch (e) {
    if (e instanceof ActionRefusedError) return refused(e);
    throw e;
  }
}
