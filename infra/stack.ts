/**
 * The production stack: the foundation, then one construct per capability, then monitoring over
 * everything they created. The WAF lives in a small us-east-1 stack (CloudFront requirement).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CrossStackReferences, ReferenceStrength, Stack, Tags, type App, type StackProps } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { functionNames, type FunctionName } from '../src/routing.ts';
import { ActionsApi } from './actions-api.ts';
import { AlertPipeline } from './alert-pipeline.ts';
import { deployableFunctions } from './bundling.ts';
import type { CapabilityConstruct, CapabilityProps } from './capability.ts';
import type { DeployConfig } from './config.ts';
import { EdgeStack } from './edge-stack.ts';
import { Foundation } from './foundation.ts';
import { FraudOps } from './fraud-ops.ts';
import { MailStack } from './mail-stack.ts';
import { Monitoring } from './monitoring.ts';
import { RepliesAndDelivery } from './replies-delivery.ts';

export interface AlertingStackProps extends StackProps {
  readonly config: DeployConfig;
  readonly webAclArn: string;
  readonly webAclName: string;
  /** The SES receiving side (receipt rules, inbound-email topic) in sesReceivingRegion. */
  readonly mail: MailStack;
  /** The campaigns capability (infra/campaigns.ts), when it exists. */
  readonly campaigns?: CapabilityConstruct;
}

export class AlertingStack extends Stack {
  readonly foundation: Foundation;
  readonly alertPipeline: AlertPipeline;
  readonly actionsApi: ActionsApi;
  readonly repliesAndDelivery: RepliesAndDelivery;
  readonly campaigns: Construct | undefined;
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: AlertingStackProps) {
    super(scope, id, props);
    // Strong: the WebACL (edge stack) cannot be deleted while the distribution uses it.
    CrossStackReferences.of(this).consume(ReferenceStrength.STRONG);
    const foundation = new Foundation(this, 'Foundation', { config: props.config });
    this.foundation = foundation;

    const deployable = new Set(deployableFunctions());
    const created = new Map<FunctionName, NodejsFunction>();
    // Each function is created inside the first capability that wires it.
    const functionsIn = (scope: Construct) => (name: FunctionName) => {
      if (!deployable.has(name)) return undefined;
      let fn = created.get(name);
      if (!fn) {
        fn = foundation.newFunction(scope, name);
        created.set(name, fn);
      }
      return fn;
    };
    const capability = <T extends Construct>(id: string, make: (scope: Construct, props: CapabilityProps) => T): T => {
      const holder = new Construct(this, `${id}Capability`);
      return make(holder, { foundation, functionFor: functionsIn(holder) });
    };

    this.alertPipeline = capability('Alerts', (s, p) => new AlertPipeline(s, 'AlertPipeline', p));
    this.actionsApi = capability('Actions', (s, p) => new ActionsApi(s, 'ActionsApi', { ...p, webAclArn: props.webAclArn }));
    this.repliesAndDelivery = capability(
      'Replies',
      (s, p) => new RepliesAndDelivery(s, 'RepliesAndDelivery', { ...p, inboundEmailTopic: props.mail.inboundEmailTopic }),
    );
    const Campaigns = props.campaigns;
    this.campaigns = Campaigns ? capability('Campaigns', (s, p) => new Campaigns(s, 'Campaigns', p)) : undefined;
    capability('Fraud', (s, p) => new FraudOps(s, 'FraudOps', p));

    // A handler no capability wires yet is still deployed (with its grants), so every entry point
    // on disk exists in AWS; the infra tests say which triggers are missing.
    const unwired = new Construct(this, 'Unwired');
    for (const name of functionNames) functionsIn(unwired)(name);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      foundation,
      api: this.actionsApi.api,
      authorizeApi: this.actionsApi.authorizeApi,
      webAclName: props.webAclName,
    });
  }
}

export const CAMPAIGNS_MODULE = resolve(import.meta.dirname, 'campaigns.ts');

/** infra/campaigns.ts's Campaigns class, or undefined while that file does not exist. */
export async function loadCampaigns(file: string = CAMPAIGNS_MODULE): Promise<CapabilityConstruct | undefined> {
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const Campaigns = mod['Campaigns'];
  if (typeof Campaigns !== 'function') throw new Error(`${file} must export class Campaigns (see infra/capability.ts)`);
  return Campaigns as CapabilityConstruct;
}

export interface Stacks {
  edge: EdgeStack;
  mail: MailStack;
  main: AlertingStack;
}

/** Both stacks of one environment, into `app`. */
export function addStacks(app: App, config: DeployConfig, campaigns?: CapabilityConstruct): Stacks {
  const tags = { application: 'linked-account-alerting', environment: config.environment };
  const edge = new EdgeStack(app, `${config.namePrefix}-edge`, {
    config,
    env: { account: config.account, region: 'us-east-1' },
    crossRegionReferences: true,
    description: 'Linked-account alerting: WAF for the action pages (CloudFront scope, us-east-1)',
    terminationProtection: config.environment === 'prod',
  });
  const mail = new MailStack(app, `${config.namePrefix}-mail`, {
    config,
    env: { account: config.account, region: config.sesReceivingRegion },
    crossRegionReferences: true,
    description: 'Linked-account alerting: SES receiving for email replies (receipt rules, inbound topic)',
    terminationProtection: config.environment === 'prod',
  });
  const main = new AlertingStack(app, config.namePrefix, {
    config,
    webAclArn: edge.webAcl.attrArn,
    webAclName: edge.webAclName,
    mail,
    ...(campaigns ? { campaigns } : {}),
    env: { account: config.account, region: config.region },
    crossRegionReferences: true,
    description: 'Linked-account alerting and one-tap account lock',
    terminationProtection: config.environment === 'prod',
  });
  // Not on dashboards: CloudFormation's schema for AWS::CloudWatch::Dashboard (as cfn-lint 1.51
  // knows it) has no Tags, and an unknown property fails the deploy.
  for (const s of [edge, mail, main]) for (const [k, v] of Object.entries(tags)) Tags.of(s).add(k, v, { excludeResourceTypes: ['AWS::CloudWatch::Dashboard'] });
  return { edge, mail, main };
}
