// Café Fausse: what every page shares (loaded with `defer`, before the page's own script).
// Plain JavaScript, no build step: talk to the public JSON API, show field errors accessibly,
// and run the newsletter form in the footer.
"use strict";

(function () {
  const NETWORK_MESSAGE =
    "We could not reach Café Fausse. Check your connection and try again.";
  const FALLBACK_MESSAGE = "Something went wrong on our side. Please try again in a moment.";

  /** Call the JSON API. Never throws: {ok, status, answered, data}; `answered` is false when the
   *  request never got an answer (offline, blocked, connection dropped). */
  async function api(method, url, body, headers) {
    let response;
    try {
      response = await fetch(url, {
        method,
        headers: Object.assign(
          { Accept: "application/json" },
          body === undefined ? {} : { "Content-Type": "application/json" },
          headers || {},
        ),
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch (error) {
      return { ok: false, status: 0, answered: false, data: { message: NETWORK_MESSAGE } };
    }
    let data = {};
    try {
      data = await response.json();
    } catch (error) {
      data = {};
    }
    if (!response.ok && !data.message) data.message = FALLBACK_MESSAGE;
    return { ok: response.ok, status: response.status, answered: true, data };
  }

  /** A random UUID v4 for an Idempotency-Key (crypto.randomUUID needs a secure context). */
  function newKey() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    const bytes = window.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function describedBy(element, id, add) {
    const ids = (element.getAttribute("aria-describedby") || "").split(/\s+/).filter((x) => x && x !== id);
    if (add) ids.push(id);
    if (ids.length) element.setAttribute("aria-describedby", ids.join(" "));
    else element.removeAttribute("aria-describedby");
  }

  /** Show `message` under the field: the error paragraph `<id>-error`, aria-invalid and
   *  aria-describedby on the control(s) so a screen reader reads the error with the field. */
  function setFieldError(fieldId, message) {
    const error = document.getElementById(`${fieldId}-error`);
    const target = document.getElementById(fieldId);
    if (!error || !target) return false;
    const controls = target.matches("fieldset") ? target.querySelectorAll("input") : [target];
    error.textContent = message || "";
    error.hidden = !message;
    controls.forEach((control) => {
      if (message) control.setAttribute("aria-invalid", "true");
      else control.removeAttribute("aria-invalid");
      describedBy(control, error.id, Boolean(message));
    });
    return true;
  }

  function clearFieldErrors(form) {
    form.querySelectorAll(".field-error").forEach((error) => {
      setFieldError(error.id.replace(/-error$/, ""), "");
    });
  }

  /** The first message of each field in an error's `details.fields` ({"email": ["Not a valid email."]}). */
  function fieldMessages(data) {
    const fields = (data && data.details && data.details.fields) || {};
    const result = {};
    Object.keys(fields).forEach((name) => {
      const value = fields[name];
      result[name] = Array.isArray(value) ? String(value[0]) : typeof value === "string" ? value : data.message;
    });
    return result;
  }

  /** Show each field's error next to it (`fieldIds` maps wire names to element ids; `codeFields`
   *  maps an error code without field details to the field it is about). Focuses the first
   *  invalid control. Returns whether any field error was shown. */
  function showFieldErrors(data, fieldIds, codeFields) {
    const messages = fieldMessages(data);
    if (!Object.keys(messages).length && codeFields && codeFields[data.code]) {
      messages[codeFields[data.code]] = data.message;
    }
    let first = null;
    Object.keys(messages).forEach((name) => {
      const id = fieldIds[name];
      if (id && setFieldError(id, messages[name]) && !first) first = id;
    });
    if (first) {
      const target = document.getElementById(first);
      const control = target.matches("fieldset") ? target.querySelector("input") : target;
      if (control) control.focus();
    }
    return Boolean(first);
  }

  function setStatus(element, text, kind) {
    element.textContent = text;
    element.classList.remove("ok", "error");
    if (kind) element.classList.add(kind);
  }

  function busy(button, on) {
    button.disabled = on;
    if (on) button.setAttribute("aria-busy", "true");
    else button.removeAttribute("aria-busy");
  }

  window.CafeFausse = { api, newKey, setFieldError, clearFieldErrors, showFieldErrors, setStatus, busy };

  // ---------------------------------------------------------------- the newsletter form (footer)
  const form = document.getElementById("newsletter-form");
  if (!form) return;
  const email = document.getElementById("newsletter-email");
  const button = document.getElementById("newsletter-submit");
  const status = document.getElementById("newsletter-status");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    clearFieldErrors(form);
    setStatus(status, "");
    if (!email.value.trim()) {
      setFieldError("newsletter-email", "Please enter your email address.");
      email.focus();
      return;
    }
    busy(button, true);
    setStatus(status, "Subscribing…");
    try {
      const result = await api("POST", "/api/newsletter", { email: email.value.trim() });
      if (result.ok) {
        setStatus(status, "Thank you! Check your inbox for our welcome email.", "ok");
        form.reset();
        return;
      }
      const shown = result.status === 422 &&
        showFieldErrors(result.data, { email: "newsletter-email" }, { BAD_EMAIL: "email" });
      setStatus(status, shown ? "Please correct the address above." : result.data.message, "error");
    } finally {
      busy(button, false);
    }
  });
})();
