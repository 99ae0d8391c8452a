/** The campaigns construct (infra/campaigns.ts) as synthesised in the stack: queue, trigger, templates, grants, cdk-nag. */
import { beforeAll, describe, expect, it } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { loadDeployConfig } from '../infra/config.ts';
import { nagFindings, synthesise, type Synthesised } from '../infra/testing.ts';
import { campaignTemplates, sesTemplateName } from '../src/campaign/templates.ts';

type Json = Record<string, unknown>;
let s: Synthesised;
let resources: Record<string, { Type: string; Properties: Json }>;
let prefix: string;

beforeAll(async () => {
  const cfg = loadDeployConfig('dev');
  prefix = `${cfg.namePrefix}-`;
  s = await synthesise(cfg);
  resources = (s.main.toJSON() as { Resources: typeof resources }).Resources;
}, 120_000);

const logicalIdOf = (pathPart: string, type: string) =>
  Object.entries(resources).find(([id, r]) => r.Type === type && id.includes(pathPart) && !id.includes('Dlq'))?.[0];

describe('campaigns in the stack', () => {
  it('is composed: the campaign function is triggered by its own queue, one message at a time', () => {
    expect(s.stacks.main.campaigns).toBeDefined();
    const queue = logicalIdOf('CampaignsWorkQueue', 'AWS::SQS::Queue');
    expect(queue).toBeDefined();
    s.main.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 2 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Visibility longer than the function's 15 minutes; a dead-letter queue after 5 receives.
    expect(resources[queue!]!.Properties).toMatchObject({ VisibilityTimeout: 960, RedrivePolicy: { maxReceiveCount: 5 } });
  });

  it('gives the worker and the ops function the queue URL and send rights; the worker knows the templates are deployed', () => {
    s.main.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `${prefix}campaign`,
      Timeout: 900,
      Environment: { Variables: Match.objectLike({ CAMPAIGN_QUEUE_URL: Match.anyValue(), CAMPAIGN_TEMPLATES_DEPLOYED: 'true', CAMPAIGN_SES_TEMPLATE_PREFIX: prefix }) },
    });
    s.main.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `${prefix}ops`,
      Environment: { Variables: Match.objectLike({ CAMPAIGN_QUEUE_URL: Match.anyValue() }) },
    });
    const sendPolicies = Object.values(resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes('sqs:SendMessage') && JSON.stringify(r.Properties).includes('CampaignsWorkQueue'),
    );
    expect(sendPolicies.length).toBeGreaterThanOrEqual(2);
  });

  it('deploys one SES template per campaign template and locale, from src/campaign/templates.ts', () => {
    for (const t of campaignTemplates.values()) {
      for (const loc of Object.keys(t.email ?? {}) as ('ja' | 'en')[]) {
        s.main.hasResourceProperties('AWS::SES::Template', {
          Template: { TemplateName: prefix + sesTemplateName(t.id, loc), SubjectPart: t.email![loc].subject, HtmlPart: t.email![loc].html, TextPart: t.email![loc].text },
        });
      }
    }
  });

  it('has no unacknowledged cdk-nag findings on the campaign resources', () => {
    expect(nagFindings(s.nag).filter((f) => /Campaign/i.test(f))).toEqual([]);
  });
});
