/**
 * The action page's "opened" beacon: a few lines inline at the end of GET /a/{token}'s page,
 * allowed by their hash in the page's Content-Security-Policy (as the stylesheet is), so the page
 * needs no extra request for it. Once a browser has actually shown the page (visible, not
 * prerendered, a frame painted), it POSTs once to the address in its own `data-opened` attribute
 * (`{token}/opened`, relative to the page): navigator.sendBeacon, or fetch with keepalive.
 *
 * A plain fetch of the link (mail scanner, chat preview, curl) runs no script, so it never sends
 * this; nothing on the page depends on it, and the page works the same without JavaScript.
 * The text is constant (the token rides on the attribute), so its hash is too.
 */
import { createHash } from 'node:crypto';

export const OPENED_SCRIPT = `(function () {
  'use strict';
  var me = document.currentScript;
  var to = me && me.getAttribute('data-opened');
  if (!to) return;
  var sent = false;
  function send() {
    if (sent) return;
    sent = true;
    var url = new URL(to, window.location.href).href;
    try { if (navigator.sendBeacon && navigator.sendBeacon(url)) return; } catch (e) { /* fall back to fetch */ }
    if (window.fetch) window.fetch(url, { method: 'POST', keepalive: true, credentials: 'omit', cache: 'no-store' }).catch(function () {});
  }
  function whenShown() {
    if (sent || document.visibilityState !== 'visible' || document.prerendering) return;
    if (window.requestAnimationFrame) window.requestAnimationFrame(send); else send();
  }
  document.addEventListener('visibilitychange', whenShown);
  document.addEventListener('prerenderingchange', whenShown);
  whenShown();
})();`;

/** For the page's Content-Security-Policy: `script-src 'sha256-…'`. */
export const OPENED_SCRIPT_HASH = createHash('sha256').update(OPENED_SCRIPT, 'utf8').digest('base64');
