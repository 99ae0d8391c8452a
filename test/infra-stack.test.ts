/**
 * The production stack (dev configuration), synthesised once: assertions per construct, handler
 * and route coverage, least privilege read back from the policies, and cdk-nag AwsSolutions with
 * zero unacknowledged findings. Bundling is skipped here (test/infra-synth.test.ts bundles).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { GSIS, TABLE_KEYS, TTL_ATTRIBUTE } from '../src/store/table.ts';
import { functionNames, httpRoutes, routes, type FunctionName } from '../src/routing.ts';
import { parseRuntimeConfig } from '../src/config.ts';
import { loadDeployConfig, type DeployConfig } from '../infra/config.ts';
import { handlersOnDisk, nodeOptionsFor } from '../infra/bundling.ts';
import { functionPermissions } from '../infra/permissions.ts';
import { ACTION_PAGES_RATE_RULE, BODY_SIZE_RULE } from '../infra/edge-stack.ts';
import { METRICS_NAMESPACE } from '../infra/foundation.ts';
import { ALERT_LATENCY_METRIC } from '../infra/monitoring.ts';
import { nagFindings, synthesise, type Synthesised } from '../infra/testing.ts';

type Json = Record<string, unknown>;
interface Resource {
  Type: string;
  Properties: Json;
}
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

let s: Synthesised;
let cfg: DeployConfig;
let resources: Record<string, Resource>;

beforeAll(async () => {
  cfg = loadDeployConfig('dev');
  s = await synthesise(cfg);
  resources = (s.main.toJSON() as { Resources: Record<string, Resource> }).Resources;
}, 120_000);

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const actionsOf = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
const resourcesOf = (st: Statement) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]);

/** Logical id of the Lambda function named <prefix>-<name>. */
function functionId(name: string): string | undefined {
  return ofType('AWS::Lambda::Function').find(([, r]) => r.Properties['FunctionName'] === `${cfg.namePrefix}-${name}`)?.[0];
}
function deployedNames(): string[] {
  return ofType('AWS::Lambda::Function')
    .map(([, r]) => String(r.Properties['FunctionName']))
    .filter((n) => n.startsWith(`${cfg.namePrefix}-`))
    .map((n) => n.slice(cfg.namePrefix.length + 1));
}
/** All statements of the policies attached to a function's role. */
function statementsOf(name: string): Statement[] {
  const fn = resources[functionId(name)!]!;
  const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties['Roles'] as { Ref: string }[]).some((r) => r.Ref === roleId))
    .flatMap(([, p]) => (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement);
}
function allowedActions(name: string): Set<string> {
  return new Set(statementsOf(name).filter((st) => st.Effect === 'Allow').flatMap(actionsOf));
}

describe('handler and route coverage', () => {
  it('every functions/<name>/handler.ts on disk is deployed as a function', () => {
    const deployed = new Set(deployedNames());
    const missing = handlersOnDisk().filter((h) => !deployed.has(h));
    expect(missing, 'handlers on disk without a deployed function').toEqual([]);
  });

  it('every handler on disk is a name in functionNames (so it has a permission entry)', () => {
    const known = new Set<string>(functionNames);
    expect(handlersOnDisk().filter((h) => !known.has(h))).toEqual([]);
  });

  it('every route target in the routing table has its function and its rule', () => {
    const deployed = new Set(deployedNames());
    const missing = routes.filter((r) => !deployed.has(r.target)).map((r) => `${r.name} -> functions/${r.target}/handler.ts`);
    expect(missing, 'route targets without a handler').toEqual([]);
    for (const route of routes) {
      s.main.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: Match.anyValue(),
        EventPattern: { source: [route.source], 'detail-type': [...route.detailTypes] },
      });
    }
  });

  it('every http route has its function and an API Gateway route with the right auth', () => {
    const deployed = new Set(deployedNames());
    const missing = httpRoutes.filter((r) => !deployed.has(r.target)).map((r) => `${r.method} ${r.path} -> ${r.target}`);
    expect(missing, 'http route targets without a handler').toEqual([]);
    const auth = { public: 'NONE', iam: 'AWS_IAM', operator: 'JWT' } as const;
    for (const r of httpRoutes) {
      s.main.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: `${r.method} ${r.path}`, AuthorizationType: auth[r.auth] });
    }
  });

  it('every function in the permission map is a routing-table name', () => {
    expect(Object.keys(functionPermissions).sort()).toEqual([...functionNames].sort());
  });
});

