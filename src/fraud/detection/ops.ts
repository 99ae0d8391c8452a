/**
 * Incidents in the operations API:
 *   GET  /ops/incidents                                            newest first
 *   GET  /ops/incidents/{incidentId}                               with its accounts and links
 *   POST /ops/incidents/{incidentId}/close                         {"reason"}
 *   POST /ops/incidents/{incidentId}/accounts/{accountId}/freeze   one operator: protective
 *   POST /ops/incidents/{incidentId}/accounts/{accountId}/links/{linkId}/revoke
 * Freezing and revoking protect the customer (they never release money), so one operator does
 * them, as one tap does for a customer; both go through the actions store (audited, events).
 * Suspending the incident's provider is a provider control (two people): /ops/providers/...
 */
import * as z from 'zod';
import { opsJson, opsProblem, type OpsRequest, type OpsResponse } from '../../ops/router.ts';
import { ActionRefusedError, freezeAccount, revokeLink } from '../../store/actions.ts';
import { asResponse, parseBody, pathId } from '../http.ts';
import { closeIncident, getIncident, listIncidents, listMembers } from './incidents.ts';

const INCIDENT_ID = /^inc-[0-9]{8}-[0-9a-f]{10}$/;
const CloseBody = z.object({ reason: z.string().trim().min(3).max(500) }).strict();

export async function handleIncidentRequest(req: OpsRequest): Promise<OpsResponse | undefined> {
  const path = req.path.replace(/\/+$/, '');
  if (!path.startsWith('/ops/incidents')) return undefined;
  try {
    if (path === '/ops/incidents') return req.method === 'GET' ? opsJson(200, { incidents: await listIncidents() }) : undefined;
    const m = /^\/ops\/incidents\/([^/]+)(?:\/(close)|\/accounts\/([^/]+)\/(freeze)|\/accounts\/([^/]+)\/links\/([^/]+)\/(revoke))?$/.exec(path);
    if (!m) return undefined;
    const incidentId = pathId(m[1]!, 'incidentId', INCIDENT_ID);
    if (!m[2] && !m[4] && !m[7]) {
      if (req.method !== 'GET') return undefined;
      const incident = await getIncident(incidentId);
      if (!incident) return opsProblem(404, 'INCIDENT_NOT_FOUND', 'no such incident');
      return opsJson(200, { incident, members: await listMembers(incidentId) });
    }
    if (req.method !== 'POST') return undefined;
    if (m[2]) {
      const body = parseBody(CloseBody, req.body);
      return opsJson(200, { incident: await closeIncident(incidentId, req.operatorId, body.reason) });
    }
    const accountId = pathId((m[3] ?? m[5])!, 'accountId');
    const members = await listMembers(incidentId);
    const linkId = m[6] === undefined ? undefined : pathId(m[6], 'linkId');
    // Only the accounts and links of this incident: the page's buttons act on nothing else.
    if (!members.some((x) => x.accountId === accountId && (linkId === undefined || x.linkId === linkId))) {
      return opsProblem(404, 'NOT_IN_INCIDENT', 'that account or link is not part of this incident');
    }
    try {
      const ctx = { actor: 'OPERATOR' as const, operatorId: req.operatorId };
      const out = linkId === undefined ? await freezeAccount(accountId, ctx) : await revokeLink(accountId, linkId, ctx);
      return opsJson(200, { accountId, ...(linkId ? { linkId } : {}), changed: out.changed });
    } catch (e) {
      if (e instanceof ActionRefusedError) return opsProblem(e.reason.startsWith('UNKNOWN') ? 404 : 409, e.reason, e.reason.toLowerCase().replaceAll('_', ' '));
      throw e;
    }
  } catch (e) {
    return asResponse(e);
  }
}
