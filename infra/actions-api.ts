/**
 * The HTTP side: an API Gateway HTTP API (payload format 2.0, the events the handlers and the
 * local server speak) with the routes of `httpRoutes` in src/routing.ts:
 *   - public: the customers' action pages, behind CloudFront with the WAF (rate-based rule on
 *     /a/*, AWS managed rule groups) and security headers; optional custom domain;
 *   - iam: /v1/authorize, SigV4-signed by the core bank through a role it assumes (ExternalId,
 *     named principals), on an API of its own with its own stage throttle, so a flood of public
 *     requests can never make the bank's debit checks answer 429 (called on that API's own
 *     endpoint, since CloudFront would change the Host the signature covers);
 *   - operator: the operations API, Cognito JWT (MFA required, threat protection enforced), and
 *     the operations console's static files (S3 via origin access control) under /console/*.
 * Stage throttling bounds every route. With a custom domain the public API's execute-api endpoint
 * is switched off: CloudFront reaches it through an API Gateway custom domain of the same name, so
 * nobody can go round the WAF.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpIamAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { resolve } from 'node:path';
import { Construct } from 'constructs';
import { httpRoutes as defaultHttpRoutes, type FunctionName, type HttpRoute } from '../src/routing.ts';
import { REPO_ROOT } from './bundling.ts';
import type { Foundation } from './foundation.ts';
import { acknowledge } from './nag.ts';

export interface ActionsApiProps {
  readonly foundation: Foundation;
  readonly functionFor: (name: FunctionName) => NodejsFunction | undefined;
  /** ARN of the CLOUDFRONT-scope WebACL (created in us-east-1 by the edge stack). */
  readonly webAclArn: string;
  readonly httpRoutes?: readonly HttpRoute[];
}

const CONSOLE_DIR = resolve(REPO_ROOT, 'console');

/**
 * CDK's BucketDeployment runs a CDK-provided function (one per stack) that copies the asset into
 * the bucket at deploy time; its findings are about CDK's helper, acknowledged on it alone.
 */
