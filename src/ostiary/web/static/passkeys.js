// Passkeys (WebAuthn): "Sign in with a passkey" on the login page, "Use a passkey" at the
// second-factor step, "Add a passkey" on the dashboard, "Or use a passkey" where the dashboard
// asks for the password to confirm it is you. The server sends
// the options as JSON (base64url for bytes) and takes the credential back the same way.
"use strict";
(() => {
  const decode = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0)).buffer;
  };
  const encode = (buffer) => {
    let text = "";
    for (const byte of new Uint8Array(buffer)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const withIds = (list) => (list || []).map((item) => ({ ...item, id: decode(item.id) }));

  const creationOptions = (options) => ({
    ...options,
    challenge: decode(options.challenge),
    user: { ...options.user, id: decode(options.user.id) },
    excludeCredentials: withIds(options.excludeCredentials),
  });
  const requestOptions = (options) => ({
    ...options,
    challenge: decode(options.challenge),
    allowCredentials: withIds(options.allowCredentials),
  });

  const credentialJSON = (credential) => {
    const answer = credential.response;
    const response = { clientDataJSON: encode(answer.clientDataJSON) };
    if (answer.attestationObject) {
      response.attestationObject = encode(answer.attestationObject);
      response.transports = answer.getTransports ? answer.getTransports() : [];
    } else {
      response.authenticatorData = encode(answer.authenticatorData);
      response.signature = encode(answer.signature);
      response.userHandle = answer.userHandle ? encode(answer.userHandle) : null;
    }
    return {
      id: credential.id,
      rawId: encode(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response,
    };
  };

  const post = (url, csrf, body) =>
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });

  const problem = async (response) => {
    try {
      return (await response.json()).message || "Something went wrong. Please try again.";
    } catch (error) {
      return "Something went wrong. Please try again.";
    }
  };

  let shownNear = null;
  const show = (message) => {
    const near = shownNear && shownNear.parentElement.querySelector("[data-passkey-confirmed]");
    const place = document.getElementById("passkey-error") || near;
    if (!place) return;
    place.textContent = message;
    place.hidden = !message;
  };

  // Where the server sends the browser next (a sign-in answers {"location": ...}).
  const follow = async (response, fallback) => {
    let location = fallback;
    try {
      location = (await response.json()).location || fallback;
    } catch (error) {
      // An answer without a body (none today): the fallback.
    }
    window.location.assign(location);
  };

  const cancelled = (error) =>
    error && (error.name === "NotAllowedError" || error.name === "AbortError")
      ? "The passkey request was cancelled or timed out."
      : error && error.name === "InvalidStateError"
        ? "This device already holds a passkey for your account."
        : "Your browser could not use a passkey here.";

  async function ceremony(button, body, run, verifiedThen) {
    shownNear = button;
    show("");
    button.disabled = true;
    try {
      const options = await post(button.dataset.options, button.dataset.csrf, body);
      if (!options.ok) return show(await problem(options));
      let credential;
      try {
        credential = await run(await options.json());
      } catch (error) {
        return show(cancelled(error));
      }
      const answer = { ...body, credential: credentialJSON(credential) };
      const verified = await post(button.dataset.verify, button.dataset.csrf, answer);
      if (!verified.ok) return show(await problem(verified));
      if (verifiedThen) return verifiedThen(verified);
      await follow(verified, button.dataset.done || button.dataset.next || "/");
    } finally {
      button.disabled = false;
    }
  }

  // Re-authenticated with a passkey: every form of the page may go on without the password
  // (the server now counts this session as recently authenticated).
  const confirmed = () => {
    for (const button of document.querySelectorAll("button[data-passkey-confirm]")) {
      const form = button.closest("form");
      for (const input of form ? form.querySelectorAll("input[name=password], input[name=second_factor_code]") : []) {
        input.required = false;
        input.hidden = true;
        const label = form.querySelector(`label[for="${input.id}"]`);
        if (label) label.hidden = true;
      }
      button.hidden = true;
      const done = button.parentElement.querySelector("[data-passkey-confirmed]");
      done.textContent = "Confirmed with your passkey: go on.";
      done.hidden = false;
    }
  };

  const supported = () => Boolean(window.PublicKeyCredential && navigator.credentials);

  // Said once, where the page has a place for it, rather than after a click.
  const unsupported = document.getElementById("passkey-unsupported");
  if (unsupported && !supported()) unsupported.hidden = false;

  document.addEventListener("click", (event) => {
    const signIn = event.target.closest("button[data-passkey-sign-in]");
    if (signIn) {
      if (!supported()) return show("This browser cannot use passkeys.");
      ceremony(signIn, { next: signIn.dataset.next || "/" }, (options) =>
        navigator.credentials.get({ publicKey: requestOptions(options) }),
      );
      return;
    }
    const confirm = event.target.closest("button[data-passkey-confirm]");
    if (confirm) {
      if (!supported()) return show("This browser cannot use passkeys.");
      ceremony(confirm, {}, (options) => navigator.credentials.get({ publicKey: requestOptions(options) }), confirmed);
      return;
    }
    const register = event.target.closest("button[data-passkey-register]");
    if (register) {
      if (!supported()) return show("This browser cannot create passkeys.");
      const name = document.getElementById(register.dataset.name);
      ceremony(register, { name: name ? name.value : "" }, (options) =>
        navigator.credentials.create({ publicKey: creationOptions(options) }),
      );
    }
  });
})();