describe('functions', () => {
  it('are nodejs24.x on arm64 with Powertools settings, JSON logs and their own log group', () => {
    const fns = ofType('AWS::Lambda::Function').filter(([, r]) => String(r.Properties['FunctionName']).startsWith(cfg.namePrefix));
    expect(fns.length).toBeGreaterThanOrEqual(2);
    for (const [, fn] of fns) {
      const p = fn.Properties;
      expect(p['Runtime']).toBe('nodejs24.x');
      expect(p['Architectures']).toEqual(['arm64']);
      expect(p['Handler']).toBe('index.handler');
      const env = (p['Environment'] as { Variables: Record<string, unknown> }).Variables;
      expect(env['POWERTOOLS_METRICS_NAMESPACE']).toBe(METRICS_NAMESPACE);
      expect(env['POWERTOOLS_LOG_LEVEL']).toBe(cfg.logLevel);
      // Source maps on, except on the paths where a caller waits for the cold start (authorize, action).
      const service = String(p['FunctionName']).slice(cfg.namePrefix.length + 1);
      expect(env['NODE_OPTIONS']).toBe(nodeOptionsFor(service) || undefined);
      expect(String(env['POWERTOOLS_SERVICE_NAME'])).toBe(String(p['FunctionName']).slice(cfg.namePrefix.length + 1));
      expect((p['LoggingConfig'] as Json)['LogFormat']).toBe('JSON');
    }
  });

  it('handlers get the runtime configuration src/config.ts validates', () => {
    for (const name of deployedNames().filter((n) => (functionNames as readonly string[]).includes(n))) {
      const env = (resources[functionId(name)!]!.Properties['Environment'] as { Variables: Record<string, unknown> }).Variables;
      // Deploy-time references stand in as plausible values; the rest are literal from the config.
      const concrete: Record<string, string> = {};
      for (const [k, v] of Object.entries(env)) concrete[k] = typeof v === 'string' ? v : `ref-${k}`;
      concrete['ACTION_BASE_URL'] = 'https://d111111abcdef8.cloudfront.net/a/';
      if (name === 'alert') {
        // Schema failures are parked in the alert route's own DLQ, which the function may send to.
        expect(JSON.stringify(env['ALERT_DLQ_URL'])).toMatch(/CoreEventsToAlert\w*Dlq/);
        concrete['ALERT_DLQ_URL'] = 'https://sqs.ap-northeast-1.amazonaws.com/123456789012/CoreEventsToAlert-dlq';
      } else {
        expect(env['ALERT_DLQ_URL'], name).toBeUndefined();
      }
      const rc = parseRuntimeConfig(concrete);
      expect(rc.TOKEN_PEPPER, `${name}: no pepper value in the environment`).toBeUndefined();
      expect(rc.TOKEN_PEPPER_SECRET_ARN).toBeTruthy();
      expect(rc.HOLD_WINDOW_HOURS).toBe(cfg.holds.windowHours);
      expect(rc.HOLD_LIMIT_MINOR).toBe(cfg.holds.limitMinor);
      expect(rc.TOKEN_TTL_DAYS).toBe(cfg.tokens.ttlDays);
      expect(rc.SES_FROM_ADDRESS).toBe(cfg.email.fromAddress);
      // SMS through End User Messaging: the configured identity and configuration set, links per smsLinks.
      expect(rc.SMS_ORIGINATION_IDENTITY).toBe(cfg.sms.originationIdentity);
      expect(rc.SMS_CONFIGURATION_SET).toBe(cfg.sms.configurationSetName);
      expect(rc.SMS_LINKS).toBe(cfg.smsLinks);
      expect(rc.SMS_BANK_CONTACT).toBe(cfg.sms.bankContact);
      expect(env['CAMPAIGN_EMAIL_QUOTA_PER_SECOND']).toBe(String(cfg.quotas.emailPerSecond));
      expect(env['CAMPAIGN_SMS_QUOTA_PER_SECOND']).toBe(String(cfg.quotas.smsPerSecond));
      // No custom domain in dev: the distribution's own name.
      expect(JSON.stringify(env['ACTION_BASE_URL'])).toMatch(/^\{"Fn::Join":\["",\["https:\/\/",\{"Fn::GetAtt":\["\w*Cdn\w*","DomainName"\]\},"\/a\/"\]\]\}$/);
    }
  });
});

