/**
 * Wiring that only fails once deployed, caught at synth: for both environments (synthesised once
 * each, shared by every test here),
 *   - every place an AWS service publishes to, sends to, invokes or writes into our resources
 *     (alarm actions, SES receipt rules and event destinations, End User Messaging event
 *     destinations, EventBridge targets and dead-letter queues, SNS subscriptions, API
 *     integrations, secret rotation, WAF log delivery, declared outside publishers) has the
 *     resource-policy statement (and KMS key-policy statement) that lets that service do it
 *     (infra/policy-check.ts); and the checker reports it when a statement is removed;
 *   - cfn-lint (the machine image's 1.51) finds 0 errors and no unacknowledged warning in any
 *     template (.cfnlintrc.yaml says why each acknowledged rule is harmless).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveCfnLint, runCfnLint } from '../infra/cfn-lint.ts';
import { loadDeployConfig } from '../infra/config.ts';
import { describeMissing, missingGrants, requiredGrants, type CfnTemplate, type MissingGrant } from '../infra/policy-check.ts';
import { synthesise } from '../infra/testing.ts';

/** dev, prod, and prod with SES receiving in another region (where Tokyo does not receive email). */
type Env = 'dev' | 'prod' | 'prod-receiving-elsewhere';
type Templates = Record<'main' | 'edge' | 'mail', CfnTemplate>;
const templates = {} as Record<Env, Templates>;
const ENVS = ['dev', 'prod', 'prod-receiving-elsewhere'] as const;

beforeAll(async () => {
  for (const env of ENVS) {
    const cfg = env === 'prod-receiving-elsewhere' ? { ...loadDeployConfig('prod'), sesReceivingRegion: 'us-west-2' } : loadDeployConfig(env);
    const s = await synthesise(cfg);
    expect(s.stacks.mail.region).toBe(cfg.sesReceivingRegion);
    templates[env] = { main: s.main.toJSON() as CfnTemplate, edge: s.edge.toJSON() as CfnTemplate, mail: s.mail.toJSON() as CfnTemplate };
  }
}, 600_000);

const copy = (t: CfnTemplate): CfnTemplate => structuredClone(t);
type Res = { Type: string; Properties: Record<string, unknown> };
const resourcesOf = (t: CfnTemplate) => t.Resources as Record<string, Res>;
const idOf = (t: CfnTemplate, pred: (id: string, r: Res) => boolean) => Object.entries(resourcesOf(t)).find(([id, r]) => pred(id, r))?.[0];
type Statement = { Sid?: string; Principal?: { Service?: string | string[] } };
const statementsOf = (r: Res, docKey: string) => (r.Properties[docKey] as { Statement: Statement[] }).Statement;
const servicesOf = (st: Statement) => [st.Principal?.Service ?? []].flat();

describe.each(ENVS)('resource policies (%s)', (env) => {
  it('every service that publishes, sends, invokes or writes is allowed to by the target (and its key)', () => {
    for (const [stack, t] of Object.entries(templates[env])) {
      expect(missingGrants(t).map(describeMissing), `${env} ${stack}`).toEqual([]);
    }
  });

  it('the checker sees every kind of wiring the issue named (so passing is not for want of looking)', () => {
    const { main, edge, mail } = templates[env];
    const kinds = new Set([...requiredGrants(main), ...requiredGrants(edge), ...requiredGrants(mail)].map((g) => g.kind));
    for (const k of [
      'alarm action',
      'alarm action (encrypted target)',
      'SES receipt rule',
      'SES receipt rule (encrypted target)',
      'SES event destination',
      'End User Messaging event destination',
      'declared publisher',
      'EventBridge target',
      'EventBridge target dead-letter queue',
      'event bus encryption',
      'event archive encryption',
      'SNS subscription',
      'SNS subscription dead-letter queue',
      'WAF log delivery',
    ]) {
      expect(kinds, k).toContain(k);
    }
    // Every alarm notifies, so every alarm is checked.
    const alarms = Object.values(resourcesOf(main)).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length;
    expect(requiredGrants(main).filter((g) => g.kind === 'alarm action').length).toBeGreaterThanOrEqual(alarms);
  });
});

