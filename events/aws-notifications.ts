/**
 * Contracts of the notifications AWS sends us (not ours to change, so fields we do not use are
 * allowed through and AWS may add more): the SNS envelope Lambda receives, End User Messaging
 * two-way SMS inbound messages and SMS status events (configuration set event destination), SES
 * receipt notifications (SNS action, with SPF/DKIM/DMARC verdicts and the raw MIME content) and
 * SES event-publishing records from a configuration set. Only the fields the handlers rely on
 * are required.
 */
import * as z from 'zod';

/** One record of the event Lambda gets from an SNS subscription. */
export const SnsRecord = z.object({
  EventSource: z.literal('aws:sns'),
  EventVersion: z.string().optional(),
  EventSubscriptionArn: z.string().optional(),
  Sns: z.object({
    Type: z.literal('Notification'),
    MessageId: z.string().min(1).max(128),
    TopicArn: z.string().min(1),
    Subject: z.string().nullish(),
    /** The publisher's payload, a JSON string for every notification handled here. */
    Message: z.string(),
    Timestamp: z.string(),
    SignatureVersion: z.string().optional(),
    Signature: z.string().optional(),
    SigningCertUrl: z.string().optional(),
    UnsubscribeUrl: z.string().optional(),
    MessageAttributes: z.record(z.string(), z.unknown()).optional(),
  }),
});
export type SnsRecord = z.infer<typeof SnsRecord>;

export const SnsEvent = z.object({ Records: z.array(z.unknown()).min(1) });
export type SnsEvent = { Records: SnsRecord[] };

/** Bounded so a hostile payload cannot make us carry megabytes around; SMS bodies are far shorter. */
const MAX_SMS_BODY = 10_000;

/**
 * End User Messaging two-way SMS: what the service publishes to the SNS topic when a customer
 * texts our number. `previousPublishedMessageId` is the id of the message they answer, when the
 * carrier lets the service tell.
 */
export const SmsInboundMessage = z.object({
  originationNumber: z.string().min(1).max(32),
  destinationNumber: z.string().min(1).max(32),
  messageKeyword: z.string().max(64).nullish(),
  messageBody: z.string().max(MAX_SMS_BODY),
  inboundMessageId: z.string().min(1).max(128),
  previousPublishedMessageId: z.string().max(256).nullish(),
});
export type SmsInboundMessage = z.infer<typeof SmsInboundMessage>;

export const VerdictStatus = z.enum(['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED']);
const verdict = z.object({ status: VerdictStatus });

const mailHeader = z.object({ name: z.string(), value: z.string() });

/** SES receipt notification (receipt rule SNS action). */
export const SesReceivedNotification = z.object({
  notificationType: z.literal('Received'),
  receipt: z.object({
    timestamp: z.string(),
    processingTimeMillis: z.number().optional(),
    recipients: z.array(z.string()),
    spamVerdict: verdict.optional(),
    virusVerdict: verdict.optional(),
    spfVerdict: verdict,
    dkimVerdict: verdict,
    dmarcVerdict: verdict,
    /** Present only when DMARC failed: the sending domain's policy. */
    dmarcPolicy: z.string().optional(),
    action: z.object({ type: z.string(), topicArn: z.string().optional(), encoding: z.enum(['UTF8', 'BASE64']).optional() }).loose(),
  }),
  mail: z.object({
    timestamp: z.string(),
    source: z.string(),
    messageId: z.string().min(1).max(256),
    destination: z.array(z.string()),
    headersTruncated: z.boolean().optional(),
    headers: z.array(mailHeader).optional(),
    commonHeaders: z
      .object({
        from: z.array(z.string()).optional(),
        to: z.array(z.string()).optional(),
        subject: z.string().optional(),
        messageId: z.string().optional(),
        date: z.string().optional(),
      })
      .loose()
      .optional(),
  }),
  /** The raw message (MIME), as the SNS action's encoding says. 150 KB at most from SES. */
  content: z.string().max(400_000).optional(),
});
export type SesReceivedNotification = z.infer<typeof SesReceivedNotification>;

const sesMail = z.object({
  timestamp: z.string(),
  source: z.string().optional(),
  messageId: z.string().min(1).max(256),
  destination: z.array(z.string()),
  /** Message tags, including the EmailTags we send (alertId, channel) and `ses:*` ones. */
  tags: z.record(z.string(), z.array(z.string())).optional(),
});

