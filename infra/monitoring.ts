/**
 * What operations watch: alarms to the ops address (via an encrypted SNS topic) and one dashboard.
 *   - any message in any dead-letter queue (an alert or reply that could not be processed);
 *   - per function: error rate above the configured percentage, any throttle;
 *   - alert latency p99 (the Powertools metric the alert function emits) above the threshold;
 *   - per function fed by queues: records its batches reported failed (partial batch failures)
 *     count in its error rate, from SQS's own received/deleted counts;
 *   - the oldest message in a buffer queue older than five minutes, or two visibility timeouts
 *     for queues whose consumer holds a message longer (campaign work: a normal slice);
 *   - SMS: the month's spend near the limit, and delivered parts below the configured share.
 * The alarm topic's policy lets CloudWatch publish (for this account's alarms only).
 * Created last, so it sees every function and queue the other capabilities made.
 */
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, type Foundation } from './foundation.ts';

/** The metric the alert handler records (milliseconds from the event's occurredAt to sent). */
export const ALERT_LATENCY_METRIC = 'AlertLatency';

export interface MonitoringProps {
  readonly foundation: Foundation;
  /** The HTTP API (requests, 4xx/5xx, latency on the dashboard; 5xx alarm). */
  readonly api?: apigw.IHttpApi;
  /** The debit-authorisation API (5xx alarm). */
  readonly authorizeApi?: apigw.IHttpApi;
  /** The WAF (its metrics live in us-east-1). */
  readonly webAclName?: string;
}

