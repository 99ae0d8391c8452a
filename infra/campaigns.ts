/**
 * Campaigns in AWS: SQS with paced workers (see docs/campaigns.md for why not Step Functions).
 *
 *   ops API start/resume --SendMessage--> campaign queue --(batch 1)--> campaign function
 *   campaign function: runs the worker for up to ~13 minutes (token bucket at the campaign's
 *   rate, ledger, leases), then puts the continuation message on the same queue and returns.
 *
 * A crashed invocation's message comes back after the visibility timeout (longer than the
 * function's timeout) and the ledger makes its retry safe; after maxReceiveCount failures the
 * message lands in the dead-letter queue, alarmed by monitoring. One lease per channel keeps one
 * worker sending a campaign's channel at a time, so the rate holds however many messages arrive.
 */
import { Duration } from 'aws-cdk-lib';
import * as ses from 'aws-cdk-lib/aws-ses';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import type { CapabilityProps } from './capability.ts';
import { campaignTemplates, sesTemplateName } from '../src/campaign/templates.ts';

export class Campaigns extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly worker: NodejsFunction | undefined;

  constructor(scope: Construct, id: string, props: CapabilityProps) {
    super(scope, id);
    const f = props.foundation;
    const worker = props.functionFor('campaign');
    const timeout = worker?.timeout ?? Duration.minutes(15);
    // Longer than one worker invocation, so a message is never handed to a second worker while the first still runs.
    const { queue, dlq } = f.bufferQueue(this, 'WorkQueue', 'campaign-work', 5, Duration.seconds(timeout.toSeconds() + 60));
    this.queue = queue;
    this.deadLetterQueue = dlq;
    this.worker = worker;
    // The SES templates of every campaign template and locale, from src/campaign/templates.ts
    // (one source of truth): deployed here, so the worker needs no template permissions.
    const prefix = `${f.config.namePrefix}-`;
    for (const t of campaignTemplates.values()) {
      for (const [loc, parts] of Object.entries(t.email ?? {})) {
        const templateName = prefix + sesTemplateName(t.id, loc as 'ja' | 'en');
        new ses.CfnTemplate(this, `Template-${templateName}`, {
          template: { templateName, subjectPart: parts.subject, htmlPart: parts.html, textPart: parts.text },
        });
      }
    }
    if (worker) {
      worker.addEnvironment('CAMPAIGN_TEMPLATES_DEPLOYED', 'true');
      worker.addEnvironment('CAMPAIGN_SES_TEMPLATE_PREFIX', prefix);
      worker.addEnvironment('CAMPAIGN_QUEUE_URL', queue.queueUrl);
      queue.grantSendMessages(worker);
      // One message per invocation: each is a time slice of one campaign. Two at most at once
      // (the minimum SQS allows): different campaigns may run side by side; leases keep one per channel.
      worker.addEventSource(new SqsEventSource(queue, { batchSize: 1, maxConcurrency: 2, reportBatchItemFailures: true }));
    }
    // The operations API starts and resumes campaigns: it wakes a worker through the queue.
    const ops = props.functionFor('ops');
    if (ops) {
      ops.addEnvironment('CAMPAIGN_QUEUE_URL', queue.queueUrl);
      queue.grantSendMessages(ops);
    }
  }
}
