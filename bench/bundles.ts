/**
 * Per deployed function: the minified bundle (esbuild with the stack's exact options, from
 * infra/bundling.ts) and its cold-load time (import of the bundle in a fresh Node process with the
 * NODE_OPTIONS the stack gives that function, the part of a Lambda cold start the code controls),
 * beside a floor bundle that only creates the AWS SDK clients the function CALLS: the services its
 * IAM grants allow (infra/permissions.ts; the queue grants of infra/alert-pipeline.ts and
 * infra/campaigns.ts), not whatever its bundle happens to carry. A client bundled but never
 * called is overhead, and is listed as such. The ratios say what the function's own code, its
 * libraries (Powertools, middy, zod, templates) and any client it carries needlessly cost on top
 * of the SDK it cannot avoid. Cold loads of function and floor alternate; figures are medians
 * with their spread.
 *
 *   node --import tsx bench/bundles.ts     (prints the table; `npm run bench -- bundles`)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ESBUILD, REPO_ROOT, deployableFunctions, handlerEntry, nodeOptionsFor } from '../infra/bundling.ts';
import { functionPermissions } from '../infra/permissions.ts';
import type { FunctionName } from '../src/routing.ts';
import { fmt, fmtSpread, spread, type BenchSection } from './section.ts';

const RUNS = Number(process.env['BENCH_BUNDLE_RUNS'] ?? 7);

/** The environment the stack gives a function (values are placeholders; nothing is called). */
const LAMBDA_ENV: Record<string, string> = {
  AWS_REGION: 'ap-northeast-1',
  AWS_LAMBDA_FUNCTION_NAME: 'bench',
  POWERTOOLS_METRICS_NAMESPACE: 'LinkedAccountAlerting',
  POWERTOOLS_LOG_LEVEL: 'WARN',
  TABLE_NAME: 'bench-table',
  EVENT_BUS_NAME: 'bench-bus',
  ACTION_BASE_URL: 'https://alerts.example-bank.jp/a/',
  SES_FROM_ADDRESS: 'alerts@alerts.example-bank.jp',
  SES_REPLY_TO_ADDRESS: 'reply@alerts.example-bank.jp',
  SES_CONFIGURATION_SET: 'bench',
  TOKEN_PEPPER_SECRET_ARN: 'arn:aws:secretsmanager:ap-northeast-1:111111111111:secret:bench',
};

interface Bundle {
  file: string;
  bytes: number;
  gzipBytes: number;
  /** @aws-sdk/client-* (and lib-dynamodb) packages inside the bundle. */
  sdkPackages: string[];
  /** Whether the tests' all-clients module (src/adapters/clients.ts) got into the bundle. */
  allClientsModule: boolean;
  /** The largest parts that are not the AWS SDK: [package or source folder, bytes], largest first. */
  heaviest: [string, number][];
}

async function bundle(entry: string, outfile: string, stdin?: string): Promise<Bundle> {
  const result = await build({
    ...(stdin ? { stdin: { contents: stdin, resolveDir: REPO_ROOT, loader: 'ts' as const } } : { entryPoints: [entry] }),
    outfile,
    bundle: true,
    platform: ESBUILD.platform,
    target: ESBUILD.target,
    format: ESBUILD.format,
    minify: ESBUILD.minify,
    sourcemap: ESBUILD.sourcemap,
    sourcesContent: ESBUILD.sourcesContent,
    mainFields: [...ESBUILD.mainFields],
    banner: { js: ESBUILD.banner },
    metafile: true,
    logLevel: 'silent',
  });
  const code = readFileSync(outfile);
  return {
    file: outfile,
    bytes: statSync(outfile).size,
    gzipBytes: gzipSync(code).length,
    sdkPackages: sdkPackagesIn(result.metafile),
    allClientsModule: Object.keys(result.metafile.inputs).some((i) => i.endsWith('src/adapters/clients.ts')),
    heaviest: heaviestParts(result.metafile),
  };
}

/** Output bytes per package (or per source folder), without the AWS SDK and Smithy, largest first. */
function heaviestParts(meta: Metafile): [string, number][] {
  const by = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [input, v] of Object.entries(out.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const part = m ? m[1]! : input.split('/').slice(0, 2).join('/');
      if (/^@(aws-sdk|smithy|aws-crypto)\//.test(part)) continue;
      by.set(part, (by.get(part) ?? 0) + v.bytesInOutput);
    }
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, 4);
}

