/**
 * The WAF for the action pages. A WebACL that protects CloudFront must live in us-east-1, so it
 * has its own small stack; the main stack references its ARN (CDK cross-region reference).
 *
 * Rules, in order: AWS IP reputation list; a rate-based rule on /a/* per client IP (floods and
 * scraping of action pages; sized for carrier-grade NAT, see docs/deploy.md); request bodies over
 * actionPages.wafMaxBodyBytes blocked except on /ops/* (the operators' audience uploads, behind
 * Cognito); AWS common rule set (its own 8 KB body rule counts instead of blocking, the rule
 * before it does the job); known bad inputs. Logged to CloudWatch Logs with the URI path redacted.
 */
import { ArnFormat, Aws, CfnOutput, Fn, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config.ts';

export interface EdgeStackProps extends StackProps {
  readonly config: DeployConfig;
}

export const ACTION_PAGES_RATE_RULE = 'ActionPagesRatePerIp';
export const BODY_SIZE_RULE = 'BodyTooLargeOutsideOps';

export class EdgeStack extends Stack {
  readonly webAcl: wafv2.CfnWebACL;
  readonly webAclName: string;

  constructor(scope: Construct, id: string, props: EdgeStackProps) {
    super(scope, id, props);
    const cfg = props.config;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const managed = (priority: number, name: string, countOnly: string[] = []): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name,
          ...(countOnly.length > 0 ? { ruleActionOverrides: countOnly.map((r) => ({ name: r, actionToUse: { count: {} } })) } : {}),
        },
      },
      visibilityConfig: visibility(name),
    });

    this.webAclName = `${cfg.namePrefix}-action-pages`;
    this.webAcl = new wafv2.CfnWebACL(this, 'ActionPagesAcl', {
      name: this.webAclName,
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(`${cfg.namePrefix}-action-pages`),
      rules: [
        managed(0, 'AWSManagedRulesAmazonIpReputationList'),
        {
          name: ACTION_PAGES_RATE_RULE,
          priority: 1,
          action: { block: { customResponse: { responseCode: 429 } } },
          statement: {
            rateBasedStatement: {
              limit: cfg.actionPages.wafRateLimitPer5Minutes,
              evaluationWindowSec: 300,
              aggregateKeyType: 'IP',
              scopeDownStatement: {
                byteMatchStatement: {
                  fieldToMatch: { uriPath: {} },
                  positionalConstraint: 'STARTS_WITH',
                  searchString: '/a/',
                  textTransformations: [{ priority: 0, type: 'NONE' }],
                },
              },
            },
          },
          visibilityConfig: visibility(ACTION_PAGES_RATE_RULE),
        },
        {
          // The common rule set's SizeRestrictions_BODY blocks every body over 8 KB, which would
          // block the operators' audience uploads to /ops/*; this rule keeps the limit for every
          // other path (customers only ever post a small form) and the managed one only counts.
          name: BODY_SIZE_RULE,
          priority: 2,
          action: { block: {} },
          statement: {
            andStatement: {
              statements: [
                {
                  sizeConstraintStatement: {
                    fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
                    comparisonOperator: 'GT',
                    size: cfg.actionPages.wafMaxBodyBytes,
                    textTransformations: [{ priority: 0, type: 'NONE' }],
                  },
                },
                {
                  notStatement: {
                    statement: {
                      byteMatchStatement: {
                        fieldToMatch: { uriPath: {} },
                        positionalConstraint: 'STARTS_WITH',
                        searchString: '/ops/',
                        textTransformations: [{ priority: 0, type: 'NONE' }],
                      },
                    },
                  },
                },
              ],
            },
          },
          visibilityConfig: visibility(BODY_SIZE_RULE),
        },
        managed(3, 'AWSManagedRulesCommonRuleSet', ['SizeRestrictions_BODY']),
        managed(4, 'AWSManagedRulesKnownBadInputsRuleSet'),
      ],
    });

    // WAF logs for forensics, with the URI path redacted: it holds action tokens. WAF requires the
    // aws-waf-logs- prefix, so the name cannot be left to CloudFormation; it ends with this stack's
    // id instead. The group is retained (forensics), and a retained group from a rolled-back first
    // deploy then never blocks the next deploy: the new stack has a new id, so a new name.
    const logGroupName = Fn.join('-', ['aws-waf-logs', cfg.namePrefix, Fn.select(2, Fn.split('/', Aws.STACK_ID))]);
    const wafLogs = new logs.LogGroup(this, 'WafLogs', {
      logGroupName,
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Log delivery writes WAF logs to the group: allowed here explicitly (for this account's
    // deliveries only) rather than left to WAF to add to the account's 10-policy quota.
    wafLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowWafLogDelivery',
        principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [wafLogs.logGroupArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': this.account },
          ArnLike: { 'aws:SourceArn': this.formatArn({ service: 'logs', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
        },
      }),
    );
    const logging = new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: this.webAcl.attrArn,
      // The group's ARN without the ":*" suffix CloudFormation's Arn attribute carries (WAF wants it bare).
      logDestinationConfigs: [Fn.select(0, Fn.split(':*', wafLogs.logGroupArn))],
      redactedFields: [{ uriPath: {} }],
    });
    // Log delivery must be allowed before WAF tests the destination.
    const logsPolicy = wafLogs.node.tryFindChild('Policy');
    if (logsPolicy) logging.node.addDependency(logsPolicy);
    new CfnOutput(this, 'WebAclArn', { value: this.webAcl.attrArn });
  }
}
