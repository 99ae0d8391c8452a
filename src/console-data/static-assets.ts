/**
 * The operations console's static files (console/), for the local runtime. In AWS the same
 * directory is uploaded to a private S3 bucket behind CloudFront (with a config.json naming the
 * Cognito domain and client), and CloudFront sends /ops/* to the HTTP API, so the console and
 * its API share one origin and need no CORS.
 *
 * `consolePage` has the shape of the local HTTP server's LocalPage (path prefix + handle), kept
 * structural so this module does not depend on local/.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Nothing from elsewhere: no external fonts, scripts or frames; the API on the same origin. */
export const CONSOLE_SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export interface StaticResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** The file for a URL path under /console/ (index.html for the directory); 404 outside it. */
export async function consoleAsset(urlPath: string): Promise<StaticResponse> {
  if (urlPath === '/console') return { status: 301, headers: { location: '/console/' }, body: '' };
  const rel = urlPath.replace(/^\/console\/?/, '') || 'index.html';
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return notFound();
  }
  const file = normalize(join(CONSOLE_DIR, decoded));
  const ext = /\.[a-z]+$/.exec(file)?.[0] ?? '';
  if (!file.startsWith(CONSOLE_DIR + sep) || !TYPES[ext]) return notFound();
  try {
    const body = await readFile(file);
    return { status: 200, headers: { 'content-type': TYPES[ext]!, ...CONSOLE_SECURITY_HEADERS }, body };
  } catch {
    return notFound();
  }
}

function notFound(): StaticResponse {
  return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };
}

/** Register with the local HTTP server's `pages`. */
export const consolePage = {
  path: '/console*',
  title: 'Operations console',
  handle: (req: { url: URL }) => consoleAsset(req.url.pathname),
};
