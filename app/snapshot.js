// moodcam snapshot maker: a short-lived worker that starts a bare Pyodide interpreter with
// `_makeSnapshot`, takes its memory snapshot and keeps it in Cache Storage for the next visit
// (app/engine.js restores it). Its own worker because `_makeSnapshot` proxies every JS global,
// which would break the engine's interpreter. Older snapshots (another Pyodide build) go.
"use strict";

self.onmessage = async (event) => {
  const { indexURL, cache, url, prefix } = event.data;
  try {
    importScripts(indexURL + "pyodide.js");
    const pyodide = await self.loadPyodide({ indexURL, _makeSnapshot: true });
    const bytes = pyodide.makeMemorySnapshot();
    for (const name of await caches.keys()) {
      if (name.startsWith(prefix) && name !== cache) await caches.delete(name);
    }
    await (await caches.open(cache)).put(url, new Response(bytes, {
      headers: { "Content-Type": "application/octet-stream" } }));
    self.postMessage({ bytes: bytes.length });
  } catch (error) {
    self.postMessage({ error: String(error && error.message || error) });
  }
};
