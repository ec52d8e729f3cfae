// moodcam service worker (copied to the site root so its scope covers the page).
// Purpose: the app keeps working offline after one visit. It only ever touches
// same-origin GET requests; anything else passes through untouched.
// - vendor/ sits in versioned folders (pyodide-0.27.7, tfjs-4.22.0): cache first.
// - everything else (page, app, wheel, models, site.json): network first, so a
//   redeploy is seen at once, with the cached copy as the offline fallback.
//   Models are checked against their sha256 in Python either way.
"use strict";

const CACHE = "moodcam-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const scopePath = new URL(self.registration.scope).pathname;
  const isVendor = url.pathname.startsWith(scopePath + "vendor/");
  event.respondWith(isVendor ? cacheFirst(request) : networkFirst(request));
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

async function networkFirst(request) {
  const cache = await caches.open(CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const hit = await cache.match(request);
    if (hit) return hit;
    throw error;
  }
}
