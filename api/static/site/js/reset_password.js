// The password-reset email's link lands here: the new password and the link's token go to
// POST /api/auth/password-reset/confirm (api/accounts/recovery.py).
"use strict";

(function () {
  const form = document.getElementById("reset-form");
  if (!form) return;
  // The token travels in the link's query; keep it out of the history once read.
  const token = new URLSearchParams(window.location.search).get("token") || "";
  window.history.replaceState(null, "", window.location.pathname);
  const MESSAGES = {
    RESET_TOKEN_INVALID: "This link is not valid. Ask for a new one.",
    RESET_TOKEN_USED: "This link was already used. Ask for a new one if you need to.",
    RESET_TOKEN_EXPIRED: "This link has expired. Ask for a new one.",
    WEAK_PASSWORD: "Please choose a longer password (at least 10 characters), not your email address.",
    RATE_LIMITED: "Too many attempts. Please wait a moment.",
  };
  const status = document.getElementById("reset-status");
  const show = (text, ok) => {
    status.textContent = text;
    status.className = "form-status " + (ok ? "ok" : "error");
  };
  if (!token) show(MESSAGES.RESET_TOKEN_INVALID, false);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const password = document.getElementById("password").value;
    if (password !== document.getElementById("again").value) {
      show("The two passwords differ.", false);
      return;
    }
    let response;
    try {
      response = await fetch("/api/auth/password-reset/confirm", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token, password }),
      });
    } catch {
      show("We could not reach the server. Check your connection and try again.", false);
      return;
    }
    if (response.status === 204) {
      form.reset();
      show("Your password is saved. Every session was signed out: sign in again with the new password.", true);
      return;
    }
    const data = await response.json().catch(() => ({}));
    show(MESSAGES[data.code] || data.message || "Something went wrong. Please try again.", false);
  });
})();
