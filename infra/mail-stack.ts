/**
 * Email replies arrive through SES receiving, which AWS offers in some regions only (check the
 * "Email receiving" regions page at deploy time; Tokyo is not confirmed there). So the receiving
 * side is a small stack of its own in `sesReceivingRegion`: the receipt rule set (with the rule for
 * the Reply-To address) and the inbound-email topic it publishes to, encrypted with a key of this
 * region. The main stack subscribes the email-reply function to that topic (across regions when
 * they differ). A region without receiving then fails this stack alone, and moving receiving to
 * another region is a config change.
 *
 * The topic's policy lets SES publish for this rule set only, and its key lets SES encrypt: the
 * two statements without which the rule cannot be created or replies are dropped.
 */
import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as ses from 'aws-cdk-lib/aws-ses';
import * as sesActions from 'aws-cdk-lib/aws-ses-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DeployConfig } from './config.ts';

export interface MailStackProps extends StackProps {
  readonly config: DeployConfig;
}

export const REPLY_RULE_NAME = 'customer-replies';

export class MailStack extends Stack {
  readonly inboundEmailTopic: sns.Topic;
  readonly receiptRuleSet: ses.ReceiptRuleSet;
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: MailStackProps) {
    super(scope, id, props);
    const cfg = props.config;
    const ruleSetName = `${cfg.namePrefix}-replies`;

    this.key = new kms.Key(this, 'InboundMailKey', {
      description: `${cfg.namePrefix}: inbound email replies (SNS topic)`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesToEncryptReplies',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    this.inboundEmailTopic = new sns.Topic(this, 'InboundEmail', {
      displayName: 'Email replies with SES verdicts',
      masterKey: this.key,
      enforceSSL: true,
    });
    const receiptRuleArn = this.formatArn({ service: 'ses', resource: 'receipt-rule-set', resourceName: `${ruleSetName}:receipt-rule/${REPLY_RULE_NAME}` });
    this.inboundEmailTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowSesReceiptRulePublish',
        principals: [new iam.ServicePrincipal('ses.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.inboundEmailTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account }, ArnLike: { 'aws:SourceArn': receiptRuleArn } },
      }),
    );

    // Not retained, so a rolled-back first deploy frees the name. Activate it once after the
    // first deploy (only one rule set is active per region): docs/deploy.md.
    this.receiptRuleSet = new ses.ReceiptRuleSet(this, 'ReplyRules', { receiptRuleSetName: ruleSetName });
    const rule = this.receiptRuleSet.addRule('CustomerReplies', {
      receiptRuleName: REPLY_RULE_NAME,
      recipients: [cfg.email.replyToAddress],
      scanEnabled: true,
      tlsPolicy: ses.TlsPolicy.REQUIRE,
      // SNS carries the whole message (replies are small; SES drops mail over 150 KB here)
      // together with the spfVerdict / dkimVerdict / dmarcVerdict the function checks.
      actions: [new sesActions.Sns({ topic: this.inboundEmailTopic, encoding: sesActions.EmailEncoding.BASE64 })],
    });
    // SES checks that it may publish when the rule is created: the policy must exist first.
    const policy = this.inboundEmailTopic.node.tryFindChild('Policy');
    if (policy) rule.node.addDependency(policy);

    new CfnOutput(this, 'ReceiptRuleSetName', { value: ruleSetName, description: 'Activate once: aws ses set-active-receipt-rule-set (in this region)' });
    new CfnOutput(this, 'InboundEmailTopicArn', { value: this.inboundEmailTopic.topicArn });
  }
}
