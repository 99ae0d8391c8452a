/**
 * Runtime configuration of the handlers, read once per container from the environment and
 * validated: a bad setting fails the cold start with the setting's name, never a half-working
 * function. The same variables are set by the CDK stack and by the local runtime.
 */
import * as z from 'zod';

const positiveInt = z.coerce.number().int().positive();

export const RuntimeConfig = z.object({
  /** The single DynamoDB table. */
  TABLE_NAME: z.string().min(1),
  /** EventBridge bus for outbound bank.alerting events. */
  EVENT_BUS_NAME: z.string().min(1).default('default'),
  /** Base of action links; the token is appended. Must be https in AWS. */
  ACTION_BASE_URL: z.url().default('https://alerts.example-bank.jp/a/'),
  /** SES v2 sender identity (address on a verified domain). */
  SES_FROM_ADDRESS: z.email().default('alerts@example-bank.jp'),
  /** Reply-To for alerts: where email replies land (SES receipt rule). */
  SES_REPLY_TO_ADDRESS: z.email().default('reply@alerts.example-bank.jp'),
  SES_CONFIGURATION_SET: z.string().default(''),
  /**
   * End User Messaging SMS: the configuration set whose event destination publishes the status
   * events to the delivery topic (empty: no status events at all), and the origination identity
   * (phone number id/ARN, pool id/ARN or sender id; empty: the service picks from the account).
   */
  SMS_CONFIGURATION_SET: z.string().regex(/^[A-Za-z0-9_:/-]{0,256}$/, 'a configuration set name or ARN').default(''),
  SMS_ORIGINATION_IDENTITY: z.string().regex(/^[A-Za-z0-9_:/+-]{0,256}$/, 'a phone number, pool or sender id, or its ARN').default(''),
  /**
   * "always": alert SMS carry the action link. "never": they name the event, the reply keyword
   * (凍結 / FREEZE) and SMS_BANK_CONTACT instead (Japanese carriers' filters such as docomo's
   * 危険SMS拒否 drop SMS with links); the email still carries the link.
   */
  SMS_LINKS: z.enum(['always', 'never']).default('always'),
  /**
   * The bank's official number or app as an SMS names it (e.g. 0120-000-110). GSM-7 characters
   * only (English SMS must stay GSM-7), at most 30 (the segment budget is tested at 30).
   */
  SMS_BANK_CONTACT: z
    .string()
    .max(30)
    .regex(/^[A-Za-z0-9 .,:()+\/&'-]*$/, 'letters, digits, spaces and . , : ( ) + / & \' - only')
    // A web address would be a link after all: handsets turn it into one and carriers filter it.
    .refine((v) => !/:\/\/|www\.|[A-Za-z0-9-]\.[A-Za-z]{2,}/.test(v), 'a phone number or app name, not a web address')
    .default(''),
  /** Action tokens expire after this many days. */
  TOKEN_TTL_DAYS: positiveInt.default(7),
  /**
   * Pepper for token hashes. Locally a variable; in AWS the secret's ARN, read from Secrets
   * Manager at cold start. One of the two must be set.
   */
  TOKEN_PEPPER: z.string().min(32).optional(),
  TOKEN_PEPPER_SECRET_ARN: z.string().optional(),
  /** New links are PENDING for this many hours. */
  HOLD_WINDOW_HOURS: positiveInt.default(24),
  /** Debits through a PENDING link above this (minor units, JPY) get HOLD. */
  HOLD_LIMIT_MINOR: z.coerce.number().int().nonnegative().default(10_000),
  /** A send claim older than this is stale: its attempt crashed or timed out. */
  SEND_CLAIM_STALE_SECONDS: positiveInt.default(120),
  /**
   * The alert queue's dead-letter queue URL. Events that fail their schema are parked there at
   * once (not retried: they cannot succeed) with the reason; unset: they are logged, counted and
   * consumed.
   */
  ALERT_DLQ_URL: z.url().optional(),
  /** Minutes after which an alert that reached no channel is reported undelivered. */
  UNDELIVERED_AFTER_MINUTES: positiveInt.default(15),
  /** "It was me" step-up: a code is valid this many minutes (src/stepup/codes.ts). */
  STEPUP_CODE_TTL_MINUTES: positiveInt.max(60).default(10),
  /** Wrong codes (over all codes of one confirmation) that lock that confirmation. */
  STEPUP_MAX_ATTEMPTS: positiveInt.max(10).default(5),
  /** Seconds before another code may be sent for the same confirmation. */
  STEPUP_RESEND_SECONDS: positiveInt.default(60),
  /** Codes sent to one customer per clock hour, over all alerts. */
  STEPUP_MAX_CODES_PER_HOUR: positiveInt.default(6),
  /** Local mode: API key for /v1/authorize and the operations API (IAM in AWS). */
  LOCAL_API_KEY: z.string().optional(),
});
export type RuntimeConfig = z.infer<typeof RuntimeConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function parseRuntimeConfig(env: Record<string, string | undefined>): RuntimeConfig {
  const result = RuntimeConfig.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const cfg = result.data;
  if (!cfg.TOKEN_PEPPER && !cfg.TOKEN_PEPPER_SECRET_ARN) {
    throw new ConfigError('invalid configuration: TOKEN_PEPPER or TOKEN_PEPPER_SECRET_ARN must be set');
  }
  if (cfg.SMS_LINKS === 'never' && !cfg.SMS_BANK_CONTACT.trim()) {
    throw new ConfigError('invalid configuration: SMS_BANK_CONTACT must be set when SMS_LINKS is "never" (the SMS names it instead of a link)');
  }
  return cfg;
}

let cached: RuntimeConfig | undefined;
/** The container's configuration, parsed on first use. */
export function runtimeConfig(): RuntimeConfig {
  cached ??= parseRuntimeConfig(process.env);
  return cached;
}
/** Tests change the environment between cases. */
export function resetRuntimeConfig(): void {
  cached = undefined;
}