describe('foundation: table, keys, bus, pepper, email and SMS identities', () => {
  it('the table is built from src/store/table.ts with PITR, deletion protection, a CMK and TTL', () => {
    s.main.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      GlobalSecondaryIndexes: GSIS.map((g) =>
        Match.objectLike({
          IndexName: g.indexName,
          KeySchema: [
            { AttributeName: g.partitionKey, KeyType: 'HASH' },
            ...(g.sortKey ? [{ AttributeName: g.sortKey, KeyType: 'RANGE' }] : []),
          ],
          Projection:
            typeof g.projection === 'string'
              ? { ProjectionType: g.projection }
              : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...g.projection] },
        }),
      ),
    });
    const [[, table]] = ofType('AWS::DynamoDB::Table') as [[string, Resource & { DeletionPolicy?: string }]];
    expect(table.DeletionPolicy).toBe('Retain');
  });

  it('both keys rotate and are retained', () => {
    const keys = ofType('AWS::KMS::Key');
    expect(keys).toHaveLength(2);
    for (const [, k] of keys) expect(k.Properties['EnableKeyRotation']).toBe(true);
  });

  it('the bus and its archive carry contact details: both use the customer-managed data key; the bus dead-letters what it cannot encrypt', () => {
    const dataKey = ofType('AWS::KMS::Key').find(([id]) => id.includes('DataKey'))![0];
    s.main.hasResourceProperties('AWS::Events::EventBus', {
      KmsKeyIdentifier: { 'Fn::GetAtt': [dataKey, 'Arn'] },
      DeadLetterConfig: { Arn: Match.anyValue() },
    });
    s.main.hasResourceProperties('AWS::Events::Archive', { KmsKeyIdentifier: { 'Fn::GetAtt': [dataKey, 'Arn'] } });
  });

  it('the custom bus takes only bank.core events from the core bank accounts, and archives', () => {
    s.main.resourceCountIs('AWS::Events::EventBus', 1);
    for (const account of cfg.coreBank.accountIds) {
      s.main.hasResourceProperties('AWS::Events::EventBusPolicy', {
        Statement: Match.objectLike({
          Principal: { AWS: Match.anyValue() },
          Action: 'events:PutEvents',
          Condition: { StringEquals: { 'events:source': 'bank.core' } },
        }),
      });
      expect(JSON.stringify(ofType('AWS::Events::EventBusPolicy'))).toContain(account);
    }
    s.main.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: ['bank.core', 'bank.alerting'] } });
  });

  it('the pepper is a CMK-encrypted JSON secret {"current"} that rotates after the configured days', () => {
    s.main.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: Match.anyValue(),
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{}', GenerateStringKey: 'current', PasswordLength: 64 }),
    });
    s.main.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationLambdaARN: { 'Fn::GetAtt': [functionId('pepper-rotation'), 'Arn'] },
      RotationRules: { ScheduleExpression: `rate(${cfg.tokens.pepperRotationDays} days)` },
    });
  });

  it('the rotation function may touch only the pepper secret', () => {
    const sts = statementsOf('pepper-rotation').filter((st) => st.Effect === 'Allow');
    const sm = sts.filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:') && a !== 'secretsmanager:GetRandomPassword'));
    for (const st of sm) expect(JSON.stringify(st.Resource)).toContain('TokenPepper');
    expect([...allowedActions('pepper-rotation')].filter((a) => a.startsWith('dynamodb:') || a.startsWith('ses:'))).toEqual([]);
  });

  it('SES: domain identity with DKIM and MAIL FROM; the configuration set requires TLS and publishes delivery events to SNS', () => {
    s.main.hasResourceProperties('AWS::SES::EmailIdentity', {
      EmailIdentity: cfg.email.senderDomain,
      MailFromAttributes: { MailFromDomain: `mail.${cfg.email.senderDomain}` },
      ConfigurationSetAttributes: { ConfigurationSetName: Match.anyValue() },
    });
    s.main.hasResourceProperties('AWS::SES::ConfigurationSet', {
      DeliveryOptions: { TlsPolicy: 'REQUIRE' },
      ReputationOptions: { ReputationMetricsEnabled: true },
      SuppressionOptions: { SuppressedReasons: ['BOUNCE', 'COMPLAINT'] },
    });
    s.main.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      EventDestination: Match.objectLike({
        Enabled: true,
        MatchingEventTypes: Match.arrayWith(['send', 'delivery', 'bounce', 'complaint', 'reject', 'deliveryDelay']),
        SnsDestination: { TopicARN: Match.anyValue() },
      }),
    });
  });

  it('SMS: an End User Messaging configuration set sends status events to the delivery topic', () => {
    s.main.hasResourceProperties('AWS::SMSVOICE::ConfigurationSet', {
      ConfigurationSetName: cfg.sms.configurationSetName,
      DefaultSenderId: cfg.sms.senderId,
      EventDestinations: [Match.objectLike({ Enabled: true, MatchingEventTypes: ['TEXT_ALL'], SnsDestination: { TopicArn: Match.anyValue() } })],
    });
  });

  it('every topic is KMS-encrypted and every queue KMS-encrypted with TLS enforced', () => {
    expect(ofType('AWS::SNS::Topic').length).toBeGreaterThan(0);
    expect(ofType('AWS::SQS::Queue').length).toBeGreaterThan(0);
    for (const [, t] of ofType('AWS::SNS::Topic')) expect(t.Properties['KmsMasterKeyId']).toBeTruthy();
    for (const [, q] of ofType('AWS::SQS::Queue')) expect(q.Properties['KmsMasterKeyId']).toBeTruthy();
    const queuePolicies = ofType('AWS::SQS::QueuePolicy').map(([, p]) => JSON.stringify(p.Properties));
    expect(queuePolicies.length).toBe(ofType('AWS::SQS::Queue').length);
    for (const p of queuePolicies) expect(p).toContain('"aws:SecureTransport":"false"');
  });
});

