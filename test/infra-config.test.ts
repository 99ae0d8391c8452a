/**
 * Deployment configuration: both shipped files are valid, and every bad case stops synth with a
 * message naming the setting (validated before any construct exists, so no synth is needed here;
 * test/infra-synth.test.ts checks the same through the real CDK app).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DIR, DeployConfigError, derivedNames, loadDeployConfig, parseDeployConfig, type DeployConfig } from '../infra/config.ts';

const dev = (): Record<string, unknown> => JSON.parse(readFileSync(join(CONFIG_DIR, 'dev.json'), 'utf8')) as Record<string, unknown>;

/** A deep copy of dev.json with one change applied at a dotted path (undefined deletes it). */
function devWith(path: string, value: unknown): Record<string, unknown> {
  const cfg = dev();
  const keys = path.split('.');
  let node = cfg as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) node = node[k] as Record<string, unknown>;
  const last = keys[keys.length - 1]!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return cfg;
}

function errorOf(raw: unknown): string {
  try {
    parseDeployConfig(raw, 'config/test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(DeployConfigError);
    return (e as Error).message;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('deployment configuration files', () => {
  it('dev and prod are valid and name their environment', () => {
    const d: DeployConfig = loadDeployConfig('dev');
    const p: DeployConfig = loadDeployConfig('prod');
    expect(d.environment).toBe('dev');
    expect(p.environment).toBe('prod');
    expect(p.actionPages.customDomain?.domainName).toBe('go.example-bank.jp');
    expect(p.tokens.pepperRotationDays).toBeGreaterThan(p.tokens.ttlDays);
    for (const c of [d, p]) {
      // Separate names for pages (CNAME/alias) and mail (MX): DNS cannot put both on one name.
      expect([c.email.senderDomain, `mail.${c.email.senderDomain}`]).not.toContain(c.actionPages.customDomain?.domainName);
      expect(c.smsLinks).toMatch(/^(always|never)$/);
      expect(c.sms.originationIdentity).toContain(`:${c.region}:${c.account}:`);
    }
    // Carrier-grade NAT: prod's per-IP limit is far above the 300 that blocked shared addresses.
    expect(p.actionPages.wafRateLimitPer5Minutes).toBeGreaterThanOrEqual(2000);
  });

  it('an unknown environment names the missing file', () => {
    expect(() => loadDeployConfig('staging')).toThrow(/environment "staging".*staging\.json does not exist/);
  });

  it('an environment name that is not a plain name is refused before touching the disk', () => {
    expect(() => loadDeployConfig('../etc/passwd')).toThrow(/invalid environment name/);
  });

  it('a file whose environment field disagrees with its name is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'qa.json'), JSON.stringify(dev()));
    expect(() => loadDeployConfig('qa', dir)).toThrow(/environment: "dev" does not match the file name "qa"/);
  });

  it('a file that is not JSON says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'qa.json'), '{ "environment": ');
    expect(() => loadDeployConfig('qa', dir)).toThrow(/qa\.json: not JSON/);
  });
});

describe('bad settings name the setting', () => {
  const missing: string[] = [
    'account',
    'region',
    'email.senderDomain',
    'email.fromAddress',
    'sms',
    'sms.originationIdentity',
    'sms.configurationSetName',
    'sms.bankContact',
    'sms.monthlySpendAlarmUsd',
    'smsLinks',
    'sesReceivingRegion',
    'actionPages.wafRateLimitPer5Minutes',
    'actionPages.wafMaxBodyBytes',
    'coreBank.accountIds',
    'coreBank.externalId',
    'coreBank.invokerPrincipalArns',
    'authorize.reservedConcurrency',
    'authorize.throttleRatePerSecond',
    'queues.maxConcurrency',
    'holds.limitMinor',
    'tokens.ttlDays',
    'quotas.emailPerSecond',
    'monitoring.alarmEmail',
    'logRetentionDays',
  ];
  it.each(missing)('missing %s', (path) => {
    const msg = errorOf(devWith(path, undefined));
    expect(msg).toContain('config/test.json');
    expect(msg).toContain(`${path}: missing (required)`);
  });

  const invalid: [string, unknown, RegExp][] = [
    ['account', '12345', /account: a 12-digit AWS account id/],
    ['region', 'Tokyo', /region: an AWS region/],
    ['email.fromAddress', 'not-an-email', /email\.fromAddress: /],
    ['email.fromAddress', 'alerts@other-bank.jp', /email\.fromAddress: must be an address on email\.senderDomain/],
    ['email.replyToAddress', 'reply@gmail.com', /email\.replyToAddress: must be an address on email\.senderDomain/],
    ['email.senderDomain', 'Alerts.Example.JP', /email\.senderDomain: a lower-case DNS name/],
    ['sms.originationIdentity', '+81312345678', /sms\.originationIdentity: an End User Messaging phone-number, pool or sender-id ARN/],
    ['sms.originationIdentity', 'arn:aws:sms-voice:us-east-1:111111111111:pool/pool-1', /sms\.originationIdentity: must be in this deployment's account and region/],
    ['sms.originationIdentity', 'arn:aws:sms-voice:ap-northeast-1:999999999999:pool/pool-1', /sms\.originationIdentity: must be in this deployment's account and region/],
    ['sms.configurationSetName', 'has spaces', /sms\.configurationSetName: /],
    ['sms.monthlySpendAlarmUsd', 0, /sms\.monthlySpendAlarmUsd: /],
    ['sms.deliveredPercentAlarm', 101, /sms\.deliveredPercentAlarm: /],
    ['smsLinks', 'sometimes', /smsLinks: /],
    ['sesReceivingRegion', 'Tokyo', /sesReceivingRegion: an AWS region/],
    ['actionPages.wafMaxBodyBytes', 65536, /actionPages\.wafMaxBodyBytes: /],
    ['coreBank.externalId', 'short', /coreBank\.externalId: 16-1224 characters/],
    ['coreBank.invokerPrincipalArns', ['111111111111'], /coreBank\.invokerPrincipalArns\.0: an IAM role ARN/],
    ['coreBank.invokerPrincipalArns', ['arn:aws:iam::444444444444:role/x'], /coreBank\.invokerPrincipalArns\.0: account 444444444444 is not one of coreBank\.accountIds/],
    ['authorize.reservedConcurrency', 0, /authorize\.reservedConcurrency: /],
    ['authorize.throttleBurst', 1, /authorize\.throttleBurst: must be at least authorize\.throttleRatePerSecond/],
    ['queues.maxConcurrency', 1, /queues\.maxConcurrency: /],
    ['queues.maxConcurrency', 1001, /queues\.maxConcurrency: /],
    ['sms.senderId', 'MUCH-TOO-LONG-ID', /sms\.senderId: 1-11 letters or digits/],
    ['actionPages.wafRateLimitPer5Minutes', 5, /actionPages\.wafRateLimitPer5Minutes: /],
    ['actionPages.throttleBurst', 10, /actionPages\.throttleBurst: must be at least actionPages\.throttleRatePerSecond/],
    [
      'actionPages.customDomain',
      { domainName: 'alerts.example-bank.jp', certificateArn: 'arn:aws:acm:ap-northeast-1:111111111111:certificate/00000000-0000-0000-0000-000000000000' },
      /actionPages\.customDomain\.certificateArn: an ACM certificate ARN in us-east-1/,
    ],
    ['coreBank.accountIds', [], /coreBank\.accountIds: /],
    ['holds.windowHours', 0, /holds\.windowHours: /],
    ['holds.limitMinor', -1, /holds\.limitMinor: /],
    ['holds.limitMinor', '10000', /holds\.limitMinor: /],
    ['tokens.pepperRotationDays', 7, /tokens\.pepperRotationDays: must be greater than tokens\.ttlDays \(7\)/],
    ['quotas.smsPerSecond', 1.5, /quotas\.smsPerSecond: /],
    ['monitoring.errorRatePercent', 0, /monitoring\.errorRatePercent: /],
    ['logRetentionDays', 14, /logRetentionDays: /],
    ['logLevel', 'VERBOSE', /logLevel: /],
    ['namePrefix', 'has spaces', /namePrefix: /],
  ];
  it.each(invalid)('invalid %s = %j', (path, value, expected) => {
    expect(errorOf(devWith(path, value))).toMatch(expected);
  });

  it('action pages on the mail domain (or its MAIL FROM name) are refused: one name cannot hold MX and CNAME', () => {
    for (const name of ['dev.alerts.example-bank.jp', 'mail.dev.alerts.example-bank.jp']) {
      const cfg = devWith('actionPages.customDomain', {
        domainName: name,
        certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000',
        regionalCertificateArn: 'arn:aws:acm:ap-northeast-1:111111111111:certificate/00000000-0000-0000-0000-000000000000',
      });
      expect(errorOf(cfg)).toMatch(/actionPages\.customDomain\.domainName: must be a subdomain of its own.*MX/);
    }
  });

  it("the API's regional certificate must be in the stack's region", () => {
    const cfg = devWith('actionPages.customDomain', {
      domainName: 'go.dev.example-bank.jp',
      certificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000',
      regionalCertificateArn: 'arn:aws:acm:us-east-1:111111111111:certificate/00000000-0000-0000-0000-000000000000',
    });
    expect(errorOf(cfg)).toMatch(/regionalCertificateArn: must be in the stack's region ap-northeast-1, not us-east-1/);
  });

  it('a name prefix is refused when any name derived from it is too long, naming that name (SES templates: 64)', () => {
    // The 31-character prefix of the issue passed the old 2-31 rule and broke an SES template name.
    const prefix = 'LinkedAlerts-production-tokyo-1';
    expect(prefix).toHaveLength(31);
    const msg = errorOf(devWith('namePrefix', prefix));
    expect(msg).toMatch(/namePrefix: too long: it makes the SES template name "LinkedAlerts-production-tokyo-1-campaign-[a-z-]+" \d+ characters, over the limit of 64/);
  });

  it('the longest prefix that fits is accepted, one more character is not', () => {
    const base = dev();
    const worst = (p: string) => derivedNames({ namePrefix: p, sms: { configurationSetName: 'x' } })[0]!;
    // Grow the prefix until the tightest derived name is exactly at its limit.
    let prefix = 'A';
    while (worst(prefix + 'b').name.length <= worst(prefix + 'b').max) prefix += 'b';
    expect(worst(prefix).name.length).toBe(worst(prefix).max);
    expect(() => parseDeployConfig({ ...base, namePrefix: prefix }, 'x')).not.toThrow();
    expect(errorOf({ ...base, namePrefix: `${prefix}b` })).toMatch(/namePrefix: too long: .* over the limit of \d+; shorten namePrefix by 1/);
  });

  it('derived names cover every function, every SES template and the named resources', () => {
    const names = derivedNames({ namePrefix: 'P', sms: { configurationSetName: 'P-sms' } }).map((d) => d.name);
    expect(names).toContain('P-authorize');
    expect(names).toContain('P-pepper-rotation');
    expect(names).toContain('P-replies');
    expect(names.filter((n) => n.startsWith('P-campaign-')).length).toBeGreaterThanOrEqual(2);
  });

  it('an unknown (misspelt) setting is refused rather than ignored', () => {
    const cfg = devWith('holds', { windowHours: 24, limitMinor: 10000, limitMinr: 5 });
    expect(errorOf(cfg)).toMatch(/holds: .*limitMinr/);
  });

  it('every problem is reported at once', () => {
    const cfg = devWith('account', 'x');
    (cfg['monitoring'] as Record<string, unknown>)['alarmEmail'] = 'nobody';
    const msg = errorOf(cfg);
    expect(msg).toMatch(/account: /);
    expect(msg).toMatch(/monitoring\.alarmEmail: /);
  });
});