function acknowledgeBucketDeployment(stack: Stack, bucket: s3.Bucket): void {
  const helper = stack.node.children.find((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
  if (!helper) throw new Error('BucketDeployment helper function not found');
  const why = "CDK's BucketDeployment helper (copies the console files into their bucket at deploy time; no customer data)";
  acknowledge(helper, 'AwsSolutions-L1', `${why}: its runtime is chosen and updated by aws-cdk-lib.`);
  const role = helper.node.findChild('ServiceRole');
  acknowledge(
    role,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    `${why}: the managed policy only lets it write its own logs.`,
  );
  const policy = role.node.findChild('DefaultPolicy');
  const bucketId = stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  const ids = [
    ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map((a) => `AwsSolutions-IAM5[Action::${a}]`),
    `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`,
    // The bootstrap asset bucket, with the partition literal (cdk.json's feature flag) or a token.
    ...['aws', '<AWS::Partition>'].map((p) => `AwsSolutions-IAM5[Resource::arn:${p}:s3:::cdk-hnb659fds-assets-${stack.account}-${stack.region}/*]`),
  ];
  for (const id of ids) acknowledge(policy, id, `${why}: CDK's grants, limited to the console bucket and the CDK asset bucket.`);
}

/** Operator groups in the user pool; the ops function reads them from the JWT's cognito:groups. */
export const OPERATOR_GROUPS = ['operators', 'approvers'] as const;

export class ActionsApi extends Construct {
  /** Action pages and the operations API (behind CloudFront and the WAF). */
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  /** The iam routes (debit authorisation) only, with their own stage throttle. */
  readonly authorizeApi: apigw.HttpApi;
  readonly authorizeStage: apigw.HttpStage;
  readonly distribution: cloudfront.Distribution;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  /** Assumed by the core bank to sign /v1/authorize (and any other iam route). */
  readonly coreBankInvokerRole: iam.Role;
  /** Deployed routes by "METHOD path". */
  readonly routes = new Map<string, apigw.HttpRoute[]>();
  readonly actionBaseUrl: string;

  constructor(scope: Construct, id: string, props: ActionsApiProps) {
    super(scope, id);
    const f = props.foundation;
    const cfg = f.config;
    const stack = Stack.of(this);

    this.userPool = new cognito.UserPool(this, 'Operators', {
      userPoolName: `${cfg.namePrefix}-operators`,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(1),
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const group of OPERATOR_GROUPS) {
      new cognito.CfnUserPoolGroup(this, `Group-${group}`, { userPoolId: this.userPool.userPoolId, groupName: group });
    }
    const custom = cfg.actionPages.customDomain;
    // Ids and outcomes only: the path holds action tokens, so it is not logged.
    const accessLogFormat = AccessLogFormat.custom(
      JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationStatus: '$context.integrationStatus',
        ip: '$context.identity.sourceIp',
        caller: '$context.identity.caller',
        error: '$context.error.message',
      }),
    );
    const stageWithLogs = (id: string, httpApi: apigw.HttpApi, throttle: { rateLimit: number; burstLimit: number }) => {
      const accessLogs = new logs.LogGroup(this, `${id}AccessLogs`, {
        retention: cfg.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      return new apigw.HttpStage(this, id, {
        httpApi,
        stageName: '$default',
        autoDeploy: true,
        detailedMetricsEnabled: true,
        throttle,
        accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs), format: accessLogFormat },
      });
    };
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: `${cfg.namePrefix}-api`,
      description: 'Action pages and the operations API (behind CloudFront and the WAF)',
      createDefaultStage: false,
      // Only CloudFront's way in remains: the API's own custom domain (below).
      disableExecuteApiEndpoint: Boolean(custom),
    });
    this.stage = stageWithLogs('Stage', this.api, { rateLimit: cfg.actionPages.throttleRatePerSecond, burstLimit: cfg.actionPages.throttleBurst });
    this.authorizeApi = new apigw.HttpApi(this, 'AuthorizeApi', {
      apiName: `${cfg.namePrefix}-authorize-api`,
      description: 'Debit authorisation for the core bank (IAM, SigV4): its own stage and throttle',
      createDefaultStage: false,
    });
    this.authorizeStage = stageWithLogs('AuthorizeStage', this.authorizeApi, {
      rateLimit: cfg.authorize.throttleRatePerSecond,
      burstLimit: cfg.authorize.throttleBurst,
    });

    // CloudFront in front of the HTTP API: the WAF can attach to CloudFront, not to an HTTP API.
    const securityHeaders = strictHeaders(this, 'SecurityHeaders', 'Action pages: no framing, no referrer (the URL holds the token), HSTS', {
      // The action page sets its own, narrower CSP (stylesheet hash); this one only fills a gap.
      contentSecurityPolicy: "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      override: false,
    });

    // With a custom domain, CloudFront's origin is an API Gateway custom domain of the same name
    // (regional certificate) and CloudFront forwards the viewer's Host, which API Gateway maps to
    // this API; the execute-api endpoint is off. Without one (dev), the execute-api endpoint is the
    // origin and stays reachable (docs/deploy.md states the risk).
    let originDomain = `${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    if (custom) {
      const domain = new apigw.DomainName(this, 'OriginDomain', {
        domainName: custom.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'RegionalCertificate', custom.regionalCertificateArn),
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
      });
      new apigw.ApiMapping(this, 'OriginMapping', { api: this.api, domainName: domain, stage: this.stage });
      originDomain = domain.regionalDomainName;
    }
    this.distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: `${cfg.namePrefix} action pages`,
      defaultBehavior: {
        origin: new origins.HttpOrigin(originDomain, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        originRequestPolicy: custom ? cloudfront.OriginRequestPolicy.ALL_VIEWER : cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        responseHeadersPolicy: securityHeaders,
      },
      webAclId: props.webAclArn,
      // No standard logs: they would store every action URL, i.e. live tokens (see below).
      enableLogging: false,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_200,
      ...(custom
        ? {
            domainNames: [custom.domainName],
            certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', custom.certificateArn),
            minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR3',
      'CloudFront standard logs would record every action URL, i.e. live single-use tokens; traffic is recorded instead by the WAF logs (URI path redacted) and the API access logs (route key, never the path).',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'No geo restriction on purpose: a customer travelling abroad must still be able to freeze the account from an alert.',
    );
    if (!custom) {
      acknowledge(
        this.distribution,
        'AwsSolutions-CFR4',
        'No custom domain in this environment: the default *.cloudfront.net certificate cannot pin TLS 1.2; set actionPages.customDomain (prod does) to enforce TLSv1.2_2021.',
      );
    }

    const host = custom ? custom.domainName : this.distribution.distributionDomainName;

    // The operations console: static files in a private bucket behind the same distribution
    // (origin access control) under /console/*, so it shares an origin with /ops/* (no CORS).
    // Operators sign in through the Cognito hosted UI (authorization code + PKCE).
    const domainPrefix = `${cfg.namePrefix.toLowerCase()}-ops-${cfg.account}`.slice(0, 63);
    this.userPool.addDomain('HostedUi', { cognitoDomain: { domainPrefix } });
    const cognitoDomain = `https://${domainPrefix}.auth.${stack.region}.amazoncognito.com`;
    const consoleUrl = `https://${host}/console/`;
    this.userPoolClient = this.userPool.addClient('Console', {
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID],
        callbackUrls: [consoleUrl],
        logoutUrls: [consoleUrl],
      },
      generateSecret: false,
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.minutes(60),
      idTokenValidity: Duration.minutes(60),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
    });
    const consoleBucket = new s3.Bucket(this, 'ConsoleAssets', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: false,
    });
    acknowledge(
      consoleBucket,
      'AwsSolutions-S1',
      'Holds only the console\'s static files (no data), readable solely by CloudFront through origin access control; every change is a deployment, recorded by CloudFormation and CloudTrail.',
    );
    const consoleHeaders = strictHeaders(this, 'ConsoleHeaders', 'Operations console: strict CSP, no framing, HSTS', {
      contentSecurityPolicy: `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ${cognitoDomain}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
      override: true,
    });
    // "/console/" and other directory URLs serve their index.html.
    const indexRewrite = new cloudfront.Function(this, 'ConsoleIndex', {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'Directory URLs of the console serve index.html',
      code: cloudfront.FunctionCode.fromInline(
        "function handler(event) { var r = event.request; if (r.uri.endsWith('/')) { r.uri += 'index.html'; } return r; }",
      ),
    });
    this.distribution.addBehavior('/console/*', origins.S3BucketOrigin.withOriginAccessControl(consoleBucket), {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
      // An operations tool: always the deployed version, never a stale cached one.
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      responseHeadersPolicy: consoleHeaders,
      functionAssociations: [{ function: indexRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
    });
    const consoleDeployment = new s3deploy.BucketDeployment(this, 'ConsoleDeployment', {
      destinationBucket: consoleBucket,
      destinationKeyPrefix: 'console/',
      sources: [
        s3deploy.Source.asset(CONSOLE_DIR, { exclude: ['README.md'] }),
        // The console signs in with Cognito when this file is present (console/README.md).
        s3deploy.Source.jsonData('config.json', {
          auth: 'cognito',
          cognitoDomain,
          clientId: this.userPoolClient.userPoolClientId,
          redirectUri: consoleUrl,
        }),
      ],
      prune: true,
      retainOnDelete: false,
      memoryLimit: 256,
    });
    void consoleDeployment;
    acknowledgeBucketDeployment(stack, consoleBucket);

    const iamAuthorizer = new HttpIamAuthorizer();
    const operatorAuthorizer = new HttpUserPoolAuthorizer('Operators', this.userPool, { userPoolClients: [this.userPoolClient] });
    // Trusts the named core-bank roles only (not their whole accounts), and only with the agreed
    // ExternalId, so no other principal of those accounts, and no third party acting for them,
    // can call /v1/authorize.
    this.coreBankInvokerRole = new iam.Role(this, 'CoreBankInvoker', {
      assumedBy: new iam.CompositePrincipal(...[...new Set(cfg.coreBank.invokerPrincipalArns)].map((a) => new iam.ArnPrincipal(a))).withConditions({
        StringEquals: { 'sts:ExternalId': cfg.coreBank.externalId },
      }),
      description: 'Assumed by the core bank to call the iam routes (debit authorisation) with SigV4',
      maxSessionDuration: Duration.hours(1),
    });

    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    for (const route of props.httpRoutes ?? defaultHttpRoutes) {
      const fn = props.functionFor(route.target);
      if (!fn) continue;
      let integration = integrations.get(route.target);
      if (!integration) {
        integration = new HttpLambdaIntegration(`${route.target}Integration`, fn, { payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0 });
        integrations.set(route.target, integration);
      }
      const authorizer =
        route.auth === 'iam' ? iamAuthorizer : route.auth === 'operator' ? operatorAuthorizer : new apigw.HttpNoneAuthorizer();
      // iam routes go on the authorisation API: public floods never share its throttle.
      const api = route.auth === 'iam' ? this.authorizeApi : this.api;
      const added = api.addRoutes({
        path: route.path,
        methods: [apigw.HttpMethod[route.method]],
        integration,
        authorizer,
      });
      this.routes.set(`${route.method} ${route.path}`, added);
      for (const r of added) {
        if (route.auth === 'iam') {
          // The exact stage, method and path: no stage wildcard.
          this.coreBankInvokerRole.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: ['execute-api:Invoke'],
              resources: [stack.formatArn({ service: 'execute-api', resource: this.authorizeApi.apiId, resourceName: `$default/${route.method}${route.path.replace(/\{[^}]+\}/g, '*')}` })],
            }),
          );
        }
        if (route.auth === 'public') {
          acknowledge(
            r,
            'AwsSolutions-APIG4',
            'Customer action page: the caller is authorised by the single-use, expiring 128-bit action token in the path (only its hash is stored); GET never changes state; the WAF rate-limits /a/*.',
          );
        }
      }
    }

    this.actionBaseUrl = `https://${host}/a/`;
    f.setActionBaseUrl(this.actionBaseUrl);

    new CfnOutput(this, 'ActionBaseUrl', { value: this.actionBaseUrl });
    new CfnOutput(this, 'AuthorizeApiEndpoint', { value: this.authorizeApi.apiEndpoint, description: 'Core bank: POST /v1/authorize here, SigV4 (service execute-api)' });
    new CfnOutput(this, 'CdnDomainName', { value: this.distribution.distributionDomainName, description: 'Point the custom domain (CNAME/alias) here' });
    new CfnOutput(this, 'CoreBankInvokerRoleArn', { value: this.coreBankInvokerRole.roleArn });
    new CfnOutput(this, 'OperatorUserPoolId', { value: this.userPool.userPoolId });
    new CfnOutput(this, 'OperatorUserPoolClientId', { value: this.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'ConsoleUrl', { value: consoleUrl });
  }
}

/** HSTS, no framing, nosniff and no referrer (URLs may hold tokens), with the given CSP. */
function strictHeaders(scope: Construct, id: string, comment: string, csp: cloudfront.ResponseHeadersContentSecurityPolicy) {
  return new cloudfront.ResponseHeadersPolicy(scope, id, {
    comment,
    securityHeadersBehavior: {
      strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, preload: true, override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      contentTypeOptions: { override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      contentSecurityPolicy: csp,
    },
  });
}
