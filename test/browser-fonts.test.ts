/**
 * The browser the tests use comes from npm with its own Japanese font (test/support/chromium.ts):
 * screenshots in docs/ must show real Japanese, not boxes. Chromium's DevTools protocol says
 * which platform font drew each node's glyphs, so this fails if Japanese falls back to nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type Browser } from './support/browser.ts';

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

interface PlatformFont {
  familyName: string;
  glyphCount: number;
}

async function fontsFor(html: string): Promise<PlatformFont[]> {
  const page = await browser.newPage();
  await page.setContent(html);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('CSS.enable');
  const { root } = await cdp.send('DOM.getDocument');
  const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: '#t' });
  const { fonts } = (await cdp.send('CSS.getPlatformFontsForNode', { nodeId })) as { fonts: PlatformFont[] };
  await page.close();
  return fonts;
}

describe('Japanese text in the test browser', () => {
  it('is drawn with Noto Sans JP, every glyph', async () => {
    const text = '口座を凍結する：お心当たりがない場合';
    const fonts = await fontsFor(`<p id="t" style="font-family: sans-serif">${text}</p>`);
    expect(fonts.map((f) => f.familyName)).toContain('Noto Sans JP');
    const total = fonts.reduce((n, f) => n + f.glyphCount, 0);
    expect(total).toBe([...text].length);
    expect(fonts.find((f) => f.familyName === 'Noto Sans JP')!.glyphCount).toBe(total);
  });
});
