// The door list with or without signal (README, "Check-in without signal").
//
// Every tap ("Check in", "Undo", "Add walk-in") gets a one-time key, is kept in this phone's
// localStorage until the server has answered, and is sent in the background: at once when
// there is a connection, by itself when the connection comes back (no switch to press). The
// server applies each key once, so a tap sent twice, or by two doors, counts once; a tap that
// found the party otherwise (checked in by the other door) is shown as a conflict. The queue
// holds RSVP numbers, walk-in counts and keys, never a name. A service worker
// (check_in_worker.js) keeps the last copy of this page so that it opens without signal.
// Without this script the page is plain forms, and works online.
"use strict";

(() => {
  const root = document.querySelector(".check-in[data-meeting]");
  if (!root) return;
  const meeting = root.dataset.meeting;
  const STORE = `outreach-door:${meeting}`;
  const CACHE = `outreach-door-${meeting}`;
  const clearAfter = root.dataset.clearAfter;
  const pagePath = location.pathname;
  const sync = document.getElementById("door-sync");
  const notices = document.getElementById("door-notices");
  const list = document.getElementById("door-list");
  const searchForm = root.querySelector("form.door-search");
  const walkInForm = root.querySelector("form.door-walk-in");
  let sending = false;
  let retryTimer = null;
  let retryDelay = 2000;
  let loggedOut = false;
  // Something was sent since the last tap, and nothing waits: "Everything is sent."
  let allSent = false;

  // The queue, in localStorage -----------------------------------------------------------

  function load() {
    try {
      const data = JSON.parse(localStorage.getItem(STORE));
      if (data && Array.isArray(data.queue)) return data;
    } catch (error) {
      // A damaged entry is replaced below.
    }
    return { clearAfter, queue: [] };
  }

  function save(queue) {
    localStorage.setItem(STORE, JSON.stringify({ clearAfter, queue }));
  }

  function queue() {
    return load().queue;
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function enqueue(item) {
    const items = queue();
    items.push(item);
    save(items);
    allSent = false;
    paint();
    send();
  }

  // After the meeting (and a margin), nothing of it stays on the phone: the page is then
  // plain forms, as without this script.
  if (!(Date.now() <= Date.parse(clearAfter))) {
    localStorage.removeItem(STORE);
    if (window.caches) caches.delete(CACHE);
    return;
  }

  // The page as the server last said, with the taps not yet sent laid over it -------------

  function fold(text) {
    const plain = { "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L" };
    return text
      .replace(/[đĐøØłŁ]/g, (letter) => plain[letter])
      .normalize("NFKD")
      .replace(/\p{M}/gu, "")
      .toLowerCase();
  }

  function paint() {
    const items = queue();
    let arrived = 0;
    let walkIns = 0;
    for (const row of list.querySelectorAll("li.door-party[data-rsvp]")) {
      const mine = items.filter((item) => item.kind === "tap" && item.rsvp === row.dataset.rsvp);
      const serverIn = row.dataset.in === "1";
      const isIn = mine.length ? !mine[mine.length - 1].undo : serverIn;
      arrived += (Number(isIn) - Number(serverIn)) * Number(row.dataset.size);
      row.classList.toggle("is-in", isIn);
      row.classList.toggle("is-pending", mine.length > 0);
      row.querySelector(".door-arrived").hidden = !isIn;
      row.querySelector(".door-waiting").hidden = mine.length === 0;
      const form = row.querySelector("form.door-tap");
      const button = form.querySelector("button");
      form.querySelector("input[name=action]").value = isIn ? "undo" : "check_in";
      button.textContent = isIn ? form.dataset.undo : form.dataset.checkIn;
      button.classList.toggle("door-undo", isIn);
      button.classList.toggle("door-in", !isIn);
      button.classList.toggle("default", !isIn);
    }
    const walkInKeys = new Set();
    const template = document.getElementById("door-pending-walk-in");
    for (const item of items.filter((entry) => entry.kind === "walk_in")) {
      walkInKeys.add(item.key);
      arrived += item.size;
      walkIns += item.size;
      if (!list.querySelector(`li[data-key="${item.key}"]`)) {
        const row = template.content.firstElementChild.cloneNode(true);
        row.dataset.key = item.key;
        const words = item.size === 1 ? row.dataset.one : row.dataset.other;
        row.querySelector("strong").textContent = words.replace(/\d+/, String(item.size));
        list.prepend(row);
      }
    }
    for (const row of list.querySelectorAll("li[data-key]")) {
      if (!walkInKeys.has(row.dataset.key)) row.remove();
    }
    const deltas = { arrived, walk_ins: walkIns, expected: 0 };
    const totals = document.getElementById("door-totals");
    for (const total of totals.querySelectorAll("[data-total]")) {
      if (total.dataset.base === undefined) total.dataset.base = total.textContent.trim();
      total.textContent = String(Number(total.dataset.base) + deltas[total.dataset.total]);
    }
    // Over capacity with the taps still on the phone: said now, not once they are sent.
    const capacity = Number(totals.dataset.capacity || 0);
    const inNow = Number(totals.querySelector('[data-total="arrived"]').textContent);
    const waitingWarning = totals.querySelector(".door-over-capacity-waiting");
    const serverWarning = totals.querySelector(".door-over-capacity:not(.door-over-capacity-waiting)");
    const showWaiting = capacity > 0 && inNow > capacity && arrived !== 0;
    waitingWarning.hidden = !showWaiting;
    waitingWarning.querySelector("strong").textContent = showWaiting
      ? totals.dataset.overCapacity.replace("999999", String(inNow)).replace("888888", String(capacity))
      : "";
    if (serverWarning) serverWarning.hidden = showWaiting;
    showStatus(items.length);
  }

  function showStatus(waiting) {
    const lines = [];
    if (loggedOut) lines.push(sync.dataset.login);
    else if (!navigator.onLine && waiting) lines.push(sync.dataset.offline);
    if (waiting) {
      const words = waiting === 1 ? sync.dataset.waitingOne : sync.dataset.waitingOther;
      lines.push(words.replace(/\d+/, String(waiting)));
    } else if (allSent) {
      lines.push(sync.dataset.sent);
    }
    if (!navigator.onLine && !waiting) lines.unshift(sync.dataset.offline);
    sync.textContent = lines.join(" ");
    sync.hidden = lines.length === 0;
  }

  function notice(text, level) {
    // Conflicts and errors stay until the page is left; good news replaces good news.
    for (const old of notices.querySelectorAll("li.success, li.info")) old.remove();
    const item = document.createElement("li");
    item.className = level;
    item.textContent = text;
    notices.prepend(item);
  }

  // Sending ------------------------------------------------------------------------------

  function csrfToken() {
    return root.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function later() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(send, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30000);
  }

  async function send() {
    if (sending) return;
    let sent = 0;
    sending = true;
    try {
      while (navigator.onLine) {
        const item = queue()[0];
        if (!item) break;
        let response;
        try {
          response = await fetch(pagePath, {
            method: "POST",
            headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
            body: new URLSearchParams([...item.fields, ["key", item.key]]),
            credentials: "same-origin",
            redirect: "manual",
          });
        } catch (error) {
          later(); // no connection after all: try again soon
          break;
        }
        if (response.status >= 500) {
          later(); // the server is having trouble: the tap waits and goes later
          break;
        }
        const json = (response.headers.get("Content-Type") || "").startsWith("application/json");
        if (!json || response.status === 403) {
          // Logged out (a redirect to the login page) or the session's token changed.
          loggedOut = true;
          later();
          break;
        }
        loggedOut = false;
        retryDelay = 2000;
        const answer = await response.json();
        save(queue().filter((entry) => entry.key !== item.key));
        sent += 1;
        if (answer.error) {
          notice(answer.error, "error");
        } else {
          applyAnswer(item, answer);
        }
      }
    } finally {
      sending = false;
      if (sent && !queue().length) allSent = true;
      paint();
    }
    if (sent) {
      keepCopy();
      refresh();
    }
  }

  // The page as it now is (the server's answers in it) becomes the copy the service worker
  // opens offline, at once: the refresh below replaces it, unless the signal is gone first.
  function keepCopy() {
    if (!window.caches || !navigator.serviceWorker || !navigator.serviceWorker.controller) return;
    const copy = document.documentElement.cloneNode(true);
    copy.querySelector("#door-notices").replaceChildren();
    for (const message of copy.querySelectorAll(".messagelist")) message.remove();
    const html = `<!DOCTYPE html>\n${copy.outerHTML}`;
    const headers = {
      "Content-Type": "text/html; charset=utf-8",
      "X-Door-Clear-After": clearAfter,
    };
    caches
      .open(CACHE)
      .then((cache) => cache.put(pagePath, new Response(html, { headers })))
      .catch(() => {});
  }

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function applyAnswer(item, answer) {
    const row = fromHtml(answer.row);
    const old = list.querySelector(`li[data-rsvp="${answer.rsvp}"]`);
    if (old) old.replaceWith(row);
    else if (item.kind === "walk_in") list.prepend(row);
    document.getElementById("door-totals").replaceWith(fromHtml(answer.totals));
    if (answer.conflict) {
      const conflict = row.querySelector(".door-conflict");
      conflict.textContent = answer.message;
      conflict.hidden = false;
    }
    notice(answer.message, answer.conflict ? "warning" : answer.level);
    filter();
  }

  // The list and totals as the server has them now (the other door's taps included); the
  // service worker keeps this copy for when there is no signal.
  async function refresh() {
    if (!navigator.onLine || queue().length || sending) return;
    let html;
    try {
      const response = await fetch(pagePath, { credentials: "same-origin", redirect: "manual" });
      if (!response.ok) return;
      html = await response.text();
    } catch (error) {
      return;
    }
    if (queue().length || sending) return;
    const fresh = new DOMParser().parseFromString(html, "text/html");
    const freshList = fresh.getElementById("door-list");
    const freshTotals = fresh.getElementById("door-totals");
    if (!freshList || !freshTotals) return;
    const conflicts = new Map();
    for (const shown of list.querySelectorAll(".door-conflict:not([hidden])")) {
      conflicts.set(shown.closest("li").dataset.rsvp, shown.textContent);
    }
    // A copy first: adopting a node takes it out of the live list being read.
    const rows = Array.from(freshList.children);
    list.replaceChildren(...rows.map((node) => document.adoptNode(node)));
    for (const [rsvp, text] of conflicts) {
      const conflict = list.querySelector(`li[data-rsvp="${rsvp}"] .door-conflict`);
      if (conflict) {
        conflict.textContent = text;
        conflict.hidden = false;
      }
    }
    document.getElementById("door-totals").replaceWith(document.adoptNode(freshTotals));
    filter();
    paint();
  }

  // Taps -----------------------------------------------------------------------------------

  // A double tap is one tap: a second tap on the same button within this time is ignored
  // (otherwise "Check in" would turn into "Undo" under the finger, or a walk-in count twice).
  const DOUBLE_TAP_MS = 1000;
  const lastTap = new Map();

  function isDoubleTap(what) {
    const now = Date.now();
    const before = lastTap.get(what);
    lastTap.set(what, now);
    return before !== undefined && now - before < DOUBLE_TAP_MS;
  }

  list.addEventListener("submit", (event) => {
    const form = event.target.closest("form.door-tap");
    if (!form) return;
    event.preventDefault();
    const row = form.closest("li");
    if (isDoubleTap(`rsvp:${row.dataset.rsvp}`)) return;
    const undo = form.querySelector("input[name=action]").value === "undo";
    enqueue({
      kind: "tap",
      key: newKey(),
      rsvp: row.dataset.rsvp,
      undo,
      fields: [
        ["rsvp", row.dataset.rsvp],
        ["action", undo ? "undo" : "check_in"],
      ],
    });
  });

  if (walkInForm) {
    walkInForm.addEventListener("submit", (event) => {
      const input = walkInForm.elements.party_size;
      const size = Number(input.value);
      // A count the server would refuse: let the form go, for its translated message.
      if (!input.value || !Number.isInteger(size) || size < 1 || size > Number(input.max || 10)) {
        return;
      }
      event.preventDefault();
      if (isDoubleTap("walk-in")) return;
      const fields = [["walk_in", "1"]];
      for (const [name, value] of new FormData(walkInForm)) {
        if (name !== "csrfmiddlewaretoken" && name !== "key") fields.push([name, value]);
      }
      enqueue({ kind: "walk_in", key: newKey(), size, fields });
      walkInForm.reset();
    });
  }

  // Search on the phone itself: every party of the meeting is on the page ----------------

  function filter() {
    if (!searchForm) return;
    const text = fold(searchForm.elements.q.value.trim());
    const status = searchForm.elements.status.value;
    let shown = 0;
    for (const row of list.querySelectorAll("li.door-party[data-rsvp]")) {
      const isIn = row.classList.contains("is-in");
      const matches =
        (!text || row.dataset.name.includes(text)) &&
        (status === "" ||
          (status === "arrived" && isIn) ||
          (status === "expected" && !isIn && row.dataset.status === "confirmed") ||
          (status === "waitlisted" && row.dataset.status === "waitlisted"));
      row.hidden = !matches;
      if (matches) shown += 1;
    }
    const nobody = list.querySelector(".door-nobody");
    if (nobody) nobody.hidden = shown > 0;
  }

  if (searchForm) {
    searchForm.addEventListener("submit", (event) => {
      event.preventDefault();
      filter();
      const query = new URLSearchParams(new FormData(searchForm));
      history.replaceState(null, "", `${pagePath}?${query}`);
    });
    searchForm.elements.q.addEventListener("input", filter);
    searchForm.elements.status.addEventListener("change", filter);
  }

  // Logging out deletes this meeting's taps from the phone: say so when some are unsent.
  const logout = document.getElementById("logout-form");
  if (logout) {
    logout.addEventListener("submit", (event) => {
      if (queue().length && !window.confirm(sync.dataset.logout)) {
        event.preventDefault();
        return;
      }
      localStorage.removeItem(STORE);
    });
  }

  // Offline copies: the service worker answers for this page; the page's own files are
  // put in its cache now, so that the page opens with its styles and this script offline.
  if ("serviceWorker" in navigator && window.caches) {
    navigator.serviceWorker
      .register(root.dataset.worker, { scope: pagePath })
      .then(() => navigator.serviceWorker.ready)
      .then(() => caches.open(CACHE))
      .then((cache) => {
        const files = Array.from(
          document.querySelectorAll('link[rel="stylesheet"][href], script[src]'),
          (element) => element.href || element.src,
        ).filter((address) => new URL(address).origin === location.origin);
        return cache.addAll([...new Set(files)]).then(() => refresh());
      })
      .catch(() => {
        // Without a worker the page still queues taps; it just cannot be reopened offline.
      });
  }

  window.addEventListener("online", () => {
    retryDelay = 2000;
    send();
  });
  window.addEventListener("offline", () => showStatus(queue().length));
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") send();
  });
  setInterval(() => (queue().length ? send() : refresh()), 30000);

  // Start: what the server said, the unsent taps over it, and send them.
  save(queue());
  filter();
  paint();
  send();
})();