describe('alert pipeline: routing table -> EventBridge rules -> SQS buffers', () => {
  it('each sqs route: rule on the custom bus -> encrypted queue with a DLQ after maxReceiveCount -> function with partial batch failures', () => {
    const deployed = new Set(deployedNames());
    expect(routes.filter((r) => r.via === 'sqs' && deployed.has(r.target)).map((r) => r.target)).toContain('alert');
    for (const route of routes.filter((r) => r.via === 'sqs' && deployed.has(r.target))) {
      // The route's own rule (construct id = route name): several routes may share a detail type.
      const rule = ofType('AWS::Events::Rule').find(([id]) => new RegExp(`AlertPipeline${route.name}[0-9A-F]{8}$`).test(id));
      expect(rule, route.name).toBeDefined();
      const props = rule![1].Properties;
      expect(JSON.stringify(props['EventBusName'])).toMatch(/^\{"Ref":"Foundation\w*Bus\w*"\}$/);
      const target = (props['Targets'] as Json[])[0]!;
      const queueId = (target['Arn'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect(target['DeadLetterConfig']).toBeDefined();
      const queue = resources[queueId]!;
      expect((queue.Properties['RedrivePolicy'] as Json)['maxReceiveCount']).toBe(route.maxReceiveCount);
      const fnTimeout = Number(resources[functionId(route.target)!]!.Properties['Timeout']);
      expect(queue.Properties['VisibilityTimeout']).toBeGreaterThanOrEqual(6 * fnTimeout);
      s.main.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        FunctionName: { Ref: functionId(route.target) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  it('every SQS trigger has a maximum concurrency (the configured one for the routing table queues)', () => {
    const mappings = ofType('AWS::Lambda::EventSourceMapping');
    expect(mappings.length).toBeGreaterThanOrEqual(routes.filter((r) => r.via === 'sqs').length);
    for (const [id, m] of mappings) {
      const max = (m.Properties['ScalingConfig'] as Json | undefined)?.['MaximumConcurrency'];
      expect(max, id).toBeGreaterThanOrEqual(2);
      if (id.includes('AlertPipeline')) expect(max, id).toBe(cfg.queues.maxConcurrency);
    }
  });
});

describe('actions and authorisation API', () => {
  it('the HTTP API stage logs access and is throttled', () => {
    s.main.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      DefaultRouteSettings: { ThrottlingRateLimit: cfg.actionPages.throttleRatePerSecond, ThrottlingBurstLimit: cfg.actionPages.throttleBurst },
    });
    expect(ofType('AWS::ApiGatewayV2::Stage').length).toBeGreaterThan(0);
    for (const [id, stage] of ofType('AWS::ApiGatewayV2::Stage')) {
      const format = String((stage.Properties['AccessLogSettings'] as Json)['Format']);
      expect(format, `${id}: the path holds tokens and must not be logged`).not.toMatch(/\$context\.path|resourcePath/);
    }
  });

  it('authorize is isolated from public traffic: its own API and stage throttle, reserved concurrency', () => {
    const apis = ofType('AWS::ApiGatewayV2::Api');
    const authorizeApi = apis.find(([, a]) => a.Properties['Name'] === `${cfg.namePrefix}-authorize-api`)?.[0];
    const publicApi = apis.find(([, a]) => a.Properties['Name'] === `${cfg.namePrefix}-api`)?.[0];
    expect(authorizeApi).toBeDefined();
    expect(publicApi).toBeDefined();
    s.main.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      ApiId: { Ref: authorizeApi },
      DefaultRouteSettings: { ThrottlingRateLimit: cfg.authorize.throttleRatePerSecond, ThrottlingBurstLimit: cfg.authorize.throttleBurst },
    });
    // Every iam route on the authorisation API, every other route on the public one.
    expect(ofType('AWS::ApiGatewayV2::Route').length).toBeGreaterThan(0);
    for (const [, r] of ofType('AWS::ApiGatewayV2::Route')) {
      const api = (r.Properties['ApiId'] as { Ref: string }).Ref;
      expect(api, String(r.Properties['RouteKey'])).toBe(r.Properties['AuthorizationType'] === 'AWS_IAM' ? authorizeApi : publicApi);
    }
    expect(resources[functionId('authorize')!]!.Properties['ReservedConcurrentExecutions']).toBe(cfg.authorize.reservedConcurrency);
    const reserved = ofType('AWS::Lambda::Function').filter(([, f]) => f.Properties['ReservedConcurrentExecutions'] !== undefined);
    expect(reserved.map(([id]) => id)).toEqual([functionId('authorize')]);
  });

  it('operators: Cognito with MFA required, threat protection enforced, no self sign-up; JWT authoriser', () => {
    s.main.hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 14 }) },
    });
    s.main.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { AuthorizerType: 'JWT' });
  });

  it('the core bank assumes a role (named principals, ExternalId) that may invoke exactly POST /v1/authorize on the stage', () => {
    const principals = cfg.coreBank.invokerPrincipalArns.length === 1 ? cfg.coreBank.invokerPrincipalArns[0] : cfg.coreBank.invokerPrincipalArns;
    s.main.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { AWS: principals },
            Condition: { StringEquals: { 'sts:ExternalId': cfg.coreBank.externalId } },
          },
        ],
      },
      Description: Match.stringLikeRegexp('core bank'),
    });
    // No account root is trusted.
    const role = ofType('AWS::IAM::Role').find(([, r]) => String(r.Properties['Description']).includes('core bank'))!;
    expect(JSON.stringify(role[1].Properties['AssumeRolePolicyDocument'])).not.toMatch(/:root/);
    // Exactly the iam routes of the routing table, each on the authorisation API's $default stage.
    const roleId = role[0];
    const [, policy] = ofType('AWS::IAM::Policy').find(([, p]) => (p.Properties['Roles'] as { Ref: string }[]).some((r) => r.Ref === roleId))!;
    const statements = (policy.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement;
    expect(statements.map((st) => st.Action)).toEqual(['execute-api:Invoke']);
    const arns = resourcesOf(statements[0]!).map((r) => JSON.stringify(r));
    const iamRoutes = httpRoutes.filter((r) => r.auth === 'iam');
    expect(iamRoutes.length).toBeGreaterThan(0);
    expect(arns).toHaveLength(iamRoutes.length);
    for (const r of iamRoutes) {
      const tail = `/$default/${r.method}${r.path.replace(/\{[^}]+\}/g, '*')}"`;
      expect(arns.filter((a) => a.endsWith(`${tail}]]}`)), tail).toHaveLength(1);
    }
    for (const a of arns) expect(a).toMatch(/"Ref":"\w*AuthorizeApi\w*"/);
  });

  it('CloudFront fronts the API with the edge WebACL, HTTPS only, no caching, security headers, no token-bearing URL logs', () => {
    s.main.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        WebACLId: Match.anyValue(),
        Logging: Match.absent(),
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
          AllowedMethods: Match.arrayWith(['POST']),
        }),
        Origins: Match.arrayWith([Match.objectLike({ CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] }) })]),
      }),
    });
    s.main.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          StrictTransportSecurity: Match.objectLike({ IncludeSubdomains: true }),
        }),
      }),
    });
  });

  it('the operations console: private bucket via OAC under /console/*, strict CSP, Cognito hosted UI with PKCE', () => {
    s.main.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    s.main.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    s.main.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        CacheBehaviors: [Match.objectLike({ PathPattern: '/console/*', ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'] })],
      }),
    });
    s.main.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: { ContentSecurityPolicy: Match.stringLikeRegexp("script-src 'self'; .*connect-src 'self' https://[a-z0-9-]+\\.auth\\.ap-northeast-1\\.amazoncognito\\.com"), Override: true },
        }),
      }),
    });
    s.main.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: ['openid'],
      GenerateSecret: false,
      CallbackURLs: [{ 'Fn::Join': ['', ['https://', Match.anyValue(), '/console/']] }],
    });
    s.main.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: `${cfg.namePrefix.toLowerCase()}-ops-${cfg.account}` });
    s.main.resourceCountIs('Custom::CDKBucketDeployment', 1);
  });

  it('the edge stack is in us-east-1 with a CLOUDFRONT WebACL rate-limiting /a/* per IP at the configured limit', () => {
    expect(s.stacks.edge.region).toBe('us-east-1');
    s.edge.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      Rules: Match.arrayWith([
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesAmazonIpReputationList' } } }),
        Match.objectLike({
          Name: ACTION_PAGES_RATE_RULE,
          Action: { Block: Match.anyValue() },
          Statement: {
            RateBasedStatement: Match.objectLike({
              Limit: cfg.actionPages.wafRateLimitPer5Minutes,
              AggregateKeyType: 'IP',
              ScopeDownStatement: {
                ByteMatchStatement: Match.objectLike({ SearchString: '/a/', PositionalConstraint: 'STARTS_WITH', FieldToMatch: { UriPath: {} } }),
              },
            }),
          },
        }),
        Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' } } }),
      ]),
    });
    s.edge.hasResourceProperties('AWS::WAFv2::LoggingConfiguration', { RedactedFields: [{ UriPath: {} }] });
  });

  it('the WAF blocks large bodies except on /ops/* (audience uploads), and the common rule set only counts its 8 KB rule', () => {
    const [acl] = Object.values(s.edge.findResources('AWS::WAFv2::WebACL')) as { Properties: { Rules: Json[] } }[];
    const rules = acl!.Properties.Rules as { Name: string; Priority: number; Statement: Json }[];
    const body = rules.find((r) => r.Name === BODY_SIZE_RULE)!;
    expect(JSON.stringify(body.Statement)).toContain(`"Size":${cfg.actionPages.wafMaxBodyBytes}`);
    const [size, notOps] = (body.Statement as { AndStatement: { Statements: Json[] } }).AndStatement.Statements as [Json, Json];
    expect(size['SizeConstraintStatement']).toMatchObject({ ComparisonOperator: 'GT', FieldToMatch: { Body: { OversizeHandling: 'MATCH' } } });
    expect(notOps).toEqual({
      NotStatement: {
        Statement: {
          ByteMatchStatement: expect.anything(),
        },
      },
    });
    expect((notOps['NotStatement'] as { Statement: { ByteMatchStatement: Json } }).Statement.ByteMatchStatement).toMatchObject({
      FieldToMatch: { UriPath: {} },
      PositionalConstraint: 'STARTS_WITH',
      SearchString: '/ops/',
    });
    const common = rules.find((r) => r.Name === 'AWSManagedRulesCommonRuleSet')!;
    expect(common.Statement).toEqual({
      ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet', RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }] },
    });
    expect(new Set(rules.map((r) => r.Priority)).size).toBe(rules.length);
  });
});

