/**
 * Who may do what, per function, in one reviewable place. The stack turns each flag into a CDK
 * grant on the one resource concerned (never an `*` action); tests read this map back from the
 * synthesised policies.
 */
import type { FunctionName } from '../src/routing.ts';

export interface FunctionPermissions {
  /** DynamoDB: 'read' = consistent reads and queries; 'readWrite' adds puts and transactions. */
  readonly table: 'read' | 'readWrite';
  /** dynamodb:Scan (parallel scan of the campaign audience index). */
  readonly scan?: boolean;
  /** SES v2 SendEmail from the configured identity, through the configuration set. */
  readonly sendEmail?: boolean;
  /** SES v2 SendBulkEmail (campaigns: 50 destinations per call). */
  readonly sendBulkEmail?: boolean;
  /** End User Messaging SendTextMessage from the configured identity through the configuration set. */
  readonly sendSms?: boolean;
  /** EventBridge PutEvents on the system's bus (outbound bank.alerting events). */
  readonly putEvents?: boolean;
  /** Read the token pepper secret (issue or verify action tokens). */
  readonly readPepper?: boolean;
  /** Reserve the configured authorize.reservedConcurrency for this function (nothing can starve it). */
  readonly reservedConcurrency?: boolean;
  /** Memory (MB) and timeout (s); defaults 512 / 30. */
  readonly memoryMb?: number;
  readonly timeoutSeconds?: number;
}

export const functionPermissions: Record<FunctionName, FunctionPermissions> = {
  // Alerts: look up the customer, issue a token, send email + SMS, record, emit AlertSent.
  alert: { table: 'readWrite', sendEmail: true, sendSms: true, putEvents: true, readPepper: true },
  // Action pages: verify the token, freeze/revoke/confirm in one transaction, emit the change.
  // The action page sends the step-up code itself (email or SMS: the customer's other channel).
  action: { table: 'readWrite', sendEmail: true, sendSms: true, putEvents: true, readPepper: true },
  // Debit authorisation: strongly consistent reads; one conditional UpdateItem on the account item
  // reserves from the hold allowance (src/holds/), and release gives it back. No other state.
  authorize: { table: 'readWrite', memoryMb: 1024, timeoutSeconds: 10, reservedConcurrency: true },
  // Operations API: unfreeze (audited), account view, audit export.
  ops: { table: 'readWrite', putEvents: true },
  // Replies act like the web actions and acknowledge on the same channel.
  'sms-reply': { table: 'readWrite', sendSms: true, putEvents: true, readPepper: true },
  'email-reply': { table: 'readWrite', sendEmail: true, putEvents: true, readPepper: true },
  // Delivery tracking: status updates, fallback to the other channel, AlertUndelivered.
  delivery: { table: 'readWrite', sendEmail: true, sendSms: true, putEvents: true, readPepper: true },
  // Fraud operations: detection counters, incidents, reimbursement cases, provider bulk jobs; it
  // publishes what it decides. (Minimal entry so every handler on disk deploys; widen with care.)
  fraud: { table: 'readWrite', putEvents: true, timeoutSeconds: 120 },
  // Overview counters: adds to the console's counters for each published bank.alerting event.
  counter: { table: 'readWrite' },
  // Campaigns: paced bulk sends with per-recipient tokens.
  campaign: {
    table: 'readWrite',
    scan: true,
    sendEmail: true,
    sendBulkEmail: true,
    sendSms: true,
    putEvents: true,
    readPepper: true,
    memoryMb: 1024,
    timeoutSeconds: 900,
  },
};
