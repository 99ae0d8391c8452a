/**
 * The WAF for the action pages. A WebACL that protects CloudFront must live in us-east-1, so it
 * has its own small stack; the main stack references its ARN (CDK cross-region reference).
 *
 * Rules, in order: AWS IP reputation list; a rate-based rule on /a/* per client IP (token guessing
 * and scraping of action pages); AWS common rule set; known bad inputs. Logged to CloudWatch Logs
 * with the URI path redacted.
 */
import { ArnFormat, CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config.ts';

export interface EdgeStackProps extends StackProps {
  readonly config: DeployConfig;
}

export const ACTION_PAGES_RATE_RULE = 'ActionPagesRatePerIp';

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
    const managed = (priority: number, name: string): wafv2.CfnWebACL.RuleProperty => ({
      name,
      priority,
      overrideAction: { none: {} },
      statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
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
        managed(2, 'AWSManagedRulesCommonRuleSet'),
        managed(3, 'AWSManagedRulesKnownBadInputsRuleSet'),
      ],
    });

    // WAF logs for forensics, with the URI path redacted: it holds action tokens.
    const logGroupName = `aws-waf-logs-${cfg.namePrefix}`;
    const wafLogs = new logs.LogGroup(this, 'WafLogs', {
      logGroupName,
      retention: cfg.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'WafLogging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [this.formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      redactedFields: [{ uriPath: {} }],
    });
    logging.node.addDependency(wafLogs);
    new CfnOutput(this, 'WebAclArn', { value: this.webAcl.attrArn });
  }
}
