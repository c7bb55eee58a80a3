// The staff console: each page is a shell (templates/console/*.html) that this script fills from the
// public JSON API, signed in by the HttpOnly access cookie that /api/auth/login sets. Pages that show
// live service poll every POLL_MS, so two hosts see the same floor.
"use strict";

const POLL_MS = 10000;
const STATE = { user: null, restaurantId: null, timezone: undefined };

class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

async function api(method, path, body, { retry = true } = {}) {
  const options = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/api" + path, options);
  } catch {
    throw new ApiError(0, "NETWORK", "The network failed: check the connection and try again.");
  }
  if (response.status === 401 && retry && path !== "/auth/refresh" && path !== "/auth/login") {
    const refreshed = await fetch("/api/auth/refresh", { method: "POST", credentials: "same-origin" }).catch(() => null);
    if (refreshed && refreshed.ok) return api(method, path, body, { retry: false });
    window.location.assign("/staff/login?next=" + encodeURIComponent(window.location.pathname));
    throw new ApiError(401, "UNAUTHORIZED", "Please sign in.");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = data || {};
    throw new ApiError(response.status, error.code || String(response.status), error.message || "Something went wrong.", error.details);
  }
  return data;
}

// --- small DOM helpers ---------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function say(message, kind = "info") {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = kind;
}

function localTime(iso) {
  return new Intl.DateTimeFormat([], { hour: "2-digit", minute: "2-digit", timeZone: STATE.timezone }).format(new Date(iso));
}

function localDateTime(iso) {
  return new Intl.DateTimeFormat([], { dateStyle: "medium", timeStyle: "short", timeZone: STATE.timezone }).format(new Date(iso));
}

function today() {
  // The restaurant's local date, as YYYY-MM-DD (en-CA formats dates that way).
  return new Intl.DateTimeFormat("en-CA", { timeZone: STATE.timezone }).format(new Date());
}

function statusBadge(status) {
  return el("span", { class: "badge status-" + status, text: status.replace("_", "-") });
}

function poll(load) {
  load();
  window.setInterval(() => { if (!document.hidden) load(); }, POLL_MS);
}

// --- who is signed in, and for which restaurant --------------------------------------------------

async function signedIn() {
  STATE.user = await api("GET", "/auth/me");
  if (!STATE.user || !["staff", "admin"].includes(STATE.user.role)) {
    window.location.assign("/staff/login");
    throw new ApiError(403, "FORBIDDEN", "A staff account is needed.");
  }
  const chosen = new URLSearchParams(window.location.search).get("restaurant");
  STATE.restaurantId = chosen || STATE.user.restaurantId;
  if (!STATE.restaurantId) {
    const page = await api("GET", "/restaurants?pageSize=1");
    STATE.restaurantId = page.items[0]?.id;
  }
  const [restaurant, settings] = await Promise.all([
    api("GET", "/restaurants/" + STATE.restaurantId),
    api("GET", `/restaurants/${STATE.restaurantId}/settings`).catch(() => ({})),
  ]);
  STATE.timezone = settings.timeZone || undefined;
  document.getElementById("who").textContent = `${STATE.user.name || STATE.user.email} · ${restaurant.name}`;
  document.getElementById("sign-out").addEventListener("click", async () => {
    await api("POST", "/auth/logout").catch(() => null);
    window.location.assign("/staff/login");
  });
}

// --- one reservation's actions (day sheet and floor) ---------------------------------------------

const ACTIONS = {
  pending: [["Approve", "approve"], ["Reject", "reject"], ["Cancel", "cancel"]],
  confirmed: [["Seat", "seat"], ["No-show", "no-show"], ["Cancel", "cancel"]],
  seated: [["Complete", "complete"]],
};

async function act(reservation, action) {
  const id = reservation.reservationId;
  if (action === "approve") return api("POST", `/reservations/${id}/approve`, { action: "approve" });
  if (action === "reject") {
    const reason = window.prompt("Why is this booking rejected?");
    if (reason === null) return null;
    return api("POST", `/reservations/${id}/approve`, { action: "reject", rejectionReason: reason });
  }
  if (action === "cancel") {
    const reason = window.prompt("Reason for cancelling?");
    if (reason === null) return null;
    return api("POST", `/reservations/${id}/cancel`, { reason });
  }
  return api("POST", `/reservations/${id}/${action}`);
}

