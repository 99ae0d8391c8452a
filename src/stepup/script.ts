/**
 * The action page's only script, served from the same origin at /a/{token}/passkey.js (the page's
 * Content-Security-Policy allows scripts from 'self' and nothing inline). It only adds the passkey
 * buttons: without JavaScript, or without WebAuthn, they stay hidden and the code path works.
 *
 * It reads everything from the #passkey element's data attributes (texts included, so it has no
 * language of its own), talks JSON to /a/{token}/passkey/{op}, and converts WebAuthn's binary
 * fields to and from base64url itself (no library in the browser).
 */
export const PASSKEY_SCRIPT = `(function () {
  'use strict';
  var box = document.getElementById('passkey');
  if (!box || !window.PublicKeyCredential || !navigator.credentials) return;
  var d = box.dataset;
  var button = document.getElementById('passkey-button');
  var status = document.getElementById('passkey-status');
  if (!button || !status) return;
  box.hidden = false;

  function toBytes(s) {
    var b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }
  function toB64url(buf) {
    var bytes = new Uint8Array(buf), bin = '';
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
  }
  function post(op, body) {
    return fetch(d.base + '/passkey/' + op, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok || !j.ok) throw new Error(j.error || 'failed'); return j; });
    });
  }
  function say(text) { status.textContent = text; }
  function fields(extra) {
    var f = { action: d.action, check: d.check };
    if (d.secret) f.secret = d.secret;
    for (var k in extra) f[k] = extra[k];
    return f;
  }

  function authenticate() {
    return post('auth-options', fields({})).then(function (j) {
      var o = j.options;
      var publicKey = {
        challenge: toBytes(o.challenge),
        rpId: o.rpId,
        timeout: o.timeout,
        userVerification: o.userVerification,
        allowCredentials: (o.allowCredentials || []).map(function (c) { return { type: 'public-key', id: toBytes(c.id), transports: c.transports }; })
      };
      return navigator.credentials.get({ publicKey: publicKey });
    }).then(function (cred) {
      var r = cred.response;
      return post('auth-verify', fields({ response: {
        id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
        clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
        authenticatorAttachment: cred.authenticatorAttachment || undefined,
        response: {
          clientDataJSON: toB64url(r.clientDataJSON),
          authenticatorData: toB64url(r.authenticatorData),
          signature: toB64url(r.signature),
          userHandle: r.userHandle ? toB64url(r.userHandle) : undefined
        }
      } }));
    });
  }

  function register() {
    return post('register-options', fields({})).then(function (j) {
      var o = j.options;
      var publicKey = {
        challenge: toBytes(o.challenge),
        rp: o.rp,
        user: { id: toBytes(o.user.id), name: o.user.name, displayName: o.user.displayName },
        pubKeyCredParams: o.pubKeyCredParams,
        timeout: o.timeout,
        attestation: o.attestation,
        authenticatorSelection: o.authenticatorSelection,
        excludeCredentials: (o.excludeCredentials || []).map(function (c) { return { type: 'public-key', id: toBytes(c.id), transports: c.transports }; })
      };
      return navigator.credentials.create({ publicKey: publicKey });
    }).then(function (cred) {
      var r = cred.response;
      return post('register-verify', fields({ response: {
        id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
        clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
        authenticatorAttachment: cred.authenticatorAttachment || undefined,
        response: {
          clientDataJSON: toB64url(r.clientDataJSON),
          attestationObject: toB64url(r.attestationObject),
          transports: r.getTransports ? r.getTransports() : undefined
        }
      } }));
    });
  }

  button.addEventListener('click', function () {
    button.disabled = true;
    say(d.msgWorking);
    (d.mode === 'register' ? register() : authenticate()).then(function (j) {
      say(d.msgDone);
      box.setAttribute('data-result', 'done');
      if (j.next) window.location.assign(j.next);
    }, function () {
      say(d.msgFailed);
      box.setAttribute('data-result', 'failed');
      button.disabled = false;
    });
  });
})();
`;
