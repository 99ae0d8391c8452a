/**
 * Prints one plain closing line, "Tests: N passed, N failed[, N skipped]", after vitest's own
 * report, so CI tooling that reads closing lines sees the counts. The line must never say "all is
 * well" when vitest does not: a test that did not run because its suite's set-up (beforeAll, a
 * collection error) failed is counted as failed, not skipped; a failed hook, a suite or file
 * error with no failed test of its own, and every unhandled error count as one failure each; a
 * run that executed no test says so on the next line.
 */
import type { Reporter, TestCase, TestModule, TestSuite } from 'vitest/node';

export interface Summary {
  passed: number;
  failed: number;
  skipped: number;
}

/** True when the test, or a suite or module around it, failed outside the test itself. */
function brokenAround(test: TestCase): boolean {
  let parent: TestSuite | TestModule = test.parent;
  for (;;) {
    if (parent.state() === 'failed' && parent.errors().length > 0) return true;
    if (parent.type === 'module') return parent.state() === 'failed';
    parent = parent.parent;
  }
}

export function summarize(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): Summary {
  const s: Summary = { passed: 0, failed: 0, skipped: 0 };
  for (const mod of testModules) {
    let failedHere = 0;
    for (const test of mod.children.allTests()) {
      const state = test.result().state;
      if (state === 'passed') s.passed++;
      else if (state === 'failed') failedHere++;
      // Declared skip/todo is a skip; a test that never ran because its set-up broke is a failure.
      else if (test.options.mode === 'skip' || test.options.mode === 'todo' || !brokenAround(test)) s.skipped++;
      else failedHere++;
    }
    // A failed hook or file error (afterAll, collection) with no failed test of its own.
    const suitesWithOwnErrors = [mod, ...mod.children.allSuites()].filter((x) => x.state() === 'failed' && x.errors().length > 0).length;
    if (failedHere === 0 && (mod.state() === 'failed' || suitesWithOwnErrors > 0)) failedHere = Math.max(1, suitesWithOwnErrors);
    s.failed += failedHere;
  }
  s.failed += unhandledErrors.length;
  return s;
}

export function closingLines(s: Summary): string[] {
  const lines = [`Tests: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''}`];
  if (s.passed + s.failed === 0) lines.push('No test was executed.');
  return lines;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    console.log(`\n${closingLines(summarize(testModules, unhandledErrors)).join('\n')}`);
  }
}
