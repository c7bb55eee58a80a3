// The welcome email's unsubscribe link lands here: one click on the button unsubscribes
// (POST /api/newsletter/unsubscribe with the link's secret token). Opening the page alone
// changes nothing, so a mail scanner that follows links cannot unsubscribe anyone.
"use strict";

(function () {
  const form = document.getElementById("unsubscribe-form");
  if (!form) return;
  const { api, setStatus, busy } = window.CafeFausse;
  const button = document.getElementById("unsubscribe-button");
  const status = document.getElementById("unsubscribe-status");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    busy(button, true);
    setStatus(status, "Unsubscribing…");
    const token = document.getElementById("unsubscribe-token").value;
    const result = await api("POST", "/api/newsletter/unsubscribe", { token });
    if (result.ok) {
      button.hidden = true;
      setStatus(status, "You are unsubscribed. We will not write to you again.", "ok");
      return;
    }
    busy(button, false);
    if (result.status === 404) {
      setStatus(status, "This unsubscribe link is not valid. Please open the full link from our email.", "error");
    } else {
      setStatus(status, result.data.message, "error");
    }
  });
})();
