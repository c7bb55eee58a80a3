// "Manage my booking": the page the confirmation email's link opens (/manage/<token>).
// Built against the contract of the guest manage API:
//   GET    /api/manage/<token>  -> {confirmationCode, date, time, partySize, status, restaurantName, specialRequests}
//   PATCH  /api/manage/<token>  {date?, time?, partySize?, specialRequests?} -> the changed reservation
//   DELETE /api/manage/<token>  cancels
//   404 / 410: a bad or spent link.
// New times come from the same party-aware day grid as the reservation page.
"use strict";

(function () {
  const root = document.getElementById("manage");
  if (!root) return;
  const { api, setFieldError, clearFieldErrors, showFieldErrors, setStatus, busy } = window.CafeFausse;

  const el = (id) => document.getElementById(id);
  const token = root.dataset.token;
  const restaurantId = root.dataset.restaurantId;
  const url = `/api/manage/${encodeURIComponent(token)}`;
  const status = el("manage-status");
  const problem = el("manage-problem");
  const changeForm = el("change-form");
  const partySize = el("party-size");
  const dateInput = el("date");
  const timeOptions = el("time-options");
  const saveButton = el("save-change");
  let booking = null;
  let loadCounter = 0;

  const FIELD_IDS = { date: "date", time: "time", partySize: "party-size", specialRequests: "special-requests" };
  const CODE_FIELDS = { BAD_TIME: "time", BAD_GUESTS: "partySize", BAD_DATE: "date" };
  const LIVE = new Set(["pending", "confirmed"]);

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  function formatDay(isoDate) {
    return new Intl.DateTimeFormat("en-US", {
      timeZone: "UTC", weekday: "long", month: "long", day: "numeric", year: "numeric",
    }).format(new Date(`${isoDate}T12:00:00Z`));
  }

  function showProblem(text) {
    problem.textContent = text;
    problem.hidden = !text;
  }

  function render(reservation) {
    booking = reservation;
    el("current-restaurant").textContent = reservation.restaurantName;
    el("current-date").textContent = formatDay(reservation.date);
    el("current-time").textContent = reservation.time;
    el("current-party").textContent = plural(reservation.partySize, "guest", "guests");
    el("current-code").textContent = reservation.confirmationCode;
    el("current-status").textContent = reservation.status;
    el("current-requests").textContent = reservation.specialRequests
      ? `Special requests: ${reservation.specialRequests}` : "";
    el("current-requests").hidden = !reservation.specialRequests;
    el("booking-summary").hidden = false;

    const live = LIVE.has(reservation.status);
    changeForm.hidden = !live;
    el("cancel-section").hidden = !live;
    el("cancel-confirm").hidden = true;
    el("cancel-start").hidden = false;
    if (live) {
      partySize.value = String(reservation.partySize);
      dateInput.value = reservation.date;
      el("special-requests").value = reservation.specialRequests || "";
      loadTimes();
    }
  }

  function failure(result) {
    if (!result.answered) return "We could not reach Café Fausse. Check your connection and try again.";
    if (result.status === 404) return "This link is not valid. Please open the full link from your confirmation email.";
    return result.data.message; // 410: the server says why (cancelled, in the past, ...)
  }

  async function load() {
    const result = await api("GET", url);
    if (!result.ok) {
      setStatus(status, "");
      showProblem(failure(result));
      return;
    }
    setStatus(status, "");
    render(result.data);
  }

  // ---------------------------------------------------------------- the times that seat the party

  function addTime(value, checked) {
    const label = document.createElement("label");
    label.className = "time-option";
    const input = document.createElement("input");
    input.type = "radio";
    input.name = "time";
    input.value = value;
    input.checked = checked;
    const text = document.createElement("span");
    text.textContent = value;
    label.append(input, text);
    timeOptions.append(label);
  }

  async function loadTimes() {
    const mine = ++loadCounter;
    clearFieldErrors(changeForm);
    const party = Number(partySize.value);
    const date = dateInput.value;
    timeOptions.textContent = "";
    if (!date) {
      setFieldError("date", "Please choose a date.");
      return;
    }
    const result = await api("POST", "/api/reservations/availability", { restaurantId, date, partySize: party });
    if (mine !== loadCounter) return;
    if (!result.ok) {
      if (!(result.status === 422 && showFieldErrors(result.data, FIELD_IDS, CODE_FIELDS))) {
        setFieldError("time", failure(result));
      }
      return;
    }
    const offered = result.data.slots.filter((slot) => slot.available && slot.availableTables > 0).map((s) => s.time);
    // The booking's own table is taken by the booking itself: its current time stays on offer.
    if (date === booking.date && party <= booking.partySize && !offered.includes(booking.time)) {
      offered.push(booking.time);
      offered.sort();
    }
    const keep = date === booking.date ? booking.time : null;
    offered.forEach((value) => addTime(value, value === keep));
    el("time-legend").textContent = `Times that seat a party of ${party} on ${formatDay(date)}`;
    if (!offered.length) setFieldError("time", `No table for ${plural(party, "guest", "guests")} is free that day.`);
  }

  partySize.addEventListener("change", loadTimes);
  dateInput.addEventListener("change", loadTimes);

  // ---------------------------------------------------------------- change

  changeForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (saveButton.disabled) return;
    clearFieldErrors(changeForm);
    showProblem("");
    const chosen = timeOptions.querySelector("input:checked");
    if (!chosen) {
      setFieldError("time", "Please choose a time.");
      return;
    }
    const changes = {};
    if (dateInput.value !== booking.date) changes.date = dateInput.value;
    if (chosen.value !== booking.time) changes.time = chosen.value;
    if (Number(partySize.value) !== booking.partySize) changes.partySize = Number(partySize.value);
    const requests = el("special-requests").value.trim();
    if (requests !== (booking.specialRequests || "")) changes.specialRequests = requests;
    if (!Object.keys(changes).length) {
      setStatus(status, "Nothing to change: your booking is as it was.", "ok");
      return;
    }
    busy(saveButton, true);
    try {
      const result = await api("PATCH", url, changes);
      if (result.ok) {
        render(result.data);
        setStatus(status, "Your booking is changed.", "ok");
        el("booking-summary").focus();
        return;
      }
      if (result.status === 422 && showFieldErrors(result.data, FIELD_IDS, CODE_FIELDS)) return;
      showProblem(failure(result));
      if (result.status === 409) loadTimes();
    } finally {
      busy(saveButton, false);
    }
  });

  // ---------------------------------------------------------------- cancel (asks once more)

  el("cancel-start").addEventListener("click", () => {
    el("cancel-start").hidden = true;
    el("cancel-confirm").hidden = false;
    el("cancel-no").focus();
  });
  el("cancel-no").addEventListener("click", () => {
    el("cancel-confirm").hidden = true;
    el("cancel-start").hidden = false;
    el("cancel-start").focus();
  });
  el("cancel-yes").addEventListener("click", async () => {
    const button = el("cancel-yes");
    if (button.disabled) return;
    showProblem("");
    busy(button, true);
    try {
      const result = await api("DELETE", url);
      if (!result.ok) {
        showProblem(failure(result));
        return;
      }
      changeForm.hidden = true;
      el("cancel-section").hidden = true;
      if (result.data && result.data.confirmationCode) render(result.data);
      else el("current-status").textContent = "cancelled";
      setStatus(status, "Your booking is cancelled. We hope to see you another time.", "ok");
      el("booking-summary").focus();
    } finally {
      busy(button, false);
    }
  });

  load();
})();