describe('replies and delivery', () => {
  it('inbound SMS: a topic End User Messaging may publish to, subscribed by sms-reply', () => {
    s.main.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'sms-voice.amazonaws.com' }, Action: 'sns:Publish' })]) },
    });
    if (functionId('sms-reply')) {
      s.main.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'lambda',
        Endpoint: { 'Fn::GetAtt': [functionId('sms-reply'), 'Arn'] },
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue() },
      });
    }
  });

  it('email replies: a receipt rule for the Reply-To address, scanned, TLS required, to SNS (base64) for email-reply', () => {
    expect(s.stacks.mail.region).toBe(cfg.sesReceivingRegion);
    s.mail.hasResourceProperties('AWS::SES::ReceiptRule', {
      Rule: Match.objectLike({
        Recipients: [cfg.email.replyToAddress],
        ScanEnabled: true,
        TlsPolicy: 'Require',
        Actions: [{ SNSAction: { Encoding: 'Base64', TopicArn: Match.anyValue() } }],
      }),
    });
    if (functionId('email-reply')) {
      s.main.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', Endpoint: { 'Fn::GetAtt': [functionId('email-reply'), 'Arn'] } });
    }
  });

  it('delivery: subscribed to the delivery topic, and its undelivered sweep runs every minute', () => {
    const id = functionId('delivery');
    expect(id, 'functions/delivery/handler.ts').toBeDefined();
    s.main.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'lambda', Endpoint: { 'Fn::GetAtt': [id, 'Arn'] } });
    s.main.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  it('SNS-invoked functions retry twice, then go to a dead-letter queue', () => {
    expect(['sms-reply', 'email-reply', 'delivery'].filter((n) => functionId(n))).toEqual(['sms-reply', 'email-reply', 'delivery']);
    for (const name of ['sms-reply', 'email-reply', 'delivery'].filter((n) => functionId(n))) {
      s.main.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: functionId(name) },
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    }
  });
});

