/**
 * Deployment configuration: one JSON file per environment (config/<env>.json), validated here
 * before a single construct is created. A missing or invalid setting stops `cdk synth` with the
 * file and the setting's path in the message, so a typo never reaches a half-configured bank.
 *
 * Select the environment with `npx cdk synth -c env=prod` (default: dev).
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { campaignTemplates, sesTemplateName } from '../src/campaign/templates.ts';
import { functionNames } from '../src/routing.ts';

const accountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as ap-northeast-1');
const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case DNS name such as alerts.example-bank.jp');
const positiveInt = z.number().int().positive();
/** CloudWatch Logs retention values this stack allows (a bank keeps logs for a month at least). */
const RETENTION_DAYS = [30, 90, 180, 365, 731, 1827, 3653];

/** The physical names the stacks derive from namePrefix, each with its service's length limit. */
export interface DerivedName {
  readonly what: string;
  readonly name: string;
  readonly max: number;
}

/**
 * Every name built from namePrefix (and the other settings), longest first: validation refuses a
 * prefix that makes any of them too long, instead of a deploy failing half-way. Keep in step with
 * the infra (a test synthesises both environments and compares).
 */
export function derivedNames(c: { namePrefix: string; sms: { configurationSetName: string } }): DerivedName[] {
  const p = c.namePrefix;
  const names: DerivedName[] = [
    ...[...functionNames, 'pepper-rotation'].map((f) => ({ what: 'Lambda function name', name: `${p}-${f}`, max: 64 })),
    ...[...campaignTemplates.values()].flatMap((t) =>
      (['ja', 'en'] as const).map((loc) => ({ what: 'SES template name', name: `${p}-${sesTemplateName(t.id, loc)}`, max: 64 })),
    ),
    { what: 'SES receipt rule set name', name: `${p}-replies`, max: 64 },
    { what: 'End User Messaging configuration set name', name: c.sms.configurationSetName, max: 64 },
    { what: 'WAF WebACL name', name: `${p}-action-pages`, max: 128 },
    { what: 'HTTP API name', name: `${p}-authorize-api`, max: 128 },
    { what: 'Cognito user pool name', name: `${p}-operators`, max: 128 },
    { what: 'CloudFormation stack name', name: `${p}-replies-mail`, max: 128 },
    { what: 'EventBridge bus name', name: `${p}-bus`, max: 256 },
    { what: 'CloudWatch dashboard name', name: `${p}-operations`, max: 255 },
    { what: 'CloudWatch alarm name', name: `${p}-dlq-not-empty-AlertSentToDelivery-dlq`, max: 255 },
  ];
  return names.sort((a, b) => b.name.length - b.max - (a.name.length - a.max));
}

