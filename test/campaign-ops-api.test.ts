/** The campaign routes of the operations API and the CLI: status codes, refusals, and the progress line. */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { setupTestEnv } from './support/env.ts';
import { resetCampaignConfig } from '../src/campaign/config.ts';
import { handleCampaignRequest } from '../src/ops/campaigns.ts';
import type { OpsRequest } from '../src/ops/router.ts';
import { seedAudience } from '../src/campaign/seed.ts';
import { getCampaign } from '../src/campaign/store.ts';
import { progressLine } from '../scripts/campaign.ts';
import { zeroCounters, type CampaignStatus } from '../src/campaign/types.ts';

beforeAll(async () => {
  await setupTestEnv({ CAMPAIGN_EMAIL_QUOTA_PER_SECOND: '100', CAMPAIGN_SMS_QUOTA_PER_SECOND: '10' });
  resetCampaignConfig();
  await seedAudience(0, 20);
});

const req = (method: string, path: string, body = ''): OpsRequest => ({ method, path, body, query: {}, operatorId: 'op-1', groups: ['operators'], headers: {} });
const json = (r: { body: string } | undefined) => JSON.parse(r!.body) as Record<string, unknown>;

describe('operations API: /ops/campaigns', () => {
  it('creates, starts, pauses, resumes, cancels and reports, refusing bad input with 400/404/409', async () => {
    expect(await handleCampaignRequest(req('GET', '/ops/accounts/x'))).toBeUndefined();
    const bad = await handleCampaignRequest(req('POST', '/ops/campaigns', JSON.stringify({ name: 'x', templateId: 'linked-services-review', rates: { email: 101 }, audience: { kind: 'all' } })));
    expect(bad?.statusCode).toBe(400);
    expect(json(bad)).toMatchObject({ error: 'INVALID', message: expect.stringMatching(/above the configured quota of 100/) });
    expect((await handleCampaignRequest(req('POST', '/ops/campaigns', '{not json')))?.statusCode).toBe(400);

    const created = await handleCampaignRequest(req('POST', '/ops/campaigns', JSON.stringify({ name: 'x', templateId: 'linked-services-review', rates: { email: 50 }, audience: { kind: 'all' } })));
    expect(created?.statusCode).toBe(201);
    const id = String(json(created).campaignId);
    expect((await getCampaign(id))?.createdBy).toBe('op-1');
    expect((await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/start`)))?.statusCode).toBe(200);
    expect((await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/start`)))?.statusCode).toBe(409);
    expect((await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/pause`)))?.statusCode).toBe(200);
    expect((await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/resume`)))?.statusCode).toBe(200);
    expect((await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/cancel`)))?.statusCode).toBe(200);
    const resumed = await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/resume`));
    expect(resumed?.statusCode).toBe(409);
    expect(json(resumed).message).toMatch(/cannot be resumed/);
    const status = json(await handleCampaignRequest(req('GET', `/ops/campaigns/${id}`)));
    expect(status).toMatchObject({ campaign: { campaignId: id, state: 'CANCELLED' }, counters: { planned: 0 } });
    expect((await handleCampaignRequest(req('GET', '/ops/campaigns/c-missing')))?.statusCode).toBe(404);
    const list = json(await handleCampaignRequest(req('GET', '/ops/campaigns')));
    expect((list.campaigns as { campaignId: string }[]).map((c) => c.campaignId)).toContain(id);
  });

  it('loads a list audience from lines or a JSON array, only while DRAFT', async () => {
    const created = json(await handleCampaignRequest(req('POST', '/ops/campaigns', JSON.stringify({ name: 'l', templateId: 'linked-services-review', rates: { sms: 5 }, audience: { kind: 'list' } }))));
    const id = String(created.campaignId);
    expect(json(await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/audience`, 'acct-00000001\nacct-00000002\n')))).toMatchObject({ listSize: 2 });
    expect(json(await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/audience`, '["acct-00000003"]')))).toMatchObject({ listSize: 3 });
    expect((await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/audience`, '[1, 2]')))?.statusCode).toBe(400);
    expect((await handleCampaignRequest(req('POST', `/ops/campaigns/${id}/audience`, 'not an id!')))?.statusCode).toBe(400);
  });
});

describe('npm run campaign', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/campaign.ts', ...args], { env: process.env, encoding: 'utf8', timeout: 60_000 });

  it('refuses bad input with a clear message and a non-zero exit', () => {
    const r = cli('create', '--template', 'nope', '--email-rate', '10');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/error \(INVALID\): unknown template "nope"/);
    const z = cli('create', '--template', 'linked-services-review', '--sms-rate', '0');
    expect(z.status).toBe(1);
    expect(z.stderr).toMatch(/rates.sms: must be above 0/);
    expect(cli('status', 'c-missing').status).toBe(3);
  });

  it('creates and starts a campaign and reports its status as JSON', () => {
    const c = cli('create', '--template', 'linked-services-review', '--email-rate', '20', '--json');
    expect(c.status, c.stderr).toBe(0);
    const { campaignId } = JSON.parse(c.stdout) as { campaignId: string };
    expect(cli('start', campaignId, '--no-worker').status).toBe(0);
    const s = cli('status', campaignId, '--json');
    expect(JSON.parse(s.stdout)).toMatchObject({ campaign: { campaignId, state: 'RUNNING' } });
    expect(cli('cancel', campaignId).status).toBe(0);
  });

  it('draws the progress line: bar, done/total, rate and ETA per channel', () => {
    const st: CampaignStatus = {
      campaign: { campaignId: 'c-1', state: 'RUNNING', audienceEstimate: 1000 } as CampaignStatus['campaign'],
      counters: zeroCounters(),
      byChannel: { email: { ...zeroCounters(), planned: 600, sent: 480, skipped: 20, shards: 8, shardsDone: 3 } },
    };
    const line = progressLine(st, new Map([['email', 100]]));
    expect(line).toBe('c-1 RUNNING | email [##########..........] 500/1,000 100/s ETA 5s (sent 480, failed 0, suppressed 0, skipped 20)');
  });
});