function actionButtons(reservation, reload) {
  return (ACTIONS[reservation.status] || []).map(([label, action]) =>
    el("button", {
      type: "button",
      class: action === "cancel" || action === "reject" || action === "no-show" ? "danger" : "",
      "data-action": action,
      "aria-label": `${label} ${reservation.name} at ${localTime(reservation.startsAt)}`,
      text: label,
      onclick: async (event) => {
        event.currentTarget.disabled = true;
        try {
          if (await act(reservation, action)) say(`${label}: ${reservation.name} (${reservation.confirmationCode}).`, "ok");
        } catch (err) {
          say(err.message, "error");
        }
        reload();
      },
    }),
  );
}

// --- pages ---------------------------------------------------------------------------------------

const PAGES = {
  async login() {
    const form = document.getElementById("login-form");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const session = await api("POST", "/auth/login", { email: form.email.value, password: form.password.value }, { retry: false });
        if (!["staff", "admin"].includes(session.user.role)) throw new ApiError(403, "FORBIDDEN", "This page is for restaurant staff.");
        const next = new URLSearchParams(window.location.search).get("next");
        window.location.assign(next && next.startsWith("/staff") ? next : "/staff/");
      } catch (err) {
        say(err.message, "error");
        button.disabled = false;
      }
    });
  },

  async sheet() {
    await signedIn();
    const form = document.getElementById("sheet-filters");
    form.date.value = today();
    let page = 1;
    const load = async () => {
      const query = new URLSearchParams({ restaurantId: STATE.restaurantId, date: form.date.value, page, pageSize: 25 });
      for (const name of ["status", "email", "table"]) if (form[name].value) query.set(name, form[name].value);
      try {
        const result = await api("GET", "/reservations?" + query);
        const rows = result.items.map((r) =>
          el("tr", { "data-reservation": r.reservationId, "data-status": r.status },
            el("td", { text: localTime(r.startsAt) }),
            el("td", {}, el("span", { text: r.name }), el("br"), el("small", { text: r.phone || r.email })),
            el("td", { "data-label": "Party", text: String(r.partySize) }),
            el("td", { "data-label": "Table", text: (r.tables || [r.tableNumber]).join("+") }),
            el("td", {}, statusBadge(r.status)),
            el("td", {}, ...(r.guest?.tags || []).map((tag) => el("span", { class: "tag", text: tag })), el("span", { text: r.specialRequests })),
            el("td", {}, el("div", { class: "actions" }, actionButtons(r, load))),
          ),
        );
        document.getElementById("sheet-rows").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 7, text: "No reservations." }))]));
        const { totalPages = 1 } = result.pagination;
        document.getElementById("page-info").textContent = `Page ${page} of ${Math.max(totalPages, 1)}`;
        document.getElementById("prev-page").disabled = page <= 1;
        document.getElementById("next-page").disabled = page >= totalPages;
      } catch (err) {
        say(err.message, "error");
      }
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
    document.getElementById("prev-page").addEventListener("click", () => { page -= 1; load(); });
    document.getElementById("next-page").addEventListener("click", () => { page += 1; load(); });
    poll(load);
  },

  async approvals() {
    await signedIn();
    const selected = () => [...document.querySelectorAll("#approval-rows input:checked")].map((box) => box.value);
    const load = async () => {
      try {
        const dashboard = await api("GET", `/restaurants/${STATE.restaurantId}/dashboard`);
        const kept = new Set(selected());
        const rows = (dashboard.pendingApprovals || []).map((r) =>
          el("tr", {},
            el("td", {}, el("input", { type: "checkbox", value: r.reservationId, checked: kept.has(r.reservationId), "aria-label": `Select ${r.name}` })),
            el("td", { text: localDateTime(r.startsAt) }),
            el("td", { text: r.name }),
            el("td", { text: String(r.partySize) }),
            el("td", { text: r.confirmationCode }),
          ),
        );
        document.getElementById("approval-rows").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5, text: "Nothing awaits approval." }))]));
      } catch (err) {
        say(err.message, "error");
      }
    };
    const decide = async (action) => {
      const ids = selected();
      if (!ids.length) return say("Select at least one booking.", "error");
      const reason = document.getElementById("rejection-reason").value;
      const items = ids.map((reservationId) => ({ reservationId, action, ...(action === "reject" ? { rejectionReason: reason } : {}) }));
      try {
        const result = await api("POST", "/reservations/approvals", { items });
        const failed = result.items.filter((item) => !item.ok);
        say(failed.length ? `${ids.length - failed.length} done; ${failed.length} failed: ${failed.map((f) => f.error.message).join("; ")}` : `${ids.length} ${action === "approve" ? "approved" : "rejected"}.`, failed.length ? "error" : "ok");
      } catch (err) {
        say(err.message, "error");
      }
      load();
    };
    document.getElementById("select-all").addEventListener("change", (event) => {
      for (const box of document.querySelectorAll("#approval-rows input")) box.checked = event.target.checked;
    });
    document.getElementById("approve-selected").addEventListener("click", () => decide("approve"));
    document.getElementById("reject-selected").addEventListener("click", () => decide("reject"));
    poll(load);
  },

  async new() {
    await signedIn();
    const form = document.getElementById("staff-booking");
    form.date.value = today();
    const FIELD_OF_CODE = { BAD_TIME: "time", BAD_DATE: "date", BAD_GUESTS: "partySize", BAD_EMAIL: "email", TABLE_NOT_FOUND: "tableNumber", TABLE_TAKEN: "tableNumber" };
    const clearErrors = () => {
      for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
      for (const span of form.querySelectorAll(".field-error")) span.textContent = "";
    };
    const fieldError = (name, message) => {
      const input = form.elements[name];
      const span = document.getElementById(name + "-error");
      if (!input || !span) return false;
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", span.id);
      span.textContent = message;
      return true;
    };
    form.walkIn.addEventListener("change", () => { form.date.disabled = form.time.disabled = form.walkIn.checked; });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      const body = { name: form.name.value, phone: form.phone.value, partySize: Number(form.partySize.value), walkIn: form.walkIn.checked, specialRequests: form.specialRequests.value };
      if (form.email.value) body.email = form.email.value;
      if (form.tableNumber.value) body.tableNumber = Number(form.tableNumber.value);
      if (!form.walkIn.checked) Object.assign(body, { date: form.date.value, time: form.time.value });
      try {
        const booked = await api("POST", `/restaurants/${STATE.restaurantId}/reservations`, body);
        say(`Booked ${booked.confirmationCode}: ${booked.partySize} at ${localDateTime(booked.startsAt)}, table ${booked.tableNumber}.`, "ok");
        form.reset();
        form.date.value = today();
      } catch (err) {
        const fields = err.details.fields || {};
        let placed = false;
        for (const [name, messages] of Object.entries(fields)) placed = fieldError(name, [].concat(messages).join(" ")) || placed;
        if (FIELD_OF_CODE[err.code]) placed = fieldError(FIELD_OF_CODE[err.code], err.message) || placed;
        say(placed ? "Please correct the marked fields." : err.message, "error");
      } finally {
        button.disabled = false;
      }
    });
  },

  async floor() {
    await signedIn();
    const form = document.getElementById("floor-filters");
    const load = async () => {
      const at = form.at.value ? new Date(form.at.value).toISOString() : new Date().toISOString();
      try {
        const plan = await api("GET", `/restaurants/${STATE.restaurantId}/floor-plan?at=${encodeURIComponent(at)}`);
        document.getElementById("floor").replaceChildren(floorSvg(plan, load));
      } catch (err) {
        say(err.message, "error");
      }
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
    document.getElementById("floor-now").addEventListener("click", () => { form.at.value = ""; load(); });
    poll(load);
  },

  async calendar() {
    await signedIn();
    const form = document.getElementById("calendar-filters");
    form.month.value = today().slice(0, 7);
    const load = async () => {
      const [year, month] = form.month.value.split("-").map(Number);
      const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
      const start = `${form.month.value}-01`;
      const end = `${form.month.value}-${String(last).padStart(2, "0")}`;
      try {
        const calendar = await api("GET", `/restaurants/${STATE.restaurantId}/calendar?startDate=${start}&endDate=${end}&partySize=${form.partySize.value || 2}`);
        document.getElementById("calendar").replaceChildren(...calendar.days.map((day) => {
          const free = (day.slots || []).filter((slot) => slot.available).length;
          const booked = (day.reservations || []).filter((r) => !["cancelled", "rejected"].includes(r.status));
          const covers = booked.reduce((sum, r) => sum + r.partySize, 0);
          return el("section", { class: "day" + (day.closed ? " closed" : ""), "aria-label": day.date },
            el("h2", { text: day.date }),
            el("p", { text: day.closed ? "Closed" : `${booked.length} bookings · ${covers} covers` }),
            el("p", { text: day.closed ? "" : `${free} free times` }),
          );
        }));
      } catch (err) {
        say(err.message, "error");
      }
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
    load();
  },

  async dashboard() {
    await signedIn();
    const load = async () => {
      try {
        const d = await api("GET", `/restaurants/${STATE.restaurantId}/dashboard`);
        const figures = [
          ["Reservations today", d.todayReservations], ["Covers today", d.todayCovers], ["Seated now", d.seatedNow],
          ["No-shows today", d.noShowsToday], ["Awaiting approval", (d.pendingApprovals || []).length],
        ];
        document.getElementById("figures").replaceChildren(...figures.flatMap(([label, value]) => [el("dt", { text: label }), el("dd", { text: String(value ?? 0) })]));
        document.getElementById("activity").replaceChildren(...(d.recentActivity || []).map((a) =>
          el("li", { text: `${localDateTime(a.at)} · ${a.confirmationCode || ""} ${a.action} (${a.fromStatus || "new"} → ${a.toStatus}) by ${a.actorRole}${a.reason ? ": " + a.reason : ""}` })));
      } catch (err) {
        say(err.message, "error");
      }
    };
    poll(load);
  },
};

// The floor plan as SVG: positions are attributes, so the strict CSP (no inline styles) holds.
function floorSvg(plan, reload) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  // Tables without a saved position are laid out in rows of eight.
  const tables = (plan.tables || []).map((table, index) => {
    const w = table.width || 60;
    const h = table.height || 60;
    const x = table.x ?? 20 + (index % 8) * (Math.max(w, 60) + 20);
    const y = table.y ?? 20 + Math.floor(index / 8) * (Math.max(h, 60) + 20);
    return { ...table, x, y, w, h };
  });
  const width = Math.max(600, ...tables.map((t) => t.x + t.w + 20));
  const height = Math.max(300, ...tables.map((t) => t.y + t.h + 20));
  tables.forEach((table) => {
    const { x, y, w, h } = table;
    const group = document.createElementNS(ns, "g");
    group.setAttribute("class", "table state-" + table.state);
    group.setAttribute("role", "img");
    group.setAttribute("data-table", table.number);
    group.setAttribute("transform", `rotate(${table.rotation || 0} ${x + w / 2} ${y + h / 2})`);
    const shape = document.createElementNS(ns, table.shape === "round" ? "ellipse" : "rect");
    if (table.shape === "round") {
      Object.entries({ cx: x + w / 2, cy: y + h / 2, rx: w / 2, ry: h / 2 }).forEach(([k, v]) => shape.setAttribute(k, v));
    } else {
      Object.entries({ x, y, width: w, height: h, rx: 6 }).forEach(([k, v]) => shape.setAttribute(k, v));
    }
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", x + w / 2);
    label.setAttribute("y", y + h / 2);
    label.setAttribute("text-anchor", "middle");
    label.textContent = `${table.number} · ${table.state}`;
    const title = document.createElementNS(ns, "title");
    const who = table.occupant ? ` — ${table.occupant.name}, ${table.occupant.partySize} (${table.occupant.confirmationCode})` : "";
    title.textContent = `Table ${table.number} (${table.capacity ?? table.seats ?? "?"} seats): ${table.state}${who}`;
    group.setAttribute("aria-label", title.textContent);
    group.append(title, shape, label);
    svg.append(group);
  });
  return svg;
}

document.addEventListener("DOMContentLoaded", () => {
  const page = PAGES[document.body.dataset.page];
  if (page) page().catch((err) => say(err.message, "error"));
});
