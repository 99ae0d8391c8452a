/**
 * The browser for the browser tests comes from npm, never from apt or a download: @sparticuz/chromium
 * ships a headless Chromium inside its package, and @expo-google-fonts/noto-sans-jp ships Noto Sans
 * JP as TTF files (the Chromium build has no CJK font, so Japanese would render as boxes).
 *
 * `prepareChromium()` runs once per test run (global setup, one process): it unpacks the binary
 * (to the OS temp dir, where @sparticuz/chromium keeps it), checks that it starts, and lays out a
 * private HOME whose ~/.fonts holds the Japanese fonts. Workers then only read what it prepared.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import sparticuz from '@sparticuz/chromium';

const run = promisify(execFile);

export interface PreparedChromium {
  executablePath: string;
  /** HOME for the browser process: its .fonts folder holds Noto Sans JP. */
  home: string;
}

/** Flags from @sparticuz/chromium that suit Lambda but would weaken what the tests check. */
const DROPPED_FLAGS = new Set(['--disable-web-security', '--allow-running-insecure-content', '--single-process', '--disable-site-isolation-trials']);

export function chromiumArgs(): string[] {
  return [
    ...sparticuz.args.filter((a) => !DROPPED_FLAGS.has(a)),
    // The machines have no network but loopback: no background calls to Google's hosts.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ];
}

export const FONT_HOME = join(tmpdir(), 'alerting-test-browser-home');

function layOutFonts(home: string): void {
  const fontsDir = join(home, '.fonts');
  mkdirSync(fontsDir, { recursive: true });
  const pkg = dirname(createRequire(import.meta.url).resolve('@expo-google-fonts/noto-sans-jp/package.json'));
  for (const weight of ['400Regular', '700Bold']) {
    const dir = join(pkg, weight);
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ttf'))) {
      if (!existsSync(join(fontsDir, f))) copyFileSync(join(dir, f), join(fontsDir, f));
    }
  }
}

async function starts(path: string): Promise<boolean> {
  try {
    const { stdout } = await run(path, ['--version'], { timeout: 30_000 });
    return /Chrom/i.test(stdout);
  } catch {
    return false;
  }
}

/** Unpacks (or reuses) the npm-shipped Chromium and the fonts; throws with the reason if it cannot. */
export async function prepareChromium(): Promise<PreparedChromium> {
  let executablePath = await sparticuz.executablePath();
  if (!(await starts(executablePath))) {
    // A half-unpacked binary from an interrupted earlier run: unpack it again.
    rmSync(executablePath, { force: true });
    executablePath = await sparticuz.executablePath();
    if (!(await starts(executablePath))) throw new Error(`the Chromium from @sparticuz/chromium (${executablePath}) does not start`);
  }
  layOutFonts(FONT_HOME);
  return { executablePath, home: FONT_HOME };
}
