/**
 * What keeps every Lambda small and its cold start short (bench/bundles.ts measures it):
 * - zod is imported as a namespace (`import * as z from 'zod'`): the named form (`import { z }`)
 *   makes esbuild bundle the whole library with every locale (about 450 KB instead of 90 KB);
 * - no Lambda code imports src/adapters/clients.ts, the tests' module of every AWS client: each
 *   imports the one client module it calls.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}
const lambdaSources = ['src', 'functions', 'events'].flatMap((d) => tsFiles(join(ROOT, d)));

describe('Lambda sources', () => {
  it('are found (the scan covers src/, functions/ and events/)', () => {
    expect(lambdaSources.some((f) => f.endsWith(join('functions', 'authorize', 'handler.ts')))).toBe(true);
    expect(lambdaSources.length).toBeGreaterThan(50);
  });

  it('import zod as a namespace, never `{ z }` (which bundles every locale)', () => {
    const named = lambdaSources.filter((f) => /^import\s+\{[^}]*\bz\b[^}]*\}\s+from\s+'zod'/m.test(readFileSync(f, 'utf8'))).map((f) => relative(ROOT, f));
    expect(named).toEqual([]);
  });

  it('never import the all-clients module (src/adapters/clients.ts)', () => {
    const offenders = lambdaSources
      .filter((f) => !f.endsWith(join('adapters', 'clients.ts')))
      .filter((f) => /from\s+'[./]*(?:src\/)?adapters\/clients\.ts'|from\s+'\.\/clients\.ts'/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(offenders).toEqual([]);
  });
});