describe('least privilege', () => {
  it('SMS senders may send only from the configured identity through the configuration set (no sns:Publish)', () => {
    const senders = deployedNames().filter((n) => functionPermissions[n as FunctionName]?.sendSms);
    expect(senders.length).toBeGreaterThan(0);
    for (const name of senders) {
      const st = statementsOf(name).find((x) => x.Sid === 'SendSmsFromTheBankIdentityOnly')!;
      expect(st.Action).toBe('sms-voice:SendTextMessage');
      expect([...(st.Resource as string[])].sort()).toEqual(
        [cfg.sms.originationIdentity, `arn:aws:sms-voice:${cfg.region}:${cfg.account}:configuration-set/${cfg.sms.configurationSetName}`].sort(),
      );
    }
  });

  it('no statement allows a wildcard action, and `*` resources only where AWS has no ARN', () => {
    expect(ofType('AWS::IAM::Policy').length).toBeGreaterThan(0);
    for (const [id, p] of ofType('AWS::IAM::Policy')) {
      for (const st of (p.Properties['PolicyDocument'] as { Statement: Statement[] }).Statement) {
        if (st.Effect !== 'Allow') continue;
        for (const a of actionsOf(st)) expect(a, `${id}: ${a}`).not.toMatch(/(^\*$|:\*$)/);
        if (resourcesOf(st).includes('*')) {
          expect(actionsOf(st), `${id}: * resource`).toSatisfy((acts: string[]) =>
            acts.every((a) => a === 'secretsmanager:GetRandomPassword'),
          );
        }
      }
    }
  });

  it('each function has exactly the grants of its permission entry', () => {
    for (const name of deployedNames().filter((n): n is FunctionName => (functionNames as readonly string[]).includes(n))) {
      const perms = functionPermissions[name];
      const actions = allowedActions(name);
      expect(actions.has('dynamodb:GetItem'), name).toBe(true);
      expect(actions.has('dynamodb:PutItem'), `${name} PutItem`).toBe(perms.table === 'readWrite');
      expect(actions.has('dynamodb:UpdateItem'), `${name} UpdateItem`).toBe(perms.table === 'readWrite');
      expect(actions.has('dynamodb:Scan'), `${name} Scan`).toBe(Boolean(perms.scan));
      expect(actions.has('ses:SendEmail'), `${name} SendEmail`).toBe(Boolean(perms.sendEmail));
      expect(actions.has('ses:SendBulkEmail'), `${name} SendBulkEmail`).toBe(Boolean(perms.sendBulkEmail));
      expect(actions.has('sms-voice:SendTextMessage'), `${name} SendTextMessage`).toBe(Boolean(perms.sendSms));
      expect(actions.has('sns:Publish'), `${name} sns:Publish`).toBe(false);
      expect(actions.has('events:PutEvents'), `${name} PutEvents`).toBe(Boolean(perms.putEvents));
      expect(actions.has('secretsmanager:GetSecretValue'), `${name} pepper`).toBe(Boolean(perms.readPepper));
    }
  });

  it('the table and its named indexes only (no index/*), and the data key only via DynamoDB', () => {
    for (const name of deployedNames().filter((n) => (functionNames as readonly string[]).includes(n))) {
      const sts = statementsOf(name);
      const table = sts.find((st) => st.Sid === 'TableRead' || st.Sid === 'TableReadWrite')!;
      expect(JSON.stringify(table.Resource)).not.toContain('*');
      for (const g of GSIS) expect(JSON.stringify(table.Resource)).toContain(`/index/${g.indexName}`);
      const key = sts.find((st) => st.Sid === 'TableKeyViaDynamoDb')!;
      expect(key.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.ap-northeast-1.amazonaws.com' } });
    }
  });

  it('email senders may send only from the configured address on the bank identity', () => {
    for (const name of deployedNames().filter((n) => functionPermissions[n as FunctionName]?.sendEmail)) {
      const st = statementsOf(name).find((x) => x.Sid === 'SendFromTheBankIdentityOnly')!;
      expect(st.Condition).toEqual({ StringEquals: { 'ses:FromAddress': cfg.email.fromAddress } });
      expect(JSON.stringify(st.Resource)).toContain(`identity/${cfg.email.senderDomain}`);
    }
  });

  it('function roles carry no AWS managed policies', () => {
    for (const name of deployedNames()) {
      const fn = resources[functionId(name)!]!;
      const roleId = (fn.Properties['Role'] as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      expect(resources[roleId]!.Properties['ManagedPolicyArns'], name).toBeUndefined();
    }
  });
});

describe('monitoring', () => {
  it('alarms: every DLQ not empty, every function error rate and throttles, alert latency p99; all notify the alarm topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const names = alarms.map((a) => String(a['AlarmName']));
    const dlqs = ofType('AWS::SQS::Queue').filter(([, q]) => !q.Properties['RedrivePolicy']).length;
    expect(names.filter((n) => n.includes('-dlq-not-empty-'))).toHaveLength(dlqs);
    for (const fn of deployedNames()) {
      expect(names).toContain(`${cfg.namePrefix}-error-rate-${fn}`);
      expect(names).toContain(`${cfg.namePrefix}-throttles-${fn}`);
    }
    s.main.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${cfg.namePrefix}-alert-latency-p99`,
      Threshold: cfg.monitoring.alertLatencyP99Ms,
      Metrics: [
        Match.objectLike({
          MetricStat: {
            Metric: { Namespace: METRICS_NAMESPACE, MetricName: ALERT_LATENCY_METRIC, Dimensions: [{ Name: 'service', Value: 'alert' }] },
            Period: 300,
            Stat: 'p99',
          },
        }),
      ],
    });
    for (const a of alarms) expect((a['AlarmActions'] as unknown[]).length, String(a['AlarmName'])).toBe(1);
    s.main.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${cfg.namePrefix}-api-5xx`,
      Metrics: [Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ Namespace: 'AWS/ApiGateway', MetricName: '5xx' }) }) })],
    });
    s.main.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'InvalidEvent', Dimensions: [{ Name: 'service', Value: 'alert' }], Threshold: 0 });
    s.main.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: cfg.monitoring.alarmEmail });
    s.main.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('monitoring: SMS, partial batch failures, queue age', () => {
  const alarmNamed = (name: string) => ofType('AWS::CloudWatch::Alarm').find(([, a]) => a.Properties['AlarmName'] === name)?.[1].Properties;

  it('SMS: the month-to-date spend (Maximum) at the configured USD, and delivered parts below the configured share', () => {
    s.main.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `${cfg.namePrefix}-sms-monthly-spend`,
      Namespace: 'AWS/SMSVoice',
      MetricName: 'TextMessageMonthlySpend',
      Statistic: 'Maximum',
      Threshold: cfg.sms.monthlySpendAlarmUsd,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const delivered = alarmNamed(`${cfg.namePrefix}-sms-delivered-below`)!;
    expect(delivered['Threshold']).toBe(cfg.sms.deliveredPercentAlarm);
    expect(JSON.stringify(delivered['Metrics'])).toMatch(/NumberOfTextMessagePartsDelivered.*NumberOfTextMessagePartsSent|NumberOfTextMessagePartsSent.*NumberOfTextMessagePartsDelivered/);
  });

  it("a queue-fed function's error rate counts the records its batches reported failed (SQS received minus deleted)", () => {
    const alert = alarmNamed(`${cfg.namePrefix}-error-rate-alert`)!;
    const metrics = alert['Metrics'] as { Id: string; Expression?: string; MetricStat?: { Metric: { MetricName: string; Namespace: string } } }[];
    const expression = metrics.find((m) => m.Expression)!.Expression!;
    expect(expression).toContain('received0 - deleted0');
    const names = metrics.filter((m) => m.MetricStat).map((m) => `${m.MetricStat!.Metric.Namespace}/${m.MetricStat!.Metric.MetricName}`);
    expect(names).toEqual(expect.arrayContaining(['AWS/SQS/NumberOfMessagesReceived', 'AWS/SQS/NumberOfMessagesDeleted', 'AWS/Lambda/Errors']));
    // A function no queue feeds keeps the plain invocation error rate.
    const authorize = alarmNamed(`${cfg.namePrefix}-error-rate-authorize`)!;
    expect(JSON.stringify(authorize['Metrics'])).not.toContain('AWS/SQS');
  });

  it("the oldest-message alarm allows campaign work its slices (two visibility timeouts), alert queues five minutes", () => {
    const campaign = alarmNamed(`${cfg.namePrefix}-buffer-behind-campaign-work`);
    expect(campaign, 'campaign-work buffer alarm').toBeDefined();
    const campaignFn = resources[functionId('campaign')!]!;
    expect(Number(campaign!['Threshold'])).toBeGreaterThanOrEqual(2 * Number(campaignFn.Properties['Timeout']));
    expect(alarmNamed(`${cfg.namePrefix}-buffer-behind-CoreEventsToAlert`)!['Threshold']).toBe(300);
  });
});