function sdkPackagesIn(meta: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /node_modules\/@aws-sdk\/((?:client-[a-z0-9-]+)|lib-dynamodb)\//.exec(input);
    if (m) found.add(`@aws-sdk/${m[1]}`);
  }
  return [...found].sort();
}

/** Functions that send to an SQS queue: alert (its DLQ, infra/alert-pipeline.ts), ops and campaign (the campaign queue, infra/campaigns.ts). */
const QUEUE_SENDERS = new Set(['alert', 'ops', 'campaign']);

/**
 * The SDK packages a function calls in AWS, read from its grants: the table (DynamoDB and its
 * document client), SES v2, End User Messaging SMS, EventBridge, the pepper secret, its queue.
 * Undefined for a function without a permission entry (the floor then uses what it carries).
 */
function calledPackages(name: string): string[] | undefined {
  if (name === 'pepper-rotation') return ['@aws-sdk/client-secrets-manager'];
  const p = (functionPermissions as Partial<Record<string, (typeof functionPermissions)[FunctionName]>>)[name];
  if (!p) return undefined;
  const out = ['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb'];
  if (p.sendEmail || p.sendBulkEmail) out.push('@aws-sdk/client-sesv2');
  if (p.sendSms) out.push('@aws-sdk/client-pinpoint-sms-voice-v2');
  if (p.putEvents) out.push('@aws-sdk/client-eventbridge');
  if (p.readPepper) out.push('@aws-sdk/client-secrets-manager');
  if (QUEUE_SENDERS.has(name)) out.push('@aws-sdk/client-sqs');
  return out.sort();
}

/** Source of a module that creates one client of each package, as the handlers' adapters do. */
async function floorSource(packages: string[]): Promise<string> {
  const lines: string[] = [];
  const made: string[] = [];
  const clients = packages.filter((p) => p.startsWith('@aws-sdk/client-'));
  for (const [i, pkg] of clients.entries()) {
    const mod = (await import(pkg)) as Record<string, unknown>;
    const name = Object.keys(mod).find((k) => /^[A-Z][A-Za-z0-9]*Client$/.test(k) && typeof mod[k] === 'function');
    if (!name) throw new Error(`${pkg}: no client class found`);
    lines.push(`import { ${name} as C${i} } from '${pkg}';`);
    made.push(`new C${i}({ maxAttempts: 4 })`);
  }
  if (packages.includes('@aws-sdk/lib-dynamodb') && clients.includes('@aws-sdk/client-dynamodb')) {
    lines.push(`import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';`);
    const i = clients.indexOf('@aws-sdk/client-dynamodb');
    made.push(`DynamoDBDocumentClient.from(new C${i}({}))`);
  }
  lines.push(`export const clients = [${made.join(', ')}];`);
  return lines.join('\n');
}

/** Milliseconds to import the module in a fresh Node process (one sample). */
function coldLoad(file: string, nodeOptions = ''): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'] ?? '', ...LAMBDA_ENV, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`import of ${file} failed: ${r.stderr.split('\n').slice(0, 3).join(' ')}`);
  return Number(r.stdout);
}

const kb = (b: number) => fmt(b / 1024, 1);

