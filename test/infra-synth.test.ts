/**
 * The real CDK app, as `npx cdk synth` runs it: offline, no AWS credentials, esbuild bundling,
 * cdk-nag in the validation step. Also: prod's settings (custom domain, TLS 1.2) and a bad
 * configuration failing synth with the setting's name.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_DIR, loadDeployConfig } from '../infra/config.ts';
import { REPO_ROOT, deployableFunctions } from '../infra/bundling.ts';
import { nagFindings, synthesise, type Synthesised } from '../infra/testing.ts';
import { loadCampaigns } from '../infra/stack.ts';

/** Runs infra/app.ts the way the CDK CLI does: cdk.json's context plus -c values, and the output dir, through the environment. */
function runApp(context: Record<string, string>, outdir: string) {
  const cdkJson = JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJson.context, ...context }) };
  // No credentials may be needed: make sure none are found.
  for (const k of Object.keys(env)) if (k.startsWith('AWS_')) delete env[k];
  env['AWS_CONFIG_FILE'] = '/nonexistent';
  env['AWS_SHARED_CREDENTIALS_FILE'] = '/nonexistent';
  return spawnSync(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'infra/app.ts')], { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 420_000 });
}

describe('cdk synth of the real app (dev), offline, with bundling and cdk-nag', () => {
  let outdir: string;
  let result: ReturnType<typeof runApp>;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    result = runApp({ env: 'dev' }, outdir);
  }, 440_000);

  it('succeeds with the three stacks in the cloud assembly', () => {
    expect(result.status, result.stderr.slice(-3000)).toBe(0);
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; environment?: string }> };
    const stacks = Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack');
    expect(Object.fromEntries(stacks.map(([id, a]) => [id, a.environment]))).toEqual({
      'LinkedAlerts-dev-edge': 'aws://111111111111/us-east-1',
      'LinkedAlerts-dev-mail': 'aws://111111111111/ap-northeast-1',
      'LinkedAlerts-dev': 'aws://111111111111/ap-northeast-1',
    });
  });

  it('bundles every deployed handler as minified ESM with a source map', () => {
    const assets = readdirSync(outdir).filter((d) => d.startsWith('asset.') && existsSync(join(outdir, d, 'index.mjs')));
    // The handlers plus the pepper rotation function.
    expect(assets.length).toBe(deployableFunctions().length + 1);
    for (const a of assets) {
      const code = readFileSync(join(outdir, a, 'index.mjs'), 'utf8');
      expect(existsSync(join(outdir, a, 'index.mjs.map')), a).toBe(true);
      expect(code).toMatch(/sourceMappingURL=index\.mjs\.map/);
      // Minified: few, long lines.
      expect(code.length / code.split('\n').length, a).toBeGreaterThan(500);
    }
  });
});

