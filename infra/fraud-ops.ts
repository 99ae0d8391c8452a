/**
 * Fraud operations in AWS. The fraud function's triggers come from src/routing.ts like every
 * other function's (the alert pipeline deploys the routes CoreEventsToFraud and
 * LinkRevokedToFraud as EventBridge rule -> SQS buffer + DLQ -> function; the FraudJobsSweep
 * schedule is deployed with the other schedules). Its grants are in infra/permissions.ts. This
 * construct adds what is specific to it:
 *   - the incident alarm: any IncidentsOpened (Powertools metric of the fraud function) in a
 *     minute, to the stack's alarm topic: operations learn of an attack within a minute;
 *   - the campaign queue for the bulk revoke's notice (ops approvals and the minute's sweep both
 *     start that campaign), when the campaigns capability is deployed;
 *   - the detection rules' settings (FRAUD_*) from the defaults of src/fraud/config.ts.
 */
import { Aspects, Duration, Stack, type IAspect } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import type { CapabilityProps } from './capability.ts';
import { METRICS_NAMESPACE } from './foundation.ts';

export const INCIDENT_METRIC = 'IncidentsOpened';

export class FraudOps extends Construct {
  readonly incidentAlarm: cloudwatch.Alarm | undefined;

  constructor(scope: Construct, id: string, props: CapabilityProps) {
    super(scope, id);
    const fn = props.functionFor('fraud');
    if (!fn) return;
    fn.addEnvironment('FRAUD_INCIDENT_HOLD_HOURS', '168');

    const incidents = new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: INCIDENT_METRIC,
      dimensionsMap: { service: 'fraud' },
      statistic: 'Sum',
      period: Duration.minutes(1),
      label: 'incidents opened',
    });
    this.incidentAlarm = incidents.createAlarm(this, 'IncidentOpened', {
      alarmName: `${props.foundation.config.namePrefix}-fraud-incident-opened`,
      alarmDescription: 'A detection rule fired across accounts: open the console Incidents page (freeze, revoke, suspend the provider).',
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    // Wired once the whole stack exists (the alarm topic and the campaign queue are made by other capabilities).
    const alarm = this.incidentAlarm;
    let alarmWired = false;
    let queueWired = false;
    const wire: IAspect = {
      visit(node: IConstruct) {
        const topic = (node as { alarmTopic?: sns.ITopic }).alarmTopic;
        if (topic && node.node.id === 'Monitoring' && !alarmWired) {
          alarmWired = true;
          alarm.addAlarmAction(new cwActions.SnsAction(topic));
        }
        const queue = (node as { queue?: sqs.IQueue }).queue;
        if (queue && node.node.id === 'Campaigns' && !queueWired) {
          queueWired = true;
          fn.addEnvironment('CAMPAIGN_QUEUE_URL', queue.queueUrl);
          queue.grantSendMessages(fn);
        }
      },
    };
    Aspects.of(Stack.of(this)).add(wire);
  }
}