export async function run(): Promise<BenchSection[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bundles-'));
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  const sizeRatios: number[] = [];
  const loadRatios: number[] = [];
  try {
    const names = deployableFunctions();
    const entries: [string, string][] = [
      ...names.map((n): [string, string] => [n, handlerEntry(n)]),
      ['pepper-rotation', resolve(REPO_ROOT, 'infra/rotation/pepper-rotation.ts')],
    ];
    for (const [name, entry] of entries) {
      const fn = await bundle(entry, join(dir, name, 'index.mjs'));
      const called = calledPackages(name) ?? fn.sdkPackages;
      if (!calledPackages(name)) notes.push(`${name}: no entry in infra/permissions.ts; its floor is the clients its bundle carries.`);
      if (fn.allClientsModule) notes.push(`${name}: its bundle contains src/adapters/clients.ts (every client), which no function should import.`);
      const floor = await bundle('', join(dir, `${name}-floor`, 'index.mjs'), await floorSource(called));
      const options = name === 'pepper-rotation' ? '' : nodeOptionsFor(name);
      const fnMs: number[] = [];
      const floorMs: number[] = [];
      try {
        // Interleaved, so drift in machine load hits both alike.
        for (let i = 0; i < RUNS; i++) {
          fnMs.push(coldLoad(fn.file, options));
          floorMs.push(coldLoad(floor.file));
        }
      } catch (e) {
        notes.push(`${name}: ${(e as Error).message}`);
        continue;
      }
      const f = spread(fnMs);
      const fl = spread(floorMs);
      const ratio = spread(fnMs.map((x, i) => x / floorMs[i]!));
      sizeRatios.push(fn.bytes / floor.bytes);
      loadRatios.push(ratio.median);
      const extra = fn.sdkPackages.filter((p) => !called.includes(p));
      if (fn.bytes / floor.bytes > 1.8) {
        notes.push(
          `${name}: size ${fmt(fn.bytes / floor.bytes, 2)}× because of ${extra.length ? `clients it carries but has no grant for (${extra.map((p) => p.replace('@aws-sdk/', '')).join(', ')}) and ` : ''}its largest non-SDK parts: ${fn.heaviest.map(([p, b]) => `${p} ${kb(b)} KB`).join(', ')}.`,
        );
      }
      rows.push([
        name,
        kb(fn.bytes),
        kb(fn.gzipBytes),
        kb(floor.bytes),
        fmt(fn.bytes / floor.bytes, 2),
        fmtSpread(f, 0),
        fmtSpread(fl, 0),
        fmtSpread(ratio, 2),
        options ? 'on' : 'off',
        called.map((p) => p.replace('@aws-sdk/', '')).join(', '),
        extra.length ? extra.map((p) => p.replace('@aws-sdk/', '')).join(', ') : '—',
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const worst = (xs: number[]) => (xs.length ? Math.max(...xs) : NaN);
  notes.unshift(
    `Targets (issue 14): size ≤ 1.8× ${worst(sizeRatios) <= 1.8 ? 'met' : 'missed'} (largest ${fmt(worst(sizeRatios), 2)}×), cold load ≤ 1.3× ${worst(loadRatios) <= 1.3 ? 'met' : 'missed'} (largest median ${fmt(worst(loadRatios), 2)}×).`,
    ...(worst(sizeRatios) > 1.8
      ? ['Next step (size): the function named below carries parts only some of its requests use (passkey verification for action: @simplewebauthn/server, asn1js, @peculiar/x509); give those requests their own entry point or load the part on first use, and grant the clients it does call (then they count in its floor).']
      : []),
    ...(worst(loadRatios) > 1.3
      ? ['Next step (cold load): check the floor column first: when its own min–max is wider than the target (a loaded machine), rerun on a quiet one before deciding; what is left after that is module evaluation (Powertools logger and metrics, middy, zod schemas built at import), which can be deferred to first use.']
      : []),
    'Source maps: the stack runs authorize and action without --enable-source-maps (infra/bundling.ts WITHOUT_SOURCE_MAPS: the debit path and the freeze button); the .map still ships beside each bundle, so a logged trace is mapped offline.',
  );
  return [
    {
      title: 'Lambda bundles: size and cold load vs a floor of the SDK clients each function calls',
      method:
        `esbuild with the stack's options (ESM, minified, source maps external, AWS SDK bundled, node24). ` +
        `Cold load = import() of the bundle in a fresh Node ${process.version} process with the NODE_OPTIONS the stack sets for that function, ${RUNS} runs interleaved with the floor: median (min–max, n); the load ratio is the median of the per-run ratios. ` +
        `Floor = a bundle that only creates the AWS SDK clients the function calls (from its grants in infra/permissions.ts and its queue grants), loaded without options. Sizes in KB (gzip ~ deployment zip).`,
      columns: ['function', 'bundle KB', 'gzip KB', 'floor KB', 'size ratio', 'cold load ms', 'floor ms', 'load ratio', 'source maps', 'SDK clients it calls', 'carried, not called'],
      rows,
      notes,
    },
  ];
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [section] = await run();
  console.log(`${section!.title}\n${section!.method}\n`);
  console.log(`| ${section!.columns.join(' | ')} |`);
  for (const r of section!.rows) console.log(`| ${r.join(' | ')} |`);
  for (const n of section!.notes ?? []) console.log(`note: ${n}`);
}
