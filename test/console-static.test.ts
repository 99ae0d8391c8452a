import { describe, expect, it } from 'vitest';
import { consoleAsset, consolePage } from '../src/console-data/static-assets.ts';

describe('console static files', () => {
  it('serves the console with a policy that allows nothing from elsewhere', async () => {
    const index = await consoleAsset('/console/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toContain('text/html');
    const csp = index.headers['content-security-policy']!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = String(index.body);
    // No external fonts, scripts or styles anywhere in the console.
    for (const file of ['/console/index.html', '/console/console.js', '/console/charts.js', '/console/console.css']) {
      const r = await consoleAsset(file);
      expect(r.status, file).toBe(200);
      expect(String(r.body), file).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    }
    expect(html).toContain('src="console.js"');
    expect((await consoleAsset('/console/console.js')).headers['content-type']).toContain('javascript');
    expect((await consoleAsset('/console')).status).toBe(301);
    expect(consolePage.path).toBe('/console*');
  });

  it('never serves a file outside console/ or of an unknown type', async () => {
    for (const p of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/..%2fsrc%2fconfig.ts', '/console/%E0%A4%A', '/console/nope.js', '/console/README']) {
      expect((await consoleAsset(p)).status, p).toBe(404);
    }
  });
});
