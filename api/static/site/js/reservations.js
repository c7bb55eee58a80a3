// The Reservations page: a client of the same public JSON API the app frontend uses.
//   GET  /api/restaurants/<id>/schedule     hours, time zone and the restaurant's clock
//   POST /api/reservations/availability      the party-aware day grid {restaurantId, date, partySize}
//   POST /api/reservations                   the booking {time, guests, name, email, phone?}
// Only times with a free table for the whole party are offered. Each submission carries one
// Idempotency-Key; the button is disabled while it is on its way, so a double click books once.
"use strict";

(function () {
  const root = document.getElementById("booking");
  if (!root) return;
  const { api, newKey, setFieldError, clearFieldErrors, showFieldErrors, setStatus, busy } = window.CafeFausse;

  const restaurantId = root.dataset.restaurantId;
  const address = root.dataset.address || "";
  const el = (id) => document.getElementById(id);
  const findForm = el("find-form");
  const bookingForm = el("booking-form");
  const partySize = el("party-size");
  const dateInput = el("date");
  const findStatus = el("find-status");
  const timeOptions = el("time-options");
  const bookButton = el("book");
  const alertBox = el("booking-alert");
  const confirmation = el("confirmation");

  const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
  let schedule = null;
  let timeZone = "America/New_York";
  let loadCounter = 0;
  let icsUrl = null;
  // The last submission that got no answer (network failure): pressing Book again with the same
  // details resends its key, so if the first request did reach us the server answers as it did
  // then instead of booking twice. Any change to the details makes a new submission (a new key).
  let unanswered = null;

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many}`;
  }

  function formatDay(isoDate, options) {
    // A calendar date, read at noon UTC so no time zone moves it to another day.
    return new Intl.DateTimeFormat("en-US", Object.assign({ timeZone: "UTC" }, options)).format(
      new Date(`${isoDate}T12:00:00Z`),
    );
  }

  function showAlert(text) {
    alertBox.textContent = text;
    alertBox.hidden = !text;
  }

  // ---------------------------------------------------------------- the schedule (hours, zone, clock)

  function renderSchedule(data) {
    schedule = data;
    timeZone = data.timeZone;
    const now = new Date(data.localNow);
    const clock = new Intl.DateTimeFormat("en-US", {
      timeZone, weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23", timeZoneName: "short",
    }).format(now);
    el("local-clock").textContent =
      `All times are the restaurant's local time (${timeZone}). It is now ${clock} there.`;

    const body = el("schedule-hours").querySelector("tbody");
    body.textContent = "";
    WEEKDAYS.forEach((day) => {
      const periods = data.periods.filter((p) => p.day === day);
      const row = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = day.charAt(0).toUpperCase() + day.slice(1, 3);
      const td = document.createElement("td");
      td.textContent = periods.length ? periods.map((p) => `${p.openTime}–${p.closeTime}`).join(", ") : "Closed";
      row.append(th, td);
      body.append(row);
    });
    el("schedule-hours").hidden = false;

    const closures = data.closures.map((c) => {
      const day = formatDay(c.date, { weekday: "short", month: "short", day: "numeric" });
      return c.closed ? `closed on ${day}` : `open ${c.openTime}–${c.closeTime} only on ${day}`;
    });
    el("schedule-closures").textContent = closures.length ? `Please note: we are ${closures.join("; ")}.` : "";
    el("schedule-closures").hidden = !closures.length;

    dateInput.min = data.today;
    dateInput.max = data.lastBookableDate;
    if (!dateInput.value) dateInput.value = data.today;
    const chosen = Number(partySize.value);
    partySize.textContent = "";
    for (let n = data.minimumPartySize; n <= data.maximumPartySize; n += 1) {
      partySize.append(new Option(plural(n, "guest", "guests"), String(n), false, n === chosen));
    }
  }

  async function loadSchedule() {
    const result = await api("GET", `/api/restaurants/${encodeURIComponent(restaurantId)}/schedule`);
    if (result.ok) {
      renderSchedule(result.data);
      loadTimes();
    } else {
      el("local-clock").textContent = result.answered
        ? result.data.message
        : "We could not load our hours. Check your connection and reload the page.";
    }
  }

  // ---------------------------------------------------------------- step 1: the times that seat the party

  function hideTimes() {
    bookingForm.hidden = true;
    timeOptions.textContent = "";
  }

  async function loadTimes() {
    const mine = ++loadCounter; // any answer to an earlier search is now stale
    busy(el("find-times"), false);
    clearFieldErrors(findForm);
    const party = Number(partySize.value);
    const date = dateInput.value;
    if (!date) {
      setFieldError("date", "Please choose a date.");
      hideTimes();
      return;
    }
    if (schedule && (date < schedule.today || date > schedule.lastBookableDate)) {
      const last = formatDay(schedule.lastBookableDate, { month: "long", day: "numeric", year: "numeric" });
      setFieldError("date", `Please choose a date from today to ${last}.`);
      hideTimes();
      return;
    }
    busy(el("find-times"), true);
    setStatus(findStatus, "Looking for tables…");
    const result = await api("POST", "/api/reservations/availability", { restaurantId, date, partySize: party });
    if (mine !== loadCounter) return; // a newer search (another date or party) answers instead
    busy(el("find-times"), false);
    if (!result.ok) {
      hideTimes();
      const shown = result.status === 422 &&
        showFieldErrors(result.data, { partySize: "party-size", date: "date" }, { BAD_GUESTS: "partySize", BAD_DATE: "date" });
      setStatus(findStatus, shown ? "Please correct the field above." : result.data.message, "error");
      return;
    }
    const offered = result.data.slots.filter((slot) => slot.available && slot.availableTables > 0);
    const day = formatDay(date, { weekday: "long", month: "long", day: "numeric" });
    if (!offered.length) {
      hideTimes();
      setStatus(findStatus, result.data.slots.length
        ? `No table for a party of ${party} is free on ${day}. Please try another date or party size.`
        : `We are closed on ${day}. Please choose another date.`, "error");
      return;
    }
    const previous = (timeOptions.querySelector("input:checked") || {}).value;
    timeOptions.textContent = "";
    offered.forEach((slot) => {
      const label = document.createElement("label");
      label.className = "time-option";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "time";
      input.value = slot.time;
      input.checked = slot.time === previous;
      const text = document.createElement("span");
      text.textContent = slot.time;
      label.append(input, text);
      timeOptions.append(label);
    });
    el("time-legend").textContent = `Times that seat a party of ${party} on ${day}`;
    bookingForm.hidden = false;
    setStatus(findStatus, `${plural(offered.length, "time", "times")} available for ${plural(party, "guest", "guests")} on ${day}.`, "ok");
  }

  findForm.addEventListener("submit", (event) => {
    event.preventDefault();
    loadTimes();
  });
  partySize.addEventListener("change", loadTimes);
  dateInput.addEventListener("change", loadTimes);

  // ---------------------------------------------------------------- step 2: book

  const FIELD_IDS = { time: "time", guests: "party-size", name: "name", email: "email", phone: "phone" };
  const CODE_FIELDS = { BAD_TIME: "time", BAD_GUESTS: "guests", BAD_EMAIL: "email" };

  bookingForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (bookButton.disabled) return; // the first click is on its way: a second one books nothing more
    clearFieldErrors(bookingForm);
    clearFieldErrors(findForm);
    showAlert("");
    const chosen = timeOptions.querySelector("input:checked");
    const missing = [];
    if (!chosen) missing.push(["time", "Please choose a time."]);
    if (!el("name").value.trim()) missing.push(["name", "Please enter your name."]);
    if (!el("email").value.trim()) missing.push(["email", "Please enter your email address."]);
    if (missing.length) {
      missing.forEach(([id, message]) => setFieldError(id, message));
      const first = el(missing[0][0]);
      (first.matches("fieldset") ? first.querySelector("input") : first).focus();
      return;
    }
    const body = {
      time: `${dateInput.value}T${chosen.value}`, // no offset: the restaurant's wall clock
      guests: Number(partySize.value),
      name: el("name").value.trim(),
      email: el("email").value.trim(),
    };
    if (el("phone").value.trim()) body.phone = el("phone").value.trim();
    const signature = JSON.stringify(body);
    const key = unanswered && unanswered.signature === signature ? unanswered.key : newKey();

    busy(bookButton, true);
    try {
      const result = await api("POST", "/api/reservations", body, { "Idempotency-Key": key });
      unanswered = result.answered ? null : { signature, key };
      if (result.ok) {
        showConfirmation(result.data, body);
        return;
      }
      if (!result.answered) {
        showAlert("We could not reach Café Fausse, so your table is not confirmed yet. Check your connection " +
          "and press Book again: you will not be booked twice.");
        return;
      }
      if (result.status === 422 && showFieldErrors(result.data, FIELD_IDS, CODE_FIELDS)) return;
      showAlert(result.data.message); // 409 FULLY_BOOKED / RACE_LOST, 429 RATE_LIMITED, 503 ...: the server's words
      if (result.status === 409) loadTimes(); // someone took the table: offer what is left
    } finally {
      busy(bookButton, false);
    }
  });

  // ---------------------------------------------------------------- the confirmation and its .ics

  function icsText(value) {
    return String(value).replace(/\\/g, "\\\\").replace(/;/g, "\\;").replace(/,/g, "\\,").replace(/\r?\n/g, "\\n");
  }

  function icsInstant(iso) {
    return new Date(iso).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  }

  function fold(line) {
    // RFC 5545: lines of at most 75 octets, continued with CRLF and one space.
    const encoder = new TextEncoder();
    const parts = [];
    let current = "";
    for (const char of line) {
      const limit = parts.length ? 74 : 75;
      if (encoder.encode(current + char).length > limit) {
        parts.push(current);
        current = "";
      }
      current += char;
    }
    parts.push(current);
    return parts.join("\r\n ");
  }

  function calendarFile(reservation, party) {
    const lines = [
      "BEGIN:VCALENDAR",
      "VERSION:2.0",
      "PRODID:-//Seatkeeper//Cafe Fausse website//EN",
      "CALSCALE:GREGORIAN",
      "METHOD:PUBLISH",
      "BEGIN:VEVENT",
      `UID:${reservation.confirmationCode}@seatkeeper`,
      `DTSTAMP:${icsInstant(new Date().toISOString())}`,
      `DTSTART:${icsInstant(reservation.startsAt)}`,
      `DTEND:${icsInstant(reservation.endsAt)}`,
      `SUMMARY:${icsText(`Dinner at Café Fausse (${plural(party, "guest", "guests")})`)}`,
      `LOCATION:${icsText(address)}`,
      `DESCRIPTION:${icsText(`Confirmation code ${reservation.confirmationCode}. Show it at the door.`)}`,
      "END:VEVENT",
      "END:VCALENDAR",
    ];
    return lines.map(fold).join("\r\n") + "\r\n";
  }

  function showConfirmation(reservation, body) {
    const starts = new Date(reservation.startsAt);
    el("confirmed-date").textContent = new Intl.DateTimeFormat("en-US", {
      timeZone, weekday: "long", month: "long", day: "numeric", year: "numeric",
    }).format(starts);
    el("confirmed-time").textContent = new Intl.DateTimeFormat("en-US", {
      timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).format(starts);
    el("confirmed-party").textContent = plural(reservation.partySize, "guest", "guests");
    el("confirmed-code").textContent = reservation.confirmationCode;

    if (icsUrl) URL.revokeObjectURL(icsUrl);
    icsUrl = URL.createObjectURL(
      new Blob([calendarFile(reservation, reservation.partySize || body.guests)], { type: "text/calendar" }),
    );
    const link = el("ics-download");
    link.href = icsUrl;
    link.download = `cafe-fausse-${reservation.confirmationCode}.ics`;

    findForm.hidden = true;
    bookingForm.hidden = true;
    confirmation.hidden = false;
    confirmation.focus();
  }

  el("book-another").addEventListener("click", () => {
    confirmation.hidden = true;
    findForm.hidden = false;
    loadTimes();
    partySize.focus();
  });

  loadSchedule();
})();
