/**
 * The closing line must tell the truth: each fixture in test/fixtures/reporter is run by a real,
 * nested vitest, and the counts our reporter computes from what vitest reports are checked.
 */
import { describe, expect, it } from 'vitest';
import { createVitest } from 'vitest/node';
import type { Reporter, TestModule } from 'vitest/node';
import { closingLines, summarize, type Summary } from './support/summary-reporter.ts';

async function runFixture(name: string): Promise<Summary> {
  let summary: Summary | undefined;
  const capture: Reporter = {
    onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>) {
      summary = summarize(modules, errors);
    },
  };
  const vitest = await createVitest('test', {
    config: false,
    include: [`test/fixtures/reporter/${name}.fixture.ts`],
    watch: false,
    reporters: [capture],
    pool: 'threads',
    maxWorkers: 1,
  });
  try {
    await vitest.start();
  } finally {
    await vitest.close();
  }
  if (!summary) throw new Error(`no summary for ${name}`);
  return summary;
}

describe('summary reporter', () => {
  it('counts the tests of a suite whose beforeAll failed as failed, not skipped', async () => {
    expect(await runFixture('setup-fails')).toEqual({ passed: 0, failed: 3, skipped: 0 });
  });

  it('counts a failed afterAll as a failure even when every test passed', async () => {
    expect(await runFixture('teardown-fails')).toEqual({ passed: 2, failed: 1, skipped: 0 });
  });

  it('counts an unhandled error as a failure', async () => {
    const s = await runFixture('unhandled');
    expect(s.passed).toBe(1);
    expect(s.failed).toBeGreaterThanOrEqual(1);
  });

  it('counts a file that fails while it is collected as a failure', async () => {
    expect(await runFixture('collection-fails')).toEqual({ passed: 0, failed: 1, skipped: 0 });
  });

  it('keeps plain passes, failures and declared todos apart', async () => {
    expect(await runFixture('mixed')).toEqual({ passed: 2, failed: 1, skipped: 1 });
  });

  it('says so when no test was executed', async () => {
    const s = await runFixture('nothing-runs');
    expect(s).toEqual({ passed: 0, failed: 0, skipped: 1 });
    expect(closingLines(s)).toEqual(['Tests: 0 passed, 0 failed, 1 skipped', 'No test was executed.']);
  });

  it('prints the plain closing line a CI log reader understands', () => {
    expect(closingLines({ passed: 5, failed: 2, skipped: 1 })).toEqual(['Tests: 5 passed, 2 failed, 1 skipped']);
  });
});
