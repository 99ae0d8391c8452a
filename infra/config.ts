/**
 * Deployment configuration: one JSON file per environment (config/<env>.json), validated here
 * before a single construct is created. A missing or invalid setting stops `cdk synth` with the
 * file and the setting's path in the message, so a typo never reaches a half-configured bank.
 *
 * Select the environment with `npx cdk synth -c env=prod` (default: dev).
 */
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const accountId = z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id');
const region = z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'an AWS region such as ap-northeast-1');
const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, 'a lower-case DNS name such as alerts.example-bank.jp');
const positiveInt = z.number().int().positive();
/** CloudWatch Logs retention values this stack allows (a bank keeps logs for a month at least). */
const RETENTION_DAYS = [30, 90, 180, 365, 731, 1827, 3653];

export const DeployConfig = z
  .object({
    /** Short name used in stack and resource names: dev, staging, prod. */
    environment: z.string().regex(/^[a-z][a-z0-9-]{1,15}$/, 'lower-case letters, digits and -, 2-16 characters'),
    account: accountId,
    region,
    /** Prefix of physical names (alarms, dashboard, log groups). */
    namePrefix: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{1,30}$/, 'letters, digits and -, 2-31 characters'),
    email: z
      .object({
        /** Verified SES domain identity (Easy DKIM); alerts are sent from an address on it. */
        senderDomain: domainName,
        fromAddress: z.email(),
        /** Reply-To of alerts; the SES receipt rule receives mail for this address. */
        replyToAddress: z.email(),
      })
      .strict(),
    sms: z
      .object({
        /** E.164 origination number registered with AWS End User Messaging; empty = none. */
        originationNumber: z.union([z.literal(''), z.string().regex(/^\+[1-9]\d{6,14}$/, 'an E.164 number such as +81312345678')]),
        /** Alphanumeric sender id where the destination country allows it; empty = none. */
        senderId: z.union([z.literal(''), z.string().regex(/^[A-Za-z0-9]{1,11}$/, '1-11 letters or digits')]),
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
            domainName,
            /** ACM certificate for domainName; CloudFront requires it in us-east-1. */
            certificateArn: z
              .string()
              .regex(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]{36}$/, 'an ACM certificate ARN in us-east-1'),
          })
          .strict()
          .optional(),
        /** WAF rate-based rule: requests per client IP per 5 minutes on /a/* before blocking. */
        wafRateLimitPer5Minutes: z.number().int().min(10).max(2_000_000_000),
        /** API Gateway stage throttling (steady requests/s and burst), a floor under the WAF. */
        throttleRatePerSecond: positiveInt,
        throttleBurst: positiveInt,
      })
      .strict(),
    coreBank: z
      .object({
        /** Accounts whose principals may publish bank.core events and call /v1/authorize. */
        accountIds: z.array(accountId).min(1),
      })
      .strict(),
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
        /** SMS throughput (messages/s) of the origination identity. */
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
    if (!c.sms.originationNumber && !c.sms.senderId) {
      ctx.addIssue({ code: 'custom', path: ['sms', 'originationNumber'], message: 'set sms.originationNumber or sms.senderId' });
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
