/**
 * What operations watch: alarms to the ops address (via an encrypted SNS topic) and one dashboard.
 *   - any message in any dead-letter queue (an alert or reply that could not be processed);
 *   - per function: error rate above the configured percentage, any throttle;
 *   - alert latency p99 (the Powertools metric the alert function emits) above the threshold;
 *   - the oldest message in a buffer queue older than five minutes (alerts falling behind).
 * Created last, so it sees every function and queue the other capabilities made.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, type Foundation } from './foundation.ts';

/** The metric the alert handler records (milliseconds from the event's occurredAt to sent). */
export const ALERT_LATENCY_METRIC = 'AlertLatency';

export interface MonitoringProps {
  readonly foundation: Foundation;
  /** The HTTP API (requests, 4xx/5xx, latency on the dashboard; 5xx alarm). */
  readonly api?: apigw.IHttpApi;
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
      alarm(
        age.createAlarm(this, `BufferBehind-${name}`, {
          alarmName: `${cfg.namePrefix}-buffer-behind-${name}`,
          alarmDescription: `Queue ${name}: the oldest event waits over 5 minutes; alerts are late.`,
          threshold: 300,
          evaluationPeriods: 3,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      );
    }

    const invocations: cloudwatch.IMetric[] = [];
    const errors: cloudwatch.IMetric[] = [];
    const durations: cloudwatch.IMetric[] = [];
    const throttles: cloudwatch.IMetric[] = [];
    for (const [name, fn] of f.functions) {
      const period = Duration.minutes(5);
      const inv = fn.metricInvocations({ period, statistic: 'Sum' });
      const err = fn.metricErrors({ period, statistic: 'Sum' });
      const thr = fn.metricThrottles({ period, statistic: 'Sum' });
      invocations.push(inv.with({ label: name }));
      errors.push(err.with({ label: name }));
      throttles.push(thr.with({ label: name }));
      durations.push(fn.metricDuration({ period, statistic: 'p99' }).with({ label: name }));
      const errorRate = new cloudwatch.MathExpression({
        expression: '100 * errors / MAX([invocations, 1])',
        usingMetrics: { errors: err, invocations: inv },
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