export class Monitoring extends Construct {
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: cloudwatch.Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const f = props.foundation;
    const cfg = f.config;
    this.alarmTopic = f.secureTopic('Alarms', `${cfg.namePrefix} alarms`, this);
    this.alarmTopic.addSubscription(new EmailSubscription(cfg.monitoring.alarmEmail));
    // Without this statement no alarm reaches operations: enforceSSL's policy only denies.
    const stack = Stack.of(this);
    f.allowServiceToPublish(this.alarmTopic, 'cloudwatch', stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }));
    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarm = (a: cloudwatch.Alarm) => {
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    const dlqWidgets: cloudwatch.IMetric[] = [];
    for (const { name, queue } of f.deadLetterQueues) {
      const visible = queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' });
      dlqWidgets.push(visible.with({ label: name }));
      alarm(
        visible.createAlarm(this, `DlqNotEmpty-${name}`, {
          alarmName: `${cfg.namePrefix}-dlq-not-empty-${name}`,
          alarmDescription: `Dead-letter queue ${name} holds messages: inspect, fix, redrive (docs/deploy.md).`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const bufferAge: cloudwatch.IMetric[] = [];
    for (const { name, queue } of f.bufferQueues) {
      const age = queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(1), statistic: 'Maximum' });
      bufferAge.push(age.with({ label: name }));
      // A consumer that holds each message for a long slice (campaign work: up to the function's
      // timeout, then a continuation message) makes old messages normal: for such a queue the
      // alarm means a message survived two visibility timeouts, i.e. its retry is stuck too.
      const visibility = queue instanceof sqs.Queue ? visibilityTimeoutSeconds(queue) : undefined;
      const threshold = visibility !== undefined && visibility > 300 ? 2 * visibility : 300;
      alarm(
        age.createAlarm(this, `BufferBehind-${name}`, {
          alarmName: `${cfg.namePrefix}-buffer-behind-${name}`,
          alarmDescription: `Queue ${name}: the oldest message waits over ${threshold} s; work is late or stuck.`,
          threshold,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const invocations: cloudwatch.IMetric[] = [];
    const errors: cloudwatch.IMetric[] = [];
    const durations: cloudwatch.IMetric[] = [];
    const throttles: cloudwatch.IMetric[] = [];
    const fedBy = queuesFeeding(this, f);
    for (const [name, fn] of f.functions) {
      const period = Duration.minutes(5);
      const inv = fn.metricInvocations({ period, statistic: 'Sum' });
      const err = fn.metricErrors({ period, statistic: 'Sum' });
      // Partial batch failures do not count as Lambda errors: a record the handler reported
      // failed is simply not deleted from its queue. SQS's received minus deleted counts them
      // (and the records of a batch that failed whole), so they reach this alarm too.
      const queues = fedBy.get(fn) ?? [];
      const recordMetrics: Record<string, cloudwatch.IMetric> = {};
      const failedTerms: string[] = [];
      const receivedTerms: string[] = [];
      queues.forEach((q, i) => {
        recordMetrics[`received${i}`] = q.metricNumberOfMessagesReceived({ period, statistic: 'Sum' });
        recordMetrics[`deleted${i}`] = q.metricNumberOfMessagesDeleted({ period, statistic: 'Sum' });
        failedTerms.push(`MAX([received${i} - deleted${i}, 0])`);
        receivedTerms.push(`received${i}`);
      });
      const thr = fn.metricThrottles({ period, statistic: 'Sum' });
      invocations.push(inv.with({ label: name }));
      errors.push(err.with({ label: name }));
      throttles.push(thr.with({ label: name }));
      durations.push(fn.metricDuration({ period, statistic: 'p99' }).with({ label: name }));
      // Failures per unit of work: an invocation, or a record for queue-fed functions.
      const errorRate = new cloudwatch.MathExpression({
        expression:
          queues.length === 0
            ? '100 * errors / MAX([invocations, 1])'
            : `100 * (errors + ${failedTerms.join(' + ')}) / MAX([invocations + ${receivedTerms.join(' + ')}, 1])`,
        usingMetrics: { errors: err, invocations: inv, ...recordMetrics },
        period,
        label: `${name} error rate (%)`,
      });
      alarm(
        errorRate.createAlarm(this, `ErrorRate-${name}`, {
          alarmName: `${cfg.namePrefix}-error-rate-${name}`,
          alarmDescription: `${name}: more than ${cfg.monitoring.errorRatePercent}% of invocations failed.`,
          threshold: cfg.monitoring.errorRatePercent,
          evaluationPeriods: 2,
          datapointsToAlarm: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      alarm(
        thr.createAlarm(this, `Throttles-${name}`, {
          alarmName: `${cfg.namePrefix}-throttles-${name}`,
          alarmDescription: `${name} is throttled: raise its concurrency or the account limit.`,
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const alertLatency = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: ALERT_LATENCY_METRIC,
      dimensionsMap: { service: 'alert' },
      statistic: 'p99',
      period: Duration.minutes(5),
      label: 'alert latency p99 (ms)',
    });
    alarm(
      alertLatency.createAlarm(this, 'AlertLatencyP99', {
        alarmName: `${cfg.namePrefix}-alert-latency-p99`,
        alarmDescription: `p99 from bank event to alert sent is above ${cfg.monitoring.alertLatencyP99Ms} ms.`,
        threshold: cfg.monitoring.alertLatencyP99Ms,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // The core publishing events that fail their contract: the alert function consumes them (no
    // retry can fix them), so this alarm is how anyone learns of it.
    alarm(
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'InvalidEvent',
        dimensionsMap: { service: 'alert' },
        statistic: 'Sum',
        period: Duration.minutes(5),
      }).createAlarm(this, 'InvalidCoreEvents', {
        alarmName: `${cfg.namePrefix}-invalid-core-events`,
        alarmDescription: 'bank.core events failed their schema and were dropped without an alert: fix the publisher and republish.',
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // SMS (AWS/SMSVoice, account-wide): the month's spend before End User Messaging stops sending
    // at the spend limit, and the share of message parts delivered (receipts lag: 15 minutes, twice).
    alarm(
      new cloudwatch.Metric({
        namespace: 'AWS/SMSVoice',
        metricName: 'TextMessageMonthlySpend',
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }).createAlarm(this, 'SmsMonthlySpend', {
        alarmName: `${cfg.namePrefix}-sms-monthly-spend`,
        alarmDescription: `SMS spend this month reached ${cfg.sms.monthlySpendAlarmUsd} USD: raise the spend limit before SMS stop (docs/deploy.md).`,
        threshold: cfg.sms.monthlySpendAlarmUsd,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        // A month-to-date gauge published around sends: a quiet hour says nothing new.
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
    );
    const smsPeriod = Duration.minutes(15);
    alarm(
      new cloudwatch.MathExpression({
        expression: 'IF(sent >= 10, 100 * delivered / sent, 100)',
        usingMetrics: {
          sent: new cloudwatch.Metric({ namespace: 'AWS/SMSVoice', metricName: 'NumberOfTextMessagePartsSent', statistic: 'Sum', period: smsPeriod }),
          delivered: new cloudwatch.Metric({ namespace: 'AWS/SMSVoice', metricName: 'NumberOfTextMessagePartsDelivered', statistic: 'Sum', period: smsPeriod }),
        },
        period: smsPeriod,
        label: 'SMS parts delivered (%)',
      }).createAlarm(this, 'SmsDelivered', {
        alarmName: `${cfg.namePrefix}-sms-delivered-below`,
        alarmDescription: `Fewer than ${cfg.sms.deliveredPercentAlarm}% of SMS parts were delivered: carrier filtering, spend limit or origination identity.`,
        threshold: cfg.sms.deliveredPercentAlarm,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    // Every Powertools metric the handlers emit (freezes, revokes, holds, rejected replies, ...),
    // by service: a search, so a new metric appears without a stack change.
    const businessMetrics = new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},service} NOT MetricName="${ALERT_LATENCY_METRIC}"', 'Sum', 300)`,
      label: '',
      period: Duration.minutes(5),
    });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `${cfg.namePrefix}-operations` });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Alert latency p99 (ms)', left: [alertLatency], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Business events (Powertools metrics, per 5 min)', left: [businessMetrics], width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Invocations', left: invocations, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Errors', left: errors, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Duration p99 (ms)', left: durations, width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Throttles', left: throttles, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Buffer: oldest message (s)', left: bufferAge, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Dead-letter queues (messages)', left: dlqWidgets, width: 8 }),
    );
    if (props.api) {
      const period = Duration.minutes(5);
      const serverErrors = props.api.metricServerError({ period, statistic: 'Sum', label: '5xx' });
      alarm(
        serverErrors.createAlarm(this, 'Api5xx', {
          alarmName: `${cfg.namePrefix}-api-5xx`,
          alarmDescription: 'The HTTP API answered 5xx (action pages, authorisation or operations).',
          threshold: 5,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
      if (props.authorizeApi) {
        alarm(
          props.authorizeApi.metricServerError({ period, statistic: 'Sum' }).createAlarm(this, 'AuthorizeApi5xx', {
            alarmName: `${cfg.namePrefix}-authorize-api-5xx`,
            alarmDescription: 'The debit-authorisation API answered 5xx to the core bank.',
            threshold: 0,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          }),
        );
      }
      const waf = props.webAclName
        ? [
            new cloudwatch.Metric({
              namespace: 'AWS/WAFV2',
              metricName: 'BlockedRequests',
              dimensionsMap: { WebACL: props.webAclName, Rule: 'ALL' },
              region: 'us-east-1',
              statistic: 'Sum',
              period,
              label: 'WAF blocked',
            }),
          ]
        : [];
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'HTTP API: requests, errors, WAF blocks',
          left: [props.api.metricCount({ period, statistic: 'Sum', label: 'requests' }), ...waf],
          right: [props.api.metricClientError({ period, statistic: 'Sum', label: '4xx' }), serverErrors],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'HTTP API latency p99 (ms)',
          left: [props.api.metricLatency({ period, statistic: 'p99', label: 'p99' })],
          width: 12,
        }),
      );
    }
    this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24 }));
  }
}

function visibilityTimeoutSeconds(queue: sqs.Queue): number | undefined {
  const v = (queue.node.defaultChild as sqs.CfnQueue).visibilityTimeout;
  return typeof v === 'number' ? v : undefined;
}

/** The buffer queues that trigger each function (from the event source mappings in the tree). */
function queuesFeeding(scope: Construct, f: Foundation): Map<lambda.IFunction, sqs.IQueue[]> {
  const byArn = new Map(f.bufferQueues.map((w) => [w.queue.queueArn, w.queue]));
  const byName = new Map([...f.functions.values()].map((fn) => [fn.functionName, fn]));
  const out = new Map<lambda.IFunction, sqs.IQueue[]>();
  for (const c of Stack.of(scope).node.findAll()) {
    if (!(c instanceof lambda.CfnEventSourceMapping) || !c.eventSourceArn || !c.functionName) continue;
    const queue = byArn.get(c.eventSourceArn);
    const fn = byName.get(c.functionName);
    if (queue && fn) out.set(fn, [...(out.get(fn) ?? []), queue]);
  }
  return out;
}
