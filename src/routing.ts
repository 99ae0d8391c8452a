/**
 * The one routing table: which events go to which function. The CDK stack turns each entry into
 * an EventBridge rule (with an SQS buffer where `via` is 'sqs'); the local runtime's event bus
 * routes with the same entries, so local and AWS cannot drift apart.
 */
import { CORE_SOURCE, coreEventNames } from '../events/core.ts';
import { ALERTING_SOURCE, alertingEvents } from '../events/alerting.ts';

/** Every Lambda entry point: functions/<name>/handler.ts. */
export const functionNames = [
  'alert',
  'action',
  'authorize',
  'ops',
  'sms-reply',
  'email-reply',
  'delivery',
  'campaign',
  // Fraud operations: detection counters and incidents, per-link debits and reimbursement cases, provider bulk jobs.
  'fraud',
  // The console's overview counters, fed by every bank.alerting event (route AlertingEventsToCounter).
  'counter',
] as const;
export type FunctionName = (typeof functionNames)[number];

export interface Route {
  /** Rule name, stable: it names the EventBridge rule and its queue. */
  readonly name: string;
  readonly source: string;
  readonly detailTypes: readonly string[];
  readonly target: FunctionName;
  /** 'sqs': rule -> SQS queue (with DLQ) -> function in batches; 'direct': rule -> function. */
  readonly via: 'sqs' | 'direct';
  /** Receives before a message goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** SQS routes: records per invocation and how long to gather them (default 10 within 1 s). */
  readonly batch?: { readonly size: number; readonly windowSeconds: number };
}

export const routes: readonly Route[] = [
  {
    name: 'CoreEventsToAlert',
    source: CORE_SOURCE,
    detailTypes: coreEventNames,
    target: 'alert',
    via: 'sqs',
    maxReceiveCount: 5,
  },
  {
    // The delivery function indexes each sent message id and starts the alert's undelivered clock.
    name: 'AlertSentToDelivery',
    source: 'bank.alerting',
    detailTypes: ['AlertSent'],
    target: 'delivery',
    via: 'sqs',
    maxReceiveCount: 5,
  },
  {
    // The console's counters, off the customer's path: a freeze or an alert answers once its
    // event is published, and the counter function counts it (once, by its dedupe key).
    name: 'AlertingEventsToCounter',
    source: ALERTING_SOURCE,
    detailTypes: Object.keys(alertingEvents).sort(),
    target: 'counter',
    via: 'sqs',
    maxReceiveCount: 5,
  },
  {
    // Detection across accounts and the per-link debits of reimbursement cases, beside the alert
    // path rather than in it: the alert's latency is unchanged and a detection failure never delays an alert.
    name: 'CoreEventsToFraud',
    source: CORE_SOURCE,
    detailTypes: ['LinkCreated', 'AppActivated', 'ContactChanged', 'WithdrawalPosted'],
    target: 'fraud',
    via: 'sqs',
    maxReceiveCount: 5,
    // Detection stores and reads a whole batch at once (src/fraud/detection/sightings.ts): larger
    // batches cost fewer requests per event. Up to 2 s more before a rule fires; the target is a minute.
    batch: { size: 100, windowSeconds: 2 },
  },
  {
    // "Not me" (customer or operator) opens a reimbursement case; the actions store stays untouched.
    name: 'LinkRevokedToFraud',
    source: 'bank.alerting',
    detailTypes: ['LinkRevoked'],
    target: 'fraud',
    via: 'sqs',
    maxReceiveCount: 5,
  },
];

/** EventBridge pattern matching for the fields the routes use (source and detail-type). */
export function routesFor(source: string, detailType: string): Route[] {
  return routes.filter((r) => r.source === source && r.detailTypes.includes(detailType));
}

/**
 * HTTP routes: API Gateway (HTTP API) in AWS, the local HTTP server locally. Paths use API
 * Gateway's `{param}` syntax; `auth` says who may call.
 */
export interface HttpRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly target: FunctionName;
  /** public: customers' browsers; iam: the core bank (SigV4); operator: the operations console. */
  readonly auth: 'public' | 'iam' | 'operator';
}

export const httpRoutes: readonly HttpRoute[] = [
  { method: 'GET', path: '/a/{token}', target: 'action', auth: 'public' },
  { method: 'POST', path: '/a/{token}', target: 'action', auth: 'public' },
  // The action page's own script (passkeys) and its JSON calls; same function, same origin.
  { method: 'GET', path: '/a/{token}/passkey.js', target: 'action', auth: 'public' },
  { method: 'POST', path: '/a/{token}/passkey/{op}', target: 'action', auth: 'public' },
  // The page's "opened" beacon (sets the alert's openedAt once); under /a/ like the page, so the
  // WAF's rate rule on /a/* and the body-size rule cover it.
  { method: 'POST', path: '/a/{token}/opened', target: 'action', auth: 'public' },
  { method: 'POST', path: '/v1/authorize', target: 'authorize', auth: 'iam' },
  // The core gives back the reservation of a debit that did not happen (docs/authorize.md).
  { method: 'POST', path: '/v1/authorize/release', target: 'authorize', auth: 'iam' },
  { method: 'GET', path: '/ops/{proxy+}', target: 'ops', auth: 'operator' },
  { method: 'POST', path: '/ops/{proxy+}', target: 'ops', auth: 'operator' },
];

/**
 * Scheduled invocations (EventBridge schedule rules on the default bus; the function gets an
 * `aws.events` "Scheduled Event"). The local runtime runs the same schedules.
 */
export interface Schedule {
  readonly name: string;
  readonly target: FunctionName;
  readonly everyMinutes: number;
}

export const schedules: readonly Schedule[] = [
  // Alerts that reached no channel by their deadline -> AlertUndelivered.
  { name: 'UndeliveredSweep', target: 'delivery', everyMinutes: 1 },
  // Provider bulk jobs (extend holds, revoke unconfirmed links) that did not finish in their request.
  { name: 'FraudJobsSweep', target: 'fraud', everyMinutes: 1 },
];