export const DeployConfig = z
  .object({
    /** Short name used in stack and resource names: dev, staging, prod. */
    environment: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, 'lower-case letters, digits and -, 2-16 characters'),
    account: accountId,
    region,
    /**
     * Prefix of physical names (stacks, functions, alarms, dashboard, SES templates). Its length
     * is bounded by the longest name derived from it (see derivedNames), not by a fixed number.
     */
    namePrefix: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{1,62}$/, 'letters, digits and -, starting with a letter, 2-63 characters'),
    email: z
      .object({
        /** Verified SES domain identity (Easy DKIM); alerts are sent from an address on it. */
        senderDomain: domainName,
        fromAddress: z.email(),
        /** Reply-To of alerts; the SES receipt rule receives mail for this address. */
        replyToAddress: z.email(),
      })
      .strict(),
    /**
     * Region of the SES receipt rule set that takes email replies (and of the inbound-email topic).
     * Not every region receives email: check AWS's "Email receiving" regions page at deploy time;
     * where the stack's region is not listed, name one that is (docs/deploy.md).
     */
    sesReceivingRegion: region,
    /**
     * Whether SMS alerts carry the action link. Japanese carriers filter SMS with links (docomo's
     * 危険SMS拒否 is on by default), so "never" sends the event, the reply keyword and the bank's
     * official contact instead; the email still carries the link.
     */
    smsLinks: z.enum(['always', 'never']),
    sms: z
      .object({
        /**
         * End User Messaging origination identity the functions send from: the ARN of a phone
         * number, a pool or a sender ID in this account and region. IAM is scoped to it.
         */
        originationIdentity: z
          .string()
          .regex(
            /^arn:aws:sms-voice:[a-z0-9-]+:\d{12}:(phone-number|pool|sender-id)\/[A-Za-z0-9_/-]+$/,
            'an End User Messaging phone-number, pool or sender-id ARN (arn:aws:sms-voice:<region>:<account>:phone-number/<id>)',
          ),
        /** Name of the End User Messaging configuration set the stack creates (status events). */
        configurationSetName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, 1-64 characters'),
        /** Default alphanumeric sender id of the configuration set where the country allows it; empty = none. */
        senderId: z.union([z.literal(''), z.string().regex(/^[A-Za-z0-9]{1,11}$/, '1-11 letters or digits')]),
        /** The bank's official contact named in SMS without links (a phone number or the app's name). */
        bankContact: z.string().min(3).max(40),
        /** Alarm when the month's SMS spend (USD, AWS/SMSVoice TextMessageMonthlySpend) reaches this. */
        monthlySpendAlarmUsd: z.number().positive(),
        /** Alarm when fewer than this share of the SMS parts sent in 15 minutes are delivered. */
        deliveredPercentAlarm: z.number().positive().max(100),
      })
      .strict(),
    actionPages: z
      .object({
        /**
         * Custom domain of the action pages (CloudFront). Optional: without it the pages are served
         * on the distribution's cloudfront.net name.
         */
        customDomain: z
          .object({
            /** A subdomain of its own: never the mail domain (it needs an MX where this needs a CNAME). */
            domainName,
            /** ACM certificate for domainName; CloudFront requires it in us-east-1. */
            certificateArn: z
              .string()
              .regex(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/, 'an ACM certificate ARN in us-east-1'),
            /**
             * ACM certificate for the same name in the stack's region: the API's own custom domain,
             * CloudFront's origin, so that the execute-api endpoint can be switched off.
             */
            regionalCertificateArn: z
              .string()
              .regex(/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/, "an ACM certificate ARN in the stack's region"),
          })
          .strict()
          .optional(),
        /**
         * WAF rate-based rule: requests per client IP per 5 minutes on /a/* before blocking. Sized
         * for carrier-grade NAT: a Japanese carrier puts many customers behind one address, and a
         * campaign makes them all open their link within minutes (docs/deploy.md).
         */
        wafRateLimitPer5Minutes: z.number().int().min(100).max(2_000_000_000),
        /** Largest request body (bytes) the WAF lets through outside /ops/* (audience uploads); 16 KB at most, what WAF inspects behind CloudFront. */
        wafMaxBodyBytes: z.number().int().min(1024).max(16_384),
        /** API Gateway stage throttling (steady requests/s and burst), a floor under the WAF. */
        throttleRatePerSecond: positiveInt,
        throttleBurst: positiveInt,
      })
      .strict(),
    coreBank: z
      .object({
        /** Accounts whose principals may publish bank.core events. */
        accountIds: z.array(accountId).min(1),
        /** The roles (in those accounts) that may assume the invoker role for /v1/authorize. */
        invokerPrincipalArns: z
          .array(z.string().regex(/^arn:aws:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN such as arn:aws:iam::333333333333:role/core-debit-authoriser'))
          .min(1),
        /** sts:ExternalId the core bank passes when it assumes the invoker role (confused deputy). */
        externalId: z.string().regex(/^[\w+=,.@:/-]{16,1224}$/, '16-1224 characters of letters, digits and +=,.@:/-'),
      })
      .strict(),
    /** /v1/authorize: its own API and stage, its own throttle, reserved Lambda concurrency. */
    authorize: z
      .object({
        /** Concurrency reserved for the authorize function (the account keeps 100 unreserved). */
        reservedConcurrency: z.number().int().min(1).max(10_000),
        throttleRatePerSecond: positiveInt,
        throttleBurst: positiveInt,
      })
      .strict(),
    /** Maximum concurrency of every SQS-triggered function (2-1000: the limits SQS triggers allow). */
    queues: z.object({ maxConcurrency: z.number().int().min(2).max(1000) }).strict(),
    holds: z.object({ windowHours: positiveInt, limitMinor: z.number().int().nonnegative() }).strict(),
    tokens: z
      .object({
        ttlDays: positiveInt,
        /** The pepper rotates after this many days; must exceed ttlDays (only two peppers are kept). */
        pepperRotationDays: positiveInt.max(365),
      })
      .strict(),
    quotas: z
      .object({
        /** SES sending quota (messages/s) granted to the account; campaigns never exceed it. */
        emailPerSecond: positiveInt,
        /** SMS throughput (message parts/s) of the origination identity. */
        smsPerSecond: positiveInt,
      })
      .strict(),
    delivery: z.object({ undeliveredAfterMinutes: positiveInt }).strict(),
    monitoring: z
      .object({
        /** Where alarms are emailed (subscription needs confirming once). */
        alarmEmail: z.email(),
        /** Alarm when the p99 from event to alert sent exceeds this. */
        alertLatencyP99Ms: positiveInt,
        /** Alarm when a function's errors exceed this share of its invocations (percent). */
        errorRatePercent: z.number().positive().max(100),
      })
      .strict(),
    /** CloudWatch Logs retention for functions and access logs. */
    logRetentionDays: z.number().refine((d) => RETENTION_DAYS.includes(d), `one of ${RETENTION_DAYS.join(', ')}`),
    /** Powertools log level. */
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.tokens.pepperRotationDays <= c.tokens.ttlDays) {
      ctx.addIssue({
        code: 'custom',
        path: ['tokens', 'pepperRotationDays'],
        message: `must be greater than tokens.ttlDays (${c.tokens.ttlDays}): only the current and previous peppers are kept, so a link must expire before its pepper is dropped`,
      });
    }
    const identity = /^arn:aws:sms-voice:([a-z0-9-]+):(\d{12}):/.exec(c.sms.originationIdentity);
    if (identity && (identity[1] !== c.region || identity[2] !== c.account)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sms', 'originationIdentity'],
        message: `must be in this deployment's account and region (${c.account}, ${c.region}): the functions send from there`,
      });
    }
    for (const [i, arn] of c.coreBank.invokerPrincipalArns.entries()) {
      const acct = /^arn:aws:iam::(\d{12}):/.exec(arn)?.[1];
      if (acct && !c.coreBank.accountIds.includes(acct)) {
        ctx.addIssue({ code: 'custom', path: ['coreBank', 'invokerPrincipalArns', i], message: `account ${acct} is not one of coreBank.accountIds` });
      }
    }
    const custom = c.actionPages.customDomain;
    if (custom) {
      const pages = custom.domainName;
      const mailNames = [c.email.senderDomain, `mail.${c.email.senderDomain}`];
      if (mailNames.includes(pages)) {
        ctx.addIssue({
          code: 'custom',
          path: ['actionPages', 'customDomain', 'domainName'],
          message: `must be a subdomain of its own, not ${pages}: the mail domain needs MX records there and the action pages a CNAME/alias, which DNS cannot hold on one name`,
        });
      }
      const certRegion = /^arn:aws:acm:([a-z0-9-]+):/.exec(custom.regionalCertificateArn)?.[1];
      if (certRegion && certRegion !== c.region) {
        ctx.addIssue({ code: 'custom', path: ['actionPages', 'customDomain', 'regionalCertificateArn'], message: `must be in the stack's region ${c.region}, not ${certRegion}` });
      }
    }
    if (c.authorize.throttleBurst < c.authorize.throttleRatePerSecond) {
      ctx.addIssue({ code: 'custom', path: ['authorize', 'throttleBurst'], message: 'must be at least authorize.throttleRatePerSecond' });
    }
    for (const d of derivedNames(c)) {
      if (d.name.length > d.max) {
        ctx.addIssue({
          code: 'custom',
          path: ['namePrefix'],
          message: `too long: it makes the ${d.what} "${d.name}" ${d.name.length} characters, over the limit of ${d.max}; shorten namePrefix by ${d.name.length - d.max}`,
        });
        break;
      }
    }
    if (!c.email.fromAddress.toLowerCase().endsWith(`@${c.email.senderDomain}`)) {
      ctx.addIssue({ code: 'custom', path: ['email', 'fromAddress'], message: `must be an address on email.senderDomain (${c.email.senderDomain})` });
    }
    if (!c.email.replyToAddress.toLowerCase().endsWith(`@${c.email.senderDomain}`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['email', 'replyToAddress'],
        message: `must be an address on email.senderDomain (${c.email.senderDomain}), where the SES receipt rule receives mail`,
      });
    }
    if (c.actionPages.throttleBurst < c.actionPages.throttleRatePerSecond) {
      ctx.addIssue({ code: 'custom', path: ['actionPages', 'throttleBurst'], message: 'must be at least actionPages.throttleRatePerSecond' });
    }
  });
