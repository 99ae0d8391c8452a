/**
 * Launches the npm-shipped Chromium (test/support/chromium.ts: @sparticuz/chromium, with Noto Sans
 * JP in a private HOME) through playwright-core, with a fresh profile, and helps the browser tests: screenshots under test-output/screenshots/, axe-core
 * injected from node_modules, and a dev-login cookie for the console.
 */
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

import { chromiumArgs } from './chromium.ts';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = join(ROOT, 'test-output', 'screenshots');

export interface Browser {
  context: BrowserContext;
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  // Prepared once per run by the global setup (test/support/global-setup.ts).
  const executablePath = inject('chromiumPath');
  const home = inject('chromiumHome');
  if (!executablePath || !existsSync(executablePath)) throw new Error(`Chromium was not prepared (${executablePath}): see test/support/chromium.ts`);
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: chromiumArgs(),
    // HOME's .fonts holds Noto Sans JP: Japanese renders as text, not boxes.
    env: { ...process.env, HOME: home },
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    // Anything not on localhost is blocked below; a page that tries is a failure.
  });
  await context.route(/^(?!https?:\/\/(localhost|127\.0\.0\.1)[:/]|data:|blob:|about:)/, (route) => route.abort('blockedbyclient'));
  return {
    context,
    async newPage(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string }[];
}

const axeSource = () => readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core (WCAG 2.x A/AA rules) in the page; returns the serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  // Evaluated over the DevTools protocol, so the page's Content-Security-Policy stays enforced.
  await page.evaluate(axeSource());
  // A string, evaluated in the page: this file is compiled without DOM types.
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] } })`,
  )) as { violations: AxeViolation[] };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html.slice(0, 200) })) }));
}

/** Requests the page made to anything but the local runtime (fonts, scripts, images...). */
export function trackExternalRequests(page: Page): string[] {
  const external: string[] = [];
  page.on('request', (r) => {
    const url = r.url();
    if (!/^(https?:\/\/(localhost|127\.0\.0\.1)[:/]|data:|blob:|about:)/.test(url)) external.push(url);
  });
  return external;
}

/** True when no element sticks out to the right of the viewport (readable without sideways scrolling). */
export async function fitsViewportWidth(page: Page): Promise<{ fits: boolean; scrollWidth: number; width: number }> {
  return page.evaluate(
    `({ fits: document.documentElement.scrollWidth <= window.innerWidth, scrollWidth: document.documentElement.scrollWidth, width: window.innerWidth })`,
  ) as Promise<{ fits: boolean; scrollWidth: number; width: number }>;
}
