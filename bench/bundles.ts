/**
 * Per deployed function: the minified bundle (esbuild with the stack's exact options, from
 * infra/bundling.ts) and its cold-load time (import of the bundle in a fresh Node process, the
 * part of a Lambda cold start the code controls), beside a floor bundle that only creates the
 * same AWS SDK clients the function's bundle contains. The ratios say what the function's own code
 * and its libraries (Powertools, middy, zod, templates) cost on top of the SDK it cannot avoid.
 *
 *   node --import tsx bench/bundles.ts     (prints the table; `npm run bench` includes it)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { ESBUILD, REPO_ROOT, deployableFunctions, handlerEntry } from '../infra/bundling.ts';
import { fmt, type BenchSection } from './section.ts';

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
  return { file: outfile, bytes: statSync(outfile).size, gzipBytes: gzipSync(code).length, sdkPackages: sdkPackagesIn(result.metafile) };
}

function sdkPackagesIn(meta: Metafile): string[] {
  const found = new Set<string>();
  for (const input of Object.keys(meta.inputs)) {
    const m = /node_modules\/@aws-sdk\/((?:client-[a-z0-9-]+)|lib-dynamodb)\//.exec(input);
    if (m) found.add(`@aws-sdk/${m[1]}`);
  }
  return [...found].sort();
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
function coldLoad(file: string): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'] ?? '', ...LAMBDA_ENV },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`import of ${file} failed: ${r.stderr.split('\n').slice(0, 3).join(' ')}`);
  return Number(r.stdout);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const kb = (b: number) => fmt(b / 1024, 1);

export async function run(): Promise<BenchSection[]> {
  const dir = mkdtempSync(join(tmpdir(), 'bundles-'));
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  try {
    const names = deployableFunctions();
    const entries: [string, string][] = [
      ...names.map((n): [string, string] => [n, handlerEntry(n)]),
      ['pepper-rotation', resolve(REPO_ROOT, 'infra/rotation/pepper-rotation.ts')],
    ];
    for (const [name, entry] of entries) {
      const fn = await bundle(entry, join(dir, name, 'index.mjs'));
      const floor = await bundle('', join(dir, `${name}-floor`, 'index.mjs'), await floorSource(fn.sdkPackages));
      const fnMs: number[] = [];
      const floorMs: number[] = [];
      try {
        // Interleaved, so drift in machine load hits both alike.
        for (let i = 0; i < RUNS; i++) {
          fnMs.push(coldLoad(fn.file));
          floorMs.push(coldLoad(floor.file));
        }
      } catch (e) {
        notes.push(`${name}: ${(e as Error).message}`);
        continue;
      }
      const f = median(fnMs);
      const fl = median(floorMs);
      rows.push([
        name,
        kb(fn.bytes),
        kb(fn.gzipBytes),
        kb(floor.bytes),
        fmt(fn.bytes / floor.bytes, 2),
        fmt(f, 1),
        fmt(fl, 1),
        fmt(f / fl, 2),
        fn.sdkPackages.map((p) => p.replace('@aws-sdk/', '')).join(', '),
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return [
    {
      title: 'Lambda bundles: size and cold load vs an SDK-clients-only floor',
      method:
        `esbuild with the stack's options (ESM, minified, source maps external, AWS SDK bundled, node24). ` +
        `Cold load = import() of the bundle in a fresh Node ${process.version} process, median of ${RUNS} runs interleaved with the floor. ` +
        `Floor = a bundle that only creates the same AWS SDK clients the function's bundle contains. Sizes in KB (gzip ~ deployment zip).`,
      columns: ['function', 'bundle KB', 'gzip KB', 'floor KB', 'size ratio', 'cold load ms', 'floor ms', 'load ratio', 'SDK packages'],
      rows,
      ...(notes.length ? { notes } : {}),
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
