/**
 * CDK app entry (cdk.json). Offline: no lookups, account and region come from the environment's
 * configuration file. `npx cdk synth -c env=prod` selects config/prod.json (default dev).
 * (`-c configDir=<dir>` reads <dir>/<env>.json instead of config/.)
 * cdk-nag's AwsSolutions checks run on every synth; a finding fails it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeployConfigError, loadDeployConfig } from './config.ts';
import { addStacks, loadCampaigns } from './stack.ts';

const app = new App();
const environment = String(app.node.tryGetContext('env') ?? 'dev');
const configDir = app.node.tryGetContext('configDir') as string | undefined;
try {
  const config = loadDeployConfig(environment, configDir);
  addStacks(app, config, await loadCampaigns());
} catch (e) {
  if (e instanceof DeployConfigError) {
    console.error(e.message);
    process.exit(1);
  }
  throw e;
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
