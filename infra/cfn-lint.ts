/**
 * cfn-lint (AWS's CloudFormation linter, a Python tool) over synthesised templates, for the tests.
 * Found on CFN_LINT, then PATH (pyenv shims included), then `python3 -m cfnlint`; when none works
 * the error says how to install it, so a missing linter fails the test instead of passing it.
 * Acknowledged rules, each with its reason, are in .cfnlintrc.yaml at the repository root.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { REPO_ROOT } from './bundling.ts';

export const CFN_LINT_CONFIG = resolve(REPO_ROOT, '.cfnlintrc.yaml');

export interface CfnLintCommand {
  readonly command: string;
  readonly args: readonly string[];
  readonly version: string;
}

function tryVersion(command: string, args: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync(command, [...args, '--version'], { encoding: 'utf8', timeout: 60_000, env });
  if (r.status !== 0) return undefined;
  return /cfn-lint (\d+\.\d+\.\d+)/.exec(`${r.stdout}${r.stderr}`)?.[1];
}

/** The cfn-lint to run, or an error that says how to get one. */
export function resolveCfnLint(env: NodeJS.ProcessEnv = process.env): CfnLintCommand {
  const candidates: [string, string[]][] = [];
  if (env['CFN_LINT']) candidates.push([env['CFN_LINT'], []]);
  const dirs = [...(env['PATH'] ?? '').split(delimiter), join(env['PYENV_ROOT'] ?? join(homedir(), '.pyenv'), 'shims')];
  for (const d of dirs) {
    const f = join(d, 'cfn-lint');
    if (d && existsSync(f)) candidates.push([f, []]);
  }
  candidates.push(['python3', ['-m', 'cfnlint']]);
  for (const [command, args] of candidates) {
    const version = tryVersion(command, args, env);
    if (version) {
      if (Number(version.split('.')[0]) < 1) throw new Error(`cfn-lint ${version} at ${command} is too old: version 1.x is required (pip install "cfn-lint>=1.51")`);
      return { command, args, version };
    }
  }
  throw new Error(
    'cfn-lint not found (tried $CFN_LINT, cfn-lint on PATH and in ~/.pyenv/shims, python3 -m cfnlint): install it with `pip install "cfn-lint>=1.51"` or set CFN_LINT to its path',
  );
}

export interface CfnLintFinding {
  readonly file: string;
  readonly line: number;
  readonly rule: string;
  readonly message: string;
}

/** Lints the files with the repository's .cfnlintrc.yaml; every finding, errors and warnings. */
export function runCfnLint(files: readonly string[], lint: CfnLintCommand = resolveCfnLint()): { findings: CfnLintFinding[]; status: number | null; stderr: string } {
  const r = spawnSync(lint.command, [...lint.args, '--config-file', CFN_LINT_CONFIG, '--format', 'parseable', '--', ...files], {
    encoding: 'utf8',
    timeout: 600_000,
    cwd: REPO_ROOT,
  });
  // parseable: file:line:column:endLine:endColumn:rule:message
  const findings = r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const m = /^(.*?):(\d+):\d+:\d+:\d+:([EWI]\d+):(.*)$/.exec(l);
      return m ? { file: m[1]!, line: Number(m[2]), rule: m[3]!, message: m[4]! } : { file: '?', line: 0, rule: 'UNPARSED', message: l };
    });
  return { findings, status: r.status, stderr: r.stderr };
}
