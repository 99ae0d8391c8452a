/**
 * Campaign routes of the operations API (mounted in functions/ops/handler.ts):
 *   GET  /ops/campaigns                      list (newest first)
 *   POST /ops/campaigns                      create (JSON: name, templateId, rates, audience, window?)
 *   GET  /ops/campaigns/{id}                 status: state and counters per channel
 *   POST /ops/campaigns/{id}/audience        list audiences: account ids, one per line or a JSON array
 *   POST /ops/campaigns/{id}/start|pause|resume|cancel
 * Refusals name their reason: 400 INVALID (bad input), 404 NOT_FOUND, 409 CONFLICT (wrong state).
 */
import { opsJson, opsProblem, type OpsRequest, type OpsResponse } from './router.ts';
import { CampaignError } from '../campaign/types.ts';
import {
  campaignStatus,
  cancelCampaign,
  createCampaign,
  listCampaigns,
  loadList,
  pauseCampaign,
  resumeCampaign,
  startCampaign,
} from '../campaign/service.ts';

const ID = '([a-z0-9-]{1,64})';
const actions = { start: startCampaign, pause: pauseCampaign, resume: resumeCampaign, cancel: cancelCampaign } as const;

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body || 'null');
  } catch {
    throw new CampaignError('INVALID', 'the body is not JSON');
  }
}

export async function handleCampaignRequest(req: OpsRequest): Promise<OpsResponse | undefined> {
  const path = req.path.replace(/\/+$/, '');
  if (!path.startsWith('/ops/campaigns')) return undefined;
  try {
    if (path === '/ops/campaigns') {
      if (req.method === 'GET') return opsJson(200, { campaigns: await listCampaigns() });
      if (req.method === 'POST') {
        const input = parseJson(req.body);
        const withCreator = input && typeof input === 'object' && !Array.isArray(input) ? { ...input, createdBy: req.operatorId } : input;
        return opsJson(201, await createCampaign(withCreator));
      }
      return undefined;
    }
    let m = new RegExp(`^/ops/campaigns/${ID}$`).exec(path);
    if (m && req.method === 'GET') return opsJson(200, await campaignStatus(m[1]!));
    m = new RegExp(`^/ops/campaigns/${ID}/audience$`).exec(path);
    if (m && req.method === 'POST') {
      const trimmed = req.body.trim();
      const ids = trimmed.startsWith('[') ? parseJson(trimmed) : trimmed.split(/\r?\n/);
      if (!Array.isArray(ids) || !ids.every((x) => typeof x === 'string')) throw new CampaignError('INVALID', 'audience: account ids, one per line or a JSON array of strings');
      return opsJson(200, await loadList(m[1]!, ids as string[]));
    }
    m = new RegExp(`^/ops/campaigns/${ID}/(start|pause|resume|cancel)$`).exec(path);
    if (m && req.method === 'POST') return opsJson(200, await actions[m[2] as keyof typeof actions](m[1]!));
    return undefined;
  } catch (e) {
    if (e instanceof CampaignError) {
      const status = e.code === 'INVALID' ? 400 : e.code === 'NOT_FOUND' ? 404 : 409;
      return opsProblem(status, e.code, e.message);
    }
    throw e;
  }
}
