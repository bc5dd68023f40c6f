/* Passkeys (WebAuthn) on congvu's sign-in and account pages.
 *
 * A file, not inline: the Content-Security-Policy allows scripts from 'self' only.
 * Each <form data-passkey="create|get" data-options-url="..."> is handled the same way:
 * on submit, ask the provider for options (a fresh single-use challenge), call
 * navigator.credentials.create() or .get(), put the answer (JSON, base64url fields) in
 * the form's hidden "credential" field and submit the form for real. The provider then
 * verifies it and answers with an ordinary page or redirect. Messages come translated
 * from the page (data-msg-* attributes).
 */
(function () {
  "use strict";

  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBuffer(d.id), transports: d.transports };
    });
  }

  /* The provider's JSON options -> what the browser API takes (ArrayBuffers). */
  function creationOptions(o) {
    var opts = Object.assign({}, o);
    opts.challenge = toBuffer(o.challenge);
    opts.user = Object.assign({}, o.user, { id: toBuffer(o.user.id) });
    opts.excludeCredentials = descriptors(o.excludeCredentials);
    return opts;
  }

  function requestOptions(o) {
    var opts = Object.assign({}, o);
    opts.challenge = toBuffer(o.challenge);
    opts.allowCredentials = descriptors(o.allowCredentials);
    return opts;
  }

  /* The browser's credential -> JSON the provider's webauthn library parses. */
  function credentialJSON(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: { clientDataJSON: toText(r.clientDataJSON) },
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
    if (cred.authenticatorAttachment) { out.authenticatorAttachment = cred.authenticatorAttachment; }
    if (r.attestationObject) {
      out.response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = toText(r.authenticatorData);
      out.response.signature = toText(r.signature);
      if (r.userHandle) { out.response.userHandle = toText(r.userHandle); }
    }
    return out;
  }

  function show(form, text) {
    var box = form.querySelector(".passkey-error");
    box.textContent = text;
    box.hidden = !text;
  }

  function browserError(form, mode, err) {
    var d = form.dataset;
    switch (err && err.name) {
      case "NotAllowedError":
      case "AbortError":
        return d.msgCancelled;
      case "InvalidStateError":
        return mode === "create" ? d.msgExists : d.msgCancelled;
      case "SecurityError":
        return d.msgSecurity;
      case "NotSupportedError":
        return d.msgUnsupported;
      default:
        return d.msgFailed + " " + ((err && (err.message || err.name)) || "?");
    }
  }

  function fetchOptions(form) {
    return fetch(form.dataset.optionsUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (resp) {
      return resp.json().then(function (data) {
        if (!resp.ok || !data.publicKey) { throw { provider: data.error || form.dataset.msgNetwork }; }
        return data.publicKey;
      });
    }, function () { throw { provider: form.dataset.msgNetwork }; });
  }

  function ceremony(form, mode) {
    var button = form.querySelector("button[type=submit]");
    show(form, "");
    if (mode === "create") {
      var name = form.querySelector("input[name=name]");
      if (name && !name.value.trim()) { show(form, form.dataset.msgName); name.focus(); return; }
    }
    button.disabled = true;
    fetchOptions(form).then(function (options) {
      if (mode === "create") {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }
      return navigator.credentials.get({ publicKey: requestOptions(options) });
    }).then(function (cred) {
      if (!cred) { throw { name: "NotAllowedError" }; }
      form.querySelector("input[name=credential]").value = JSON.stringify(credentialJSON(cred));
      form.submit(); // does not fire "submit" again
    }).catch(function (err) {
      button.disabled = false;
      show(form, err && err.provider ? err.provider : browserError(form, mode, err));
    });
  }

  function setUp(form) {
    var mode = form.dataset.passkey;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(form, form.dataset.msgUnsupported);
      form.querySelector("button[type=submit]").disabled = true;
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ceremony(form, mode);
    });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-passkey]");
    for (var i = 0; i < forms.length; i++) { setUp(forms[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