describe('prod configuration', () => {
  let s: Synthesised;
  beforeAll(async () => {
    s = await synthesise(loadDeployConfig('prod'));
  }, 120_000);

  it('serves the action pages on the custom domain with TLS 1.2 and links point there', () => {
    s.main.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        Aliases: ['go.example-bank.jp'],
        ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' }),
      }),
    });
    const fns = Object.values(s.main.findResources('AWS::Lambda::Function')) as { Properties: { Environment?: { Variables: Record<string, unknown> } } }[];
    const urls = fns.map((f) => f.Properties.Environment?.Variables['ACTION_BASE_URL']).filter(Boolean);
    expect(urls.length).toBeGreaterThan(0);
    for (const u of urls) expect(u).toBe('https://go.example-bank.jp/a/');
  });

  it("the public API's execute-api endpoint is off: CloudFront reaches it through the API's own custom domain, Host forwarded", () => {
    s.main.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: 'LinkedAlerts-prod-api', DisableExecuteApiEndpoint: true });
    // The authorisation API keeps its endpoint: the core bank signs requests for it.
    s.main.hasResourceProperties('AWS::ApiGatewayV2::Api', { Name: 'LinkedAlerts-prod-authorize-api', DisableExecuteApiEndpoint: Match.absent() });
    s.main.hasResourceProperties('AWS::ApiGatewayV2::DomainName', {
      DomainName: 'go.example-bank.jp',
      DomainNameConfigurations: [Match.objectLike({ CertificateArn: Match.stringLikeRegexp('^arn:aws:acm:ap-northeast-1:'), SecurityPolicy: 'TLS_1_2' })],
    });
    s.main.resourceCountIs('AWS::ApiGatewayV2::ApiMapping', 1);
    const [dist] = Object.values(s.main.findResources('AWS::CloudFront::Distribution')) as { Properties: { DistributionConfig: Record<string, unknown> } }[];
    const config = JSON.stringify(dist!.Properties.DistributionConfig);
    expect(config).toMatch(/"DomainName":\{"Fn::GetAtt":\["\w*OriginDomain\w*","RegionalDomainName"\]\}/);
    expect(config).not.toContain('execute-api');
    // All viewer headers including Host (the managed AllViewer policy), so API Gateway maps the request.
    expect(config).toContain('"OriginRequestPolicyId":"216adef6-5c7f-47e4-b989-5492eafa07d3"');
  });

  it('uses the prod origination identity, retention and rate limit', () => {
    const prod = loadDeployConfig('prod');
    s.edge.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([Match.objectLike({ Statement: { RateBasedStatement: Match.objectLike({ Limit: prod.actionPages.wafRateLimitPer5Minutes }) } })]),
    });
    s.main.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 3653 });
    const fns = Object.values(s.main.findResources('AWS::Lambda::Function')) as { Properties: { Environment?: { Variables: Record<string, unknown> } } }[];
    expect(fns.some((f) => f.Properties.Environment?.Variables['SMS_ORIGINATION_IDENTITY'] === prod.sms.originationIdentity)).toBe(true);
  });

  it('protects every stack from deletion', () => {
    expect(s.stacks.main.terminationProtection).toBe(true);
    expect(s.stacks.edge.terminationProtection).toBe(true);
    expect(s.stacks.mail.terminationProtection).toBe(true);
  });

  it('has zero unacknowledged cdk-nag findings (no CFR4 acknowledgement needed with the custom domain)', () => {
    expect(nagFindings(s.nag)).toEqual([]);
    const acked = s.stacks.main.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').flatMap((m) => Object.keys(m.data as object)));
    expect(acked).not.toContain('AwsSolutions-CFR4');
  });
});

describe('a bad configuration fails synth with the setting named', () => {
  it('invalid and missing settings: exit 1, message names each setting, nothing synthesised', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const bad = JSON.parse(readFileSync(join(CONFIG_DIR, 'dev.json'), 'utf8')) as Record<string, unknown>;
    bad['environment'] = 'qa';
    delete (bad['monitoring'] as Record<string, unknown>)['alarmEmail'];
    (bad['holds'] as Record<string, unknown>)['windowHours'] = -3;
    writeFileSync(join(dir, 'qa.json'), JSON.stringify(bad));
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    const r = runApp({ env: 'qa', configDir: dir }, outdir);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`invalid deployment configuration ${join(dir, 'qa.json')}`);
    expect(r.stderr).toContain('monitoring.alarmEmail: missing (required)');
    expect(r.stderr).toMatch(/holds\.windowHours: .*>0/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(join(outdir, 'manifest.json'))).toBe(false);
  }, 60_000);
});

describe('the campaigns capability slot (infra/campaigns.ts)', () => {
  it('is skipped while the file does not exist', async () => {
    expect(await loadCampaigns(join(tmpdir(), 'no-such-dir', 'campaigns.ts'))).toBeUndefined();
  });

  it('loads the exported Campaigns class when the file exists', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaigns-'));
    writeFileSync(join(dir, 'campaigns.ts'), 'export class Campaigns { constructor(public scope: unknown, public id: string, public props: unknown) {} }\n');
    const Campaigns = await loadCampaigns(join(dir, 'campaigns.ts'));
    expect(Campaigns?.name).toBe('Campaigns');
  });

  it('a file without the Campaigns export fails synth with the contract named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'campaigns-'));
    writeFileSync(join(dir, 'campaigns.ts'), 'export const somethingElse = 1;\n');
    await expect(loadCampaigns(join(dir, 'campaigns.ts'))).rejects.toThrow(/must export class Campaigns \(see infra\/capability\.ts\)/);
  });
});
