/**
 * How every function is bundled, in one place: the stack's NodejsFunctions and the bundle bench
 * (bench/bundles.ts) use these exact options, so the measured bundle is the deployed one.
 */
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { functionNames, type FunctionName } from '../src/routing.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
export const FUNCTIONS_DIR = resolve(REPO_ROOT, 'functions');

/** functions/<name>/handler.ts */
export function handlerEntry(name: string): string {
  return resolve(FUNCTIONS_DIR, name, 'handler.ts');
}

/**
 * The entry points to deploy: every name in the routing table's functionNames whose handler file
 * exists. Colleagues add handlers over time; synth works at every stage, and the infra tests say
 * which handler or route is still missing.
 */
export function deployableFunctions(): FunctionName[] {
  return functionNames.filter((n) => existsSync(handlerEntry(n)));
}

/** Every functions/<dir>/handler.ts on disk (whether or not it is in functionNames). */
export function handlersOnDisk(): string[] {
  if (!existsSync(FUNCTIONS_DIR)) return [];
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(resolve(FUNCTIONS_DIR, d.name, 'handler.ts')))
    .map((d) => d.name)
    .sort();
}

/**
 * esbuild settings. ESM so top-level await works at cold start; the AWS SDK is bundled (not taken
 * from the Lambda runtime) so the deployed client version is the tested one; `require` is shimmed
 * for the few CommonJS dependencies that call it.
 */
export const ESBUILD = {
  target: 'node24',
  platform: 'node',
  format: 'esm',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
} as const;

/**
 * Functions that run WITHOUT `--enable-source-maps`. With the flag, Node reads and parses the
 * bundle's source map when the bundle loads (and maps every stack trace it formats), which
 * bench/bundles.ts measures as part of the cold load. On the debit path that cost is paid by the
 * core bank's authorise call, which waits for the answer before every debit, and by the customer
 * pressing "freeze": those run without it. Their stack traces are still mappable afterwards: the
 * .map file ships beside the bundle (ESBUILD.sourcemap), so an operator maps a logged trace offline.
 */
export const WITHOUT_SOURCE_MAPS: readonly string[] = ['authorize', 'action'];

/** The NODE_OPTIONS a function runs with (the stack sets it; bench/bundles.ts measures with it). */
export function nodeOptionsFor(name: string): string {
  return WITHOUT_SOURCE_MAPS.includes(name) ? '' : '--enable-source-maps';
}
