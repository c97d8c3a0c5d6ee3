// The door page's service worker (README, "Check-in without signal"): served from under
// one meeting's check-in page (staff_views.check_in_worker), so its scope is that page alone.
// It keeps the last copy of the page and of the site's own files it uses, and answers with
// them when there is no signal. Taps are not its business: the page queues and sends them
// (check_in.js). After the meeting (the page's X-Door-Clear-After) the copy is deleted.
"use strict";

const scopePath = new URL(self.registration.scope).pathname;
const meeting = (scopePath.match(/\/(\d+)\/check-in\/$/) || [])[1];
const CACHE = `outreach-door-${meeting}`;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === scopePath) {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(staticFile(request));
  }
});

function expired(response) {
  const clearAfter = Date.parse(response.headers.get("X-Door-Clear-After") || "");
  return !(clearAfter > Date.now());
}

// The page: from the server whenever it answers (and kept), else the kept copy.
async function page(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    const html = (response.headers.get("Content-Type") || "").startsWith("text/html");
    if (response.ok && html && !response.redirected && !expired(response)) {
      await cache.put(scopePath, response.clone());
    }
    return response;
  } catch (error) {
    const kept = await cache.match(scopePath, { ignoreVary: true });
    if (kept && !expired(kept)) return kept;
    await caches.delete(CACHE);
    throw error;
  }
}

// The site's own files (their names change with their content): the kept copy first.
async function staticFile(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}
