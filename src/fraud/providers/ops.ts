/**
 * Provider controls in the operations API (mounted in functions/ops/handler.ts):
 *   GET  /ops/providers                                         providers, state, open requests
 *   GET  /ops/providers/{providerId}                            one provider and its requests
 *   POST /ops/providers/{providerId}/requests                   {"action", "reason", "holdHours"?}  operator A
 *   POST /ops/providers/{providerId}/requests/{requestId}/approve                                  operator B (approvers)
 * Bulk jobs (EXTEND_HOLD, REVOKE_UNCONFIRMED) run from the approval for up to ~10 s and are
 * continued by the minute's sweep; the request shows their progress.
 */
import * as z from 'zod';
import { opsJson, opsProblem, type OpsRequest, type OpsResponse } from '../../ops/router.ts';
import { APPROVER_GROUP } from '../../ops/unfreeze.ts';
import { asResponse, parseBody, pathId, UUID } from '../http.ts';
import { runProviderJob } from './bulk.ts';
import { approveProviderControl, getControl, listProviders, listRequests, providerActions, requestProviderControl } from './store.ts';

const RequestBody = z
  .object({
    action: z.enum(providerActions),
    /** Why (incident id, regulator's request): shown to the approver, in the audit and the partner event. */
    reason: z.string().trim().min(3).max(500),
    holdHours: z.number().int().min(1).max(24 * 90).optional(),
  })
  .strict()
  .refine((b) => b.action !== 'EXTEND_HOLD' || b.holdHours !== undefined, { path: ['holdHours'], message: 'EXTEND_HOLD needs holdHours (hours after each link was created, e.g. 168 for 7 days)' })
  .refine((b) => b.action === 'EXTEND_HOLD' || b.holdHours === undefined, { path: ['holdHours'], message: 'holdHours applies to EXTEND_HOLD only' });

/** How long an approval request works on a bulk job before leaving the rest to the sweep. */
const INLINE_JOB_MS = 10_000;

export async function handleProviderRequest(req: OpsRequest): Promise<OpsResponse | undefined> {
  const path = req.path.replace(/\/+$/, '');
  if (!path.startsWith('/ops/providers')) return undefined;
  try {
    if (path === '/ops/providers') return req.method === 'GET' ? opsJson(200, { providers: await listProviders() }) : undefined;
    const m = /^\/ops\/providers\/([^/]+)(?:\/requests(?:\/([^/]+)\/approve)?)?$/.exec(path);
    if (!m) return undefined;
    const providerId = pathId(m[1]!, 'providerId');
    const isRequests = path.endsWith('/requests');
    if (!isRequests && m[2] === undefined) {
      if (req.method !== 'GET') return undefined;
      const [control, requests] = await Promise.all([getControl(providerId), listRequests(providerId)]);
      return opsJson(200, { providerId, control, requests });
    }
    if (req.method !== 'POST') return undefined;
    if (isRequests) {
      const body = parseBody(RequestBody, req.body);
      const request = await requestProviderControl(providerId, { ...body, operatorId: req.operatorId });
      return opsJson(201, request);
    }
    const requestId = pathId(m[2]!, 'requestId', UUID);
    // The second pair of eyes must be someone the bank made an approver, not any operator.
    if (!req.groups.includes(APPROVER_GROUP)) return opsProblem(403, 'NOT_AN_APPROVER', `approving a provider control needs the ${APPROVER_GROUP} group`);
    const out = await approveProviderControl(providerId, requestId, req.operatorId);
    if (out.request.status === 'RUNNING') {
      const job = await runProviderJob(providerId, requestId, Date.now() + INLINE_JOB_MS);
      return opsJson(200, { request: { ...out.request, status: job.status === 'DONE' ? 'DONE' : 'RUNNING', seen: job.seen, changed: job.changed } });
    }
    return opsJson(200, { request: out.request, eventPublished: out.eventPublished ?? true });
  } catch (e) {
    return asResponse(e);
  }
}