describe('a failed first deploy does not block the next', () => {
  it('no retained resource has a fixed physical name (a rolled-back create would leave it, and "already exists" would fail the retry)', () => {
    // Names that must be unique in the account and region. (A Cognito user pool name need not be:
    // the retained pool of a failed deploy is an orphan to delete, not a blocker; docs/deploy.md.)
    const nameProps = ['LogGroupName', 'TableName', 'QueueName', 'TopicName', 'Name', 'FunctionName', 'SecretName', 'AliasName', 'BucketName'];
    for (const t of [s.main, s.edge, s.mail]) {
      const all = (t.toJSON() as { Resources: Record<string, Resource & { DeletionPolicy?: string }> }).Resources;
      const retained = Object.entries(all).filter(([, r]) => r.DeletionPolicy === 'Retain');
      expect(retained.length).toBeGreaterThan(0);
      for (const [id, r] of retained) {
        for (const p of nameProps) {
          const v = r.Properties?.[p];
          expect(typeof v === 'string' ? `${id}.${p} = ${v}` : undefined, `${id} is retained with a fixed ${p}`).toBeUndefined();
        }
      }
    }
  });

  it('function log groups are named by CloudFormation and each function logs to its own', () => {
    for (const name of deployedNames()) {
      const fn = resources[functionId(name)!]!;
      const group = ((fn.Properties['LoggingConfig'] as Json)['LogGroup'] as { Ref: string }).Ref;
      expect(resources[group]!.Type).toBe('AWS::Logs::LogGroup');
      expect(resources[group]!.Properties['LogGroupName'], name).toBeUndefined();
    }
  });

  it("the WAF log group's name ends with the stack id (WAF requires the aws-waf-logs- prefix)", () => {
    const [group] = Object.values(s.edge.findResources('AWS::Logs::LogGroup')) as { Properties: Json }[];
    expect(JSON.stringify(group!.Properties['LogGroupName'])).toMatch(/aws-waf-logs.*AWS::StackId/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('has zero unacknowledged findings across both stacks', () => {
    expect(nagFindings(s.nag)).toEqual([]);
    expect(s.nag.success).toBe(true);
  });

  it('every acknowledgement carries a reason', () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    for (const c of s.app.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== 'aws:cdk:acknowledged-rules') continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>)) acks.push({ path: c.node.path, id, reason });
      }
    }
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
  });
});
