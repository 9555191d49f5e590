// The console's only script: the passkey ceremonies (WebAuthn) of the sign-in and enrolment
// pages. The server's options arrive as JSON (binary values in base64url); the browser's answer
// goes back the same way. Everything it fetches is the console's own (no CDN).
"use strict";

(function () {
  function bytes(text) {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  }

  function text(buffer) {
    let binary = "";
    new Uint8Array(buffer).forEach((b) => { binary += String.fromCharCode(b); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map((d) => Object.assign({}, d, { id: bytes(d.id) }));
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: bytes(options.challenge),
      user: Object.assign({}, options.user, { id: bytes(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials),
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: bytes(options.challenge),
      allowCredentials: descriptors(options.allowCredentials),
    });
  }

  function answer(credential) {
    const r = credential.response;
    const out = {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: text(r.clientDataJSON) },
    };
    if (credential.authenticatorAttachment) out.authenticatorAttachment = credential.authenticatorAttachment;
    if (r.attestationObject) {
      out.response.attestationObject = text(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = text(r.authenticatorData);
      out.response.signature = text(r.signature);
      if (r.userHandle) out.response.userHandle = text(r.userHandle);
    }
    return out;
  }

  async function post(path, body) {
    const reply = await fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await reply.json();
    if (!reply.ok) throw Object.assign(new Error(json.message || "refused"), { code: json.error || "refused" });
    return json;
  }

  async function signIn(box) {
    const begun = await post("/sign-in/options", {});
    const credential = await navigator.credentials.get({ publicKey: requestOptions(begun.publicKey) });
    return post("/sign-in/verify", { ceremony: begun.ceremony, credential: answer(credential), next: box.dataset.next });
  }

  async function enrol(box) {
    const token = box.dataset.token;
    const begun = await post("/enrol/options", { token: token });
    const credential = await navigator.credentials.create({ publicKey: creationOptions(begun.publicKey) });
    return post("/enrol/verify", { ceremony: begun.ceremony, token: token, credential: answer(credential) });
  }

  function start(box) {
    const button = box.querySelector("button");
    const status = box.querySelector("#status");
    const failure = box.querySelector("#failure");
    const lang = document.documentElement.lang === "en" ? "en" : "ja";
    button.addEventListener("click", async () => {
      button.disabled = true;
      failure.hidden = true;
      status.dataset.state = "working";
      status.textContent = lang === "ja" ? "処理しています…" : "Working…";
      try {
        const done = await (box.dataset.ceremony === "enrol" ? enrol(box) : signIn(box));
        status.dataset.state = "done";
        window.location.assign(done.next || "/");
      } catch (error) {
        status.dataset.state = "error";
        status.textContent = "";
        failure.dataset.error = error.code || error.name || "failed";
        failure.textContent = failure.dataset["words" + (lang === "ja" ? "Ja" : "En")];
        failure.hidden = false;
        button.disabled = false;
        button.focus();
      }
    });
  }

  document.querySelectorAll("[data-ceremony]").forEach(start);
})();
