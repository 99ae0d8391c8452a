/**
 * The event routing of src/routing.ts, deployed: one EventBridge rule per route on the system's
 * bus. `via: 'sqs'` routes go rule -> SQS buffer (encrypted, TLS only, DLQ after the route's
 * maxReceiveCount) -> function in batches with partial batch failures; `direct` routes invoke the
 * function asynchronously with retries and a DLQ. The alert function is the main consumer.
 *
 * Routes whose target function is not deployed (its handler not written yet) are skipped here;
 * the infra tests name them.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Construct } from 'constructs';
import { routes as defaultRoutes, type FunctionName, type Route } from '../src/routing.ts';
import type { Foundation } from './foundation.ts';

export interface AlertPipelineProps {
  readonly foundation: Foundation;
  /** Resolves (creating on first use) the function of a route target; undefined if not deployed. */
  readonly functionFor: (name: FunctionName) => NodejsFunction | undefined;
  readonly routes?: readonly Route[];
}

export class AlertPipeline extends Construct {
  /** Rule per route name, for tests and monitoring. */
  readonly rules = new Map<string, events.Rule>();

  constructor(scope: Construct, id: string, props: AlertPipelineProps) {
    super(scope, id);
    const f = props.foundation;
    for (const route of props.routes ?? defaultRoutes) {
      const fn = props.functionFor(route.target);
      if (!fn) continue;
      const rule = new events.Rule(this, route.name, {
        eventBus: f.bus,
        description: `${route.source} ${route.detailTypes.join(', ')} -> ${route.target} (${route.via})`,
        eventPattern: { source: [route.source], detailType: [...route.detailTypes] },
      });
      this.rules.set(route.name, rule);
      if (route.via === 'sqs') {
        // AWS's guidance: visibility timeout at least six times the function timeout, so a slow
        // batch is not handed to a second consumer while the first still works on it.
        const timeout = fn.timeout ?? Duration.seconds(30);
        const { queue, dlq } = f.bufferQueue(this, `${route.name}Queue`, route.name, route.maxReceiveCount, Duration.seconds(timeout.toSeconds() * 6));
        if (route.target === 'alert') {
          // An event that fails its schema can never succeed: the alert function parks it in the
          // DLQ at once with the reason (src/alerts/dead-letter.ts) instead of retrying it.
          fn.addEnvironment('ALERT_DLQ_URL', dlq.queueUrl);
          dlq.grantSendMessages(fn);
        }
        // Events EventBridge cannot deliver to the queue land in the same DLQ.
        rule.addTarget(new targets.SqsQueue(queue, { deadLetterQueue: dlq, retryAttempts: 8, maxEventAge: Duration.hours(24) }));
        fn.addEventSource(
          new SqsEventSource(queue, {
            batchSize: route.batch?.size ?? 10,
            maxBatchingWindow: Duration.seconds(route.batch?.windowSeconds ?? 1),
            reportBatchItemFailures: true,
            // A replay of the archive or a burst of core events scales this consumer up to here
            // and no further, so it cannot take the account's concurrency from authorize.
            maxConcurrency: f.config.queues.maxConcurrency,
          }),
        );
      } else {
        const dlq = f.deadLetterQueue(this, `${route.name}Dlq`, `${route.name}-dlq`);
        rule.addTarget(
          new targets.LambdaFunction(fn, { deadLetterQueue: dlq, retryAttempts: route.maxReceiveCount, maxEventAge: Duration.hours(24) }),
        );
      }
    }
  }
}
