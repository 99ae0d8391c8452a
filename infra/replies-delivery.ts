/**
 * Replies and delivery:
 *   - two-way SMS: End User Messaging delivers inbound messages to the InboundSms topic
 *     (set the phone number's two-way channel to it, see docs/deploy.md) -> sms-reply;
 *   - email replies: an SES receipt rule for the Reply-To address (spam/virus scan, TLS required)
 *     publishes the message with its SPF/DKIM/DMARC verdicts to the InboundEmail topic, both in
 *     the mail stack of the SES receiving region (infra/mail-stack.ts) -> email-reply;
 *   - delivery: SES configuration-set events and SMS status events on the delivery topic
 *     -> delivery; a schedule every minute runs its undelivered-deadline sweep (its AlertSent
 *     input, if routed, comes through the routing table like any other route).
 * SNS invokes asynchronously: two retries by Lambda, then the event goes to a dead-letter queue
 * (as does anything SNS itself could not deliver), so a malformed notification is not retried
 * forever and is never lost silently.
 */
import { ArnFormat, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { CfnOutput } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { schedules, type FunctionName } from '../src/routing.ts';
import type { Foundation } from './foundation.ts';
import { acknowledge } from './nag.ts';
import { PUBLISHED_BY } from './policy-check.ts';

export interface RepliesAndDeliveryProps {
  readonly foundation: Foundation;
  readonly functionFor: (name: FunctionName) => NodejsFunction | undefined;
  /** The mail stack's inbound-email topic (SES receiving region). */
  readonly inboundEmailTopic: sns.ITopic;
}

export class RepliesAndDelivery extends Construct {
  readonly inboundSmsTopic: sns.Topic;
  readonly inboundEmailTopic: sns.ITopic;
  undeliveredSweep: events.Rule | undefined;

  constructor(scope: Construct, id: string, props: RepliesAndDeliveryProps) {
    super(scope, id);
    const f = props.foundation;
    const cfg = f.config;
    const stack = Stack.of(this);

    this.inboundSmsTopic = f.secureTopic('InboundSms', 'Two-way SMS: customer replies', this);
    // Two-way SMS: the bank's phone numbers or pools in this account publish here (the two-way
    // channel is set on the number, outside CloudFormation: docs/deploy.md).
    this.inboundSmsTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEndUserMessagingTwoWay',
        principals: [new iam.ServicePrincipal('sms-voice.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.inboundSmsTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'sms-voice', resource: '*', arnFormat: ArnFormat.NO_RESOURCE_NAME }) },
        },
      }),
    );
    // Declared for the policy test (test/infra-policies.test.ts): who publishes here is configured
    // outside the template, so the topic says it.
    (this.inboundSmsTopic.node.defaultChild as CfnResource).addMetadata(PUBLISHED_BY, ['sms-voice.amazonaws.com']);
    this.inboundEmailTopic = props.inboundEmailTopic;

    this.subscribe('sms-reply', this.inboundSmsTopic, props);
    this.subscribe('email-reply', this.inboundEmailTopic, props);
    this.subscribe('delivery', f.deliveryTopic, props);
    // Scheduled sweeps come from src/routing.ts `schedules`, as the local runtime runs them (today
    // the undelivered-deadline sweep of the delivery function; schedules run on the default bus).
    // A failed sweep is not retried by EventBridge: the next run covers the same alerts.
    for (const schedule of schedules) {
      const fn = props.functionFor(schedule.target);
      if (!fn) continue;
      const rule = new events.Rule(this, schedule.name, {
        description: `Every ${schedule.everyMinutes} min: ${schedule.name} -> ${schedule.target}`,
        schedule: events.Schedule.rate(Duration.minutes(schedule.everyMinutes)),
        targets: [new targets.LambdaFunction(fn, { retryAttempts: 0, maxEventAge: Duration.minutes(schedule.everyMinutes) })],
      });
      if (schedule.name === 'UndeliveredSweep') this.undeliveredSweep = rule;
    }

    new CfnOutput(this, 'InboundSmsTopicArn', { value: this.inboundSmsTopic.topicArn, description: 'Two-way SMS destination of the origination number' });
  }

  private subscribe(name: FunctionName, topic: sns.ITopic, props: RepliesAndDeliveryProps): void {
    const fn = props.functionFor(name);
    if (!fn) return;
    const f = props.foundation;
    const dlq = f.deadLetterQueue(this, `${name}Dlq`, `${name}-dlq`);
    // On-failure destination with the exact grant (SendMessage on this queue, the messaging key
    // only through SQS) instead of CDK's broader queue grant.
    const onFailure: lambda.IDestination = {
      bind: (_scope, target) => {
        target.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [dlq.queueArn] }));
        target.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [f.messagingKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com` } },
          }),
        );
        return { destination: dlq.queueArn };
      },
    };
    fn.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure });
    // SNS's own dead-letter queue must be in the topic's region: across regions (SES receiving
    // elsewhere) SNS keeps retrying delivery to Lambda for days instead, and what the function
    // fails still lands in the on-failure queue above.
    const sameRegion = Stack.of(topic).region === Stack.of(fn).region;
    topic.addSubscription(new LambdaSubscription(fn, sameRegion ? { deadLetterQueue: dlq } : {}));
    if (!sameRegion) {
      for (const c of fn.node.children) {
        if (c instanceof lambda.CfnPermission && c.principal === 'sns.amazonaws.com') {
          acknowledge(
            c,
            'CloudFormation-Validate::W3664',
            "Across regions the topic's ARN reaches this stack through CDK's cross-region export reader; at deploy time it is the SNS topic's ARN, as the principal expects.",
          );
        }
      }
    }
  }
}
