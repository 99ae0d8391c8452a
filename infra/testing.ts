/**
 * Test support for the infra tests: synthesise an environment's stacks once (bundling skipped
 * unless asked: the assertions are about resources, not bundles) and run cdk-nag's AwsSolutions
 * pack over the same construct tree.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REPO_ROOT } from './bundling.ts';
import type { DeployConfig } from './config.ts';
import { addStacks, loadCampaigns, type Stacks } from './stack.ts';

export interface Synthesised {
  app: App;
  stacks: Stacks;
  main: Template;
  edge: Template;
  mail: Template;
  nag: PolicyValidationPluginReport;
}

export async function synthesise(config: DeployConfig, opts: { bundle?: boolean } = {}): Promise<Synthesised> {
  // The feature flags of cdk.json, as the CLI would pass them.
  const { context } = JSON.parse(readFileSync(resolve(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const app = new App({ context: { ...context, ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) } });
  const stacks = addStacks(app, config, await loadCampaigns());
  const main = Template.fromStack(stacks.main);
  const edge = Template.fromStack(stacks.edge);
  const mail = Template.fromStack(stacks.mail);
  const nag = new AwsSolutionsChecks(app).validateScope(app);
  return { app, stacks, main, edge, mail, nag };
}

/** One line per unacknowledged finding: rule, resource path. */
export function nagFindings(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} ${r.constructPath ?? r.resourceLogicalId ?? r.templatePath}`),
  );
}
