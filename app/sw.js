// moodcam service worker (copied to the site root so its scope covers the page).
// Purpose: the app keeps working offline after one visit, and a page never mixes files
// from two builds. It only ever answers same-origin GET requests for files of its build.
// - VERSION is written by `build.py site`: a hash of every file's sha256 in site.json, so
//   any change to any file gives a new worker with its own cache ("moodcam-<VERSION>").
// - install: fetch site.json and every file it lists into that cache, each checked against
//   its sha256; one failure fails the install and the previous version stays in charge.
//   Files in site.json's "on_demand" (models and packages the default view does not load:
//   FaceMesh, the far-range detector, custom detectors, micropip) are not precached: they are
//   fetched, checked and added to the same cache the first time the app asks for them.
// - WebAssembly (Pyodide's and TF.js's .wasm, published as-is and served immutable) is left to
//   the browser's HTTP cache while online, so no request leaves the device, and V8 reuses the
//   machine code it compiled on an earlier visit: its code cache answers HTTP-cache responses,
//   not this worker's, so a return visit compiled and tiered up Pyodide's wasm again (0.9 of its
//   3.3 CPU-s; bench/results/2026-12-07-trace-worker-return-codecache-*.json). Offline, the
//   precached copy answers as for every other file.
// - the first install takes over at once; an update waits until no page runs the old
//   version (or the only page reloads), then activate deletes every older cache.
"use strict";

const VERSION = "dev";   // replaced by build.py site
const PREFIX = "moodcam-";
const CACHE = PREFIX + VERSION;
const SCOPE = new URL(self.registration.scope);

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    await precache();
    if (!self.registration.active) await self.skipWaiting();   // first visit: nothing to mix with
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith(PREFIX) && name !== CACHE)
      .map((name) => caches.delete(name)));
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== SCOPE.origin) return;
  if (url.pathname.endsWith(".wasm") && self.navigator.onLine) return;   // the HTTP cache: see below
  event.respondWith(request.mode === "navigate" ? navigate(request) : fromCache(request));
});

async function precache() {
  const siteResponse = await fetch(new URL("site.json", SCOPE), { cache: "no-cache" });
  if (!siteResponse.ok) throw new Error(`site.json: HTTP ${siteResponse.status}`);
  const site = await siteResponse.clone().json();
  if (site.site_version !== VERSION) {   // a deploy happened between sw.js and site.json
    throw new Error(`site.json is for build ${site.site_version}, this worker for ${VERSION}`);
  }
  const onDemand = new Set(site.on_demand || []);
  // Files published immutable are taken from the HTTP cache where the page already has them, never
  // asked for again: a download or a revalidation gives the HTTP cache entry a new response time, and
  // V8's code cache for a .wasm, kept for the entry the page compiled from, is then never read (a
  // return visit compiled and tiered up pyodide.asm.wasm again: 5.1 CPU-s against 2.4 in one trace,
  // bench/README "A phone-class CPU"). The sha256 check below still holds them to this build.
  const immutable = new Set(site.immutable || []);
  const entries = Object.entries(site.files).filter(([path]) => path !== "sw.js" && !onDemand.has(path));
  entries.push(["", site.files["index.html"]]);   // the scope URL itself is the page
  const responses = await Promise.all(entries.map(async ([path, sha256]) => {
    const url = new URL(path, SCOPE);
    return [url, await fetchChecked(url, path, sha256, immutable.has(path) ? "default" : "no-cache")];
  }));
  await caches.delete(CACHE);   // a half-filled cache from an interrupted install
  const cache = await caches.open(CACHE);
  await cache.put(new URL("site.json", SCOPE), siteResponse);
  await Promise.all(responses.map(([url, response]) => cache.put(url, response)));
}

async function fetchChecked(url, path, sha256, mode = "no-cache") {
  const response = await fetch(url, { cache: mode });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  const digest = await crypto.subtle.digest("SHA-256", await response.clone().arrayBuffer());
  const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== sha256) throw new Error(`${path} changed while this version was being cached`);
  return response;
}

let siteOfThisVersion = null;   // site.json as cached by install

// Reads go through caches.match({ cacheName }), never caches.open: once a newer worker has deleted
// this version's cache, open() would quietly make an empty one again and leave it behind for good.
async function onDemandSha(url) {
  if (!siteOfThisVersion) {
    const cached = await caches.match(new URL("site.json", SCOPE), { cacheName: CACHE });
    siteOfThisVersion = cached ? await cached.json() : { files: {}, on_demand: [] };
  }
  const path = url.href.slice(SCOPE.href.length);
  return (siteOfThisVersion.on_demand || []).includes(path) ? siteOfThisVersion.files[path] : null;
}

async function fromCache(request) {
  const cached = await caches.match(request, { cacheName: CACHE });
  if (cached) return cached;
  const url = new URL(request.url);
  url.search = "";
  const sha256 = await onDemandSha(url);
  if (sha256) {
    // First use of an on-demand file: kept only when it is this version's file (and this version's
    // cache still exists); otherwise the network's answer goes through uncached (the app's own
    // sha256 check reports it).
    try {
      const response = await fetchChecked(url, url.pathname, sha256);
      if (await caches.has(CACHE)) await (await caches.open(CACHE)).put(url, response.clone());
      return response;
    } catch (_) { /* fall through */ }
  }
  return fetch(request);
}

// The page a reload gets while the new version takes over. This worker must answer first: the new one
// activates only once this one has no event in flight. The page then reloads itself as soon as the new
// worker claims it (controllerchange), or after a second if that was missed (it activated before this
// script ran); a reload that still finds this worker in charge gets this page again. The meta refresh
// is for a browser without scripts. It says what is happening, so a slow swap is never a blank page.
const SWAP_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>moodcam</title>
<meta http-equiv="refresh" content="3"></head>
<body style="font: 16px system-ui, sans-serif; margin: 2em"><p role="status">Updating moodcam…</p>
<script>
navigator.serviceWorker.addEventListener("controllerchange", () => location.reload());
setTimeout(() => location.reload(), 1000);
</script></body></html>`;

async function navigate(request) {
  // A newer version is ready and this is the only page: swap now and reload it, so a
  // reload shows the new build (never half of it).
  const waiting = self.registration.waiting;
  if (waiting && (await self.clients.matchAll({ type: "window" })).length <= 1) {
    waiting.postMessage("skip-waiting");
    return new Response(SWAP_PAGE, { headers: { "Content-Type": "text/html; charset=utf-8",
                                                "Cache-Control": "no-store" } });
  }
  return (await caches.match(request, { cacheName: CACHE, ignoreSearch: true })) || fetch(request);
}
