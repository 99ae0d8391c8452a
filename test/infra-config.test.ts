/**
 * Deployment configuration: both shipped files are valid, and every bad case stops synth with a
 * message naming the setting (validated before any construct exists, so no synth is needed here;
 * test/infra-synth.test.ts checks the same through the real CDK app).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DIR, DeployConfigError, loadDeployConfig, parseDeployConfig, type DeployConfig } from '../infra/config.ts';

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
    expect(p.actionPages.customDomain?.domainName).toBe('alerts.example-bank.jp');
    expect(p.tokens.pepperRotationDays).toBeGreaterThan(p.tokens.ttlDays);
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
    'actionPages.wafRateLimitPer5Minutes',
    'coreBank.accountIds',
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
    ['sms.originationNumber', '03-1234-5678', /sms\.originationNumber: an E\.164 number/],
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

  it('neither an origination number nor a sender id', () => {
    const cfg = devWith('sms', { originationNumber: '', senderId: '' });
    expect(errorOf(cfg)).toMatch(/sms\.originationNumber: set sms\.originationNumber or sms\.senderId/);
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