describe('the checker fails when a statement is removed (on its own copy of the template)', () => {
  const only = (m: MissingGrant[]) => m.map((x) => `${x.kind} -> ${x.target}: ${x.principal}`);

  it('alarm topic without the CloudWatch statement: every alarm is reported', () => {
    const t = copy(templates.prod.main);
    const policy = Object.values(resourcesOf(t)).find(
      (r) => r.Type === 'AWS::SNS::TopicPolicy' && statementsOf(r, 'PolicyDocument').some((st) => servicesOf(st).includes('cloudwatch.amazonaws.com')),
    )!;
    const doc = policy.Properties['PolicyDocument'] as { Statement: Statement[] };
    doc.Statement = doc.Statement.filter((st) => !servicesOf(st).includes('cloudwatch.amazonaws.com'));
    const missing = missingGrants(t);
    const alarms = Object.entries(resourcesOf(t))
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm')
      .map(([id]) => id)
      .sort();
    expect(alarms.length).toBeGreaterThan(30);
    const reported = missing.filter((m) => m.kind === 'alarm action' && m.principal === 'cloudwatch.amazonaws.com').map((m) => m.source);
    expect([...new Set(reported)].sort()).toEqual(alarms);
    expect(missing[0]!.problem).toMatch(/no statement in the AWS::SNS::Topic policy allows cloudwatch\.amazonaws\.com to sns:Publish/);
  });

  it('inbound-email topic without the SES statement: the receipt rule is reported', () => {
    const t = copy(templates.prod.mail);
    const policy = Object.values(resourcesOf(t)).find((r) => r.Type === 'AWS::SNS::TopicPolicy')!;
    const doc = policy.Properties['PolicyDocument'] as { Statement: Statement[] };
    doc.Statement = doc.Statement.filter((st) => !servicesOf(st).includes('ses.amazonaws.com'));
    const topic = idOf(t, (_, r) => r.Type === 'AWS::SNS::Topic')!;
    expect(only(missingGrants(t))).toEqual([`SES receipt rule -> ${topic}: ses.amazonaws.com`]);
  });

  it("the SMS configuration set's topic without the sms-voice statement: status events are reported", () => {
    const t = copy(templates.dev.main);
    for (const r of Object.values(resourcesOf(t)).filter((x) => x.Type === 'AWS::SNS::TopicPolicy')) {
      const doc = r.Properties['PolicyDocument'] as { Statement: Statement[] };
      doc.Statement = doc.Statement.filter((st) => !(st.Sid === 'AllowsmsvoicePublish'));
    }
    const kinds = missingGrants(t).map((m) => m.kind);
    expect(kinds).toEqual(['End User Messaging event destination']);
  });

  it('the messaging key without its service statement: every encrypted topic and queue a service writes to is reported', () => {
    const t = copy(templates.dev.main);
    const key = Object.entries(resourcesOf(t)).find(([id]) => id.includes('MessagingKey'))!;
    const doc = key[1].Properties['KeyPolicy'] as { Statement: Statement[] };
    doc.Statement = doc.Statement.filter((st) => servicesOf(st).length === 0);
    const missing = missingGrants(t);
    expect(missing.length).toBeGreaterThan(0);
    for (const m of missing) {
      expect(m.kind).toMatch(/\(encrypted target\)$/);
      expect(m.target).toBe(key[0]);
    }
    expect(new Set(missing.map((m) => m.principal))).toEqual(new Set(['cloudwatch.amazonaws.com', 'ses.amazonaws.com', 'sms-voice.amazonaws.com', 'events.amazonaws.com', 'sns.amazonaws.com']));
  });

  it('a topic encrypted with the AWS managed key (alias/aws/sns) is reported: services cannot use that key', () => {
    const t = copy(templates.dev.main);
    const topic = idOf(t, (id, r) => r.Type === 'AWS::SNS::Topic' && id.includes('Alarms'))!;
    resourcesOf(t)[topic]!.Properties['KmsMasterKeyId'] = 'alias/aws/sns';
    const missing = missingGrants(t);
    expect(missing.length).toBeGreaterThan(0);
    expect(missing.every((m) => m.target.includes('AWS managed key') && m.principal === 'cloudwatch.amazonaws.com')).toBe(true);
  });

  it('a Lambda permission removed: the subscription or rule that invokes the function is reported', () => {
    const t = copy(templates.dev.main);
    const res = resourcesOf(t);
    const perm = Object.entries(res).find(([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties['Principal'] === 'sns.amazonaws.com')!;
    delete res[perm[0]];
    const missing = missingGrants(t);
    expect(missing).toHaveLength(1);
    expect(missing[0]!.kind).toBe('SNS subscription');
    expect(missing[0]!.problem).toMatch(/no AWS::Lambda::Permission lets sns\.amazonaws\.com invoke it/);
  });

  it('a statement without a source condition is reported (confused deputy), and an unconditional Deny blocks', () => {
    const t = copy(templates.prod.mail);
    const policy = Object.values(resourcesOf(t)).find((r) => r.Type === 'AWS::SNS::TopicPolicy')!;
    const doc = policy.Properties['PolicyDocument'] as { Statement: (Statement & { Condition?: unknown; Effect?: string; Action?: unknown; Resource?: unknown })[] };
    for (const st of doc.Statement) if (servicesOf(st).includes('ses.amazonaws.com')) delete st.Condition;
    expect(missingGrants(t).map((m) => m.problem)).toEqual([expect.stringMatching(/no aws:SourceAccount \/ aws:SourceArn condition/)]);
    doc.Statement.push({ Effect: 'Deny', Principal: { Service: 'ses.amazonaws.com' }, Action: 'sns:Publish', Resource: '*' });
    expect(missingGrants(t).map((m) => m.problem)).toEqual([expect.stringMatching(/an unconditional Deny/)]);
  });

  it('the WAF log group without the log-delivery resource policy is reported', () => {
    const t = copy(templates.prod.edge);
    const res = resourcesOf(t);
    for (const [id, r] of Object.entries(res)) if (r.Type === 'AWS::Logs::ResourcePolicy') delete res[id];
    expect(missingGrants(t).map((m) => m.kind)).toEqual(['WAF log delivery']);
  });
});

describe('cfn-lint over every synthesised template (dev, prod, prod receiving elsewhere)', () => {
  it('finds 0 errors and no unacknowledged warning', () => {
    const lint = resolveCfnLint();
    expect(Number(lint.version.split('.')[0])).toBeGreaterThanOrEqual(1);
    const dir = mkdtempSync(join(tmpdir(), 'cfn-lint-'));
    const files: string[] = [];
    for (const env of ENVS) {
      for (const [stack, t] of Object.entries(templates[env])) {
        const file = join(dir, `${env}-${stack}.json`);
        writeFileSync(file, JSON.stringify(t, null, 1));
        files.push(file);
      }
    }
    expect(files).toHaveLength(9);
    const r = runCfnLint(files, lint);
    expect(r.findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.message}`)).toEqual([]);
    expect(r.status, r.stderr.slice(-2000)).toBe(0);
  }, 600_000);

  it('cfn-lint does report a broken template (the linter really runs)', () => {
    const t = copy(templates.dev.edge) as CfnTemplate & { Resources: Record<string, Res> };
    const acl = Object.values(t.Resources).find((r) => r.Type === 'AWS::WAFv2::WebACL')!;
    acl.Properties['Scope'] = 'GLOBAL';
    const file = join(mkdtempSync(join(tmpdir(), 'cfn-lint-')), 'broken.json');
    writeFileSync(file, JSON.stringify(t));
    const r = runCfnLint([file]);
    expect(r.findings.some((f) => f.rule.startsWith('E'))).toBe(true);
  }, 300_000);

  it('a missing cfn-lint fails with a message that says how to install it', () => {
    expect(() => resolveCfnLint({ PATH: '/nonexistent', PYENV_ROOT: '/nonexistent', CFN_LINT: '/nonexistent/cfn-lint' })).toThrow(
      /cfn-lint not found .*pip install "cfn-lint>=1\.51"/,
    );
  });
});