const recipientList = z.array(z.object({ emailAddress: z.string() }).loose());

/** SES event publishing (configuration set -> SNS): one record per event. */
export const SesEventRecord = z.discriminatedUnion('eventType', [
  z.object({ eventType: z.literal('Send'), mail: sesMail, send: z.object({}).loose().optional() }),
  z.object({
    eventType: z.literal('Delivery'),
    mail: sesMail,
    delivery: z.object({ timestamp: z.string(), recipients: z.array(z.string()), smtpResponse: z.string().optional() }).loose(),
  }),
  z.object({
    eventType: z.literal('Bounce'),
    mail: sesMail,
    bounce: z
      .object({
        bounceType: z.enum(['Undetermined', 'Permanent', 'Transient']),
        bounceSubType: z.string(),
        bouncedRecipients: recipientList,
        timestamp: z.string(),
      })
      .loose(),
  }),
  z.object({
    eventType: z.literal('Complaint'),
    mail: sesMail,
    complaint: z.object({ complainedRecipients: recipientList, timestamp: z.string() }).loose(),
  }),
  z.object({ eventType: z.literal('Reject'), mail: sesMail, reject: z.object({ reason: z.string() }).loose() }),
  z.object({
    eventType: z.literal('DeliveryDelay'),
    mail: sesMail,
    deliveryDelay: z
      .object({ delayType: z.string(), delayedRecipients: recipientList, timestamp: z.string(), expirationTime: z.string().optional() })
      .loose(),
  }),
  // A templated message SES could not render: it was never sent.
  z.object({ eventType: z.literal('Rendering Failure'), mail: sesMail, failure: z.object({}).loose().optional() }),
  // Published too, but say nothing about reaching the customer: accepted and ignored.
  z.object({ eventType: z.enum(['Open', 'Click', 'Subscription']), mail: sesMail }).loose(),
]);
export type SesEventRecord = z.infer<typeof SesEventRecord>;

/** End User Messaging SMS event types (configuration set event destination). */
export const SmsEventType = z.enum([
  'TEXT_PENDING',
  'TEXT_QUEUED',
  'TEXT_SUCCESSFUL',
  'TEXT_DELIVERED',
  'TEXT_BLOCKED',
  'TEXT_CARRIER_BLOCKED',
  'TEXT_SPAM',
  'TEXT_PROTECT_BLOCKED',
  'TEXT_INVALID',
  'TEXT_INVALID_MESSAGE',
  'TEXT_UNREACHABLE',
  'TEXT_CARRIER_UNREACHABLE',
  'TEXT_TTL_EXPIRED',
  'TEXT_UNKNOWN',
]);
export type SmsEventType = z.infer<typeof SmsEventType>;

/**
 * End User Messaging SMS event, as a configuration set's event destination publishes it (the
 * documented shape: "Messaging Events", SMS example log). The delivery function matches it to an
 * alert by `messageId` (indexed from AlertSent) or by `context.alertId` (the SendTextMessage
 * Context we set). Fields we do not use are optional here; AWS may add more.
 */
export const SmsDeliveryEvent = z.object({
  eventType: SmsEventType,
  eventVersion: z.string().optional(),
  /** Unix time in milliseconds. */
  eventTimestamp: z.number(),
  /** False while the carrier may still report something else (up to 72 hours). */
  isFinal: z.boolean().optional(),
  originationPhoneNumber: z.string().optional(),
  destinationPhoneNumber: z.string(),
  isInternationalSend: z.boolean().optional(),
  isoCountryCode: z.string().optional(),
  mcc: z.string().optional(),
  mnc: z.string().optional(),
  messageId: z.string().min(1).max(256),
  messageRequestTimestamp: z.number().optional(),
  messageEncoding: z.string().optional(),
  messageType: z.string().optional(),
  messageStatus: z.string().optional(),
  messageStatusDescription: z.string().optional(),
  /** Key/values given at send time (SendTextMessage Context, at most 5): we put the alert id there. */
  context: z.record(z.string(), z.string()).optional(),
  /** Message parts billed (a Japanese alert is two). */
  totalMessageParts: z.number().int().nonnegative().optional(),
  totalMessagePrice: z.number().optional(),
  totalCarrierFee: z.number().optional(),
});
export type SmsDeliveryEvent = z.infer<typeof SmsDeliveryEvent>;