export type DeployConfig = z.infer<typeof DeployConfig>;

export class DeployConfigError extends Error {
  override readonly name = 'DeployConfigError';
}

/** Validates a parsed configuration; `source` names the file in the error. */
export function parseDeployConfig(raw: unknown, source: string): DeployConfig {
  const result = DeployConfig.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const path = i.path.join('.') || '(root)';
      // Say "missing" plainly rather than zod's "expected X, received undefined".
      const missing = i.path.length > 0 && valueAt(raw, i.path) === undefined;
      return `  ${path}: ${missing ? 'missing (required)' : i.message}`;
    });
    throw new DeployConfigError(`invalid deployment configuration ${source}:\n${problems.join('\n')}`);
  }
  return result.data;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const k of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[k];
  }
  return node;
}

export const CONFIG_DIR = resolve(import.meta.dirname, '..', 'config');

/** Reads and validates config/<environment>.json. */
export function loadDeployConfig(environment: string, dir: string = CONFIG_DIR): DeployConfig {
  if (!/^[a-z][a-z0-9-]{1,15}$/.test(environment)) {
    throw new DeployConfigError(`invalid environment name "${environment}" (context "env"): lower-case letters, digits and -`);
  }
  const file = resolve(dir, `${environment}.json`);
  if (!existsSync(file)) throw new DeployConfigError(`no deployment configuration for environment "${environment}": ${file} does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new DeployConfigError(`invalid deployment configuration ${file}: not JSON (${(e as Error).message})`);
  }
  const cfg = parseDeployConfig(raw, file);
  if (cfg.environment !== environment) {
    throw new DeployConfigError(`invalid deployment configuration ${file}:\n  environment: "${cfg.environment}" does not match the file name "${environment}"`);
  }
  return cfg;
}
