// moodcam snapshot maker: a short-lived worker that starts a bare Pyodide interpreter with
// `_makeSnapshot`, takes its memory snapshot and keeps it in Cache Storage for the next visit
// (app/engine.js restores it), with the standard-library modules the app uses already imported,
// and moodcam's own modules that need neither numpy nor JavaScript (moodcam.browser.preload
// decides: the engine sends the wheel it checked, unpacked here as the engine unpacks it).
// Its own worker because `_makeSnapshot` proxies every JS global, which would break the engine's
// interpreter. Older snapshots (another Pyodide build) go.
"use strict";

self.onmessage = async (event) => {
  const { indexURL, cache, url, prefix, imports, app } = event.data;
  try {
    importScripts(indexURL + "pyodide.js", "engine.js");   // engine.js: unpackWheel, as the engine unpacks
    const pyodide = await self.loadPyodide({ indexURL, _makeSnapshot: true });
    // Standard-library modules the app imports (moodcam.browser.preload chose them): restored
    // with the interpreter on the next visit. Passed as JSON text, not as a JS object, so no
    // JavaScript reference is alive when the snapshot is taken (Pyodide refuses one). A module
    // that fails to import here is left out.
    // The loop runs in a function: no loop variable is left behind in the snapshot's globals
    // (and an empty list, where there is none to delete, is fine).
    const imported = JSON.parse(pyodide.runPython(`
import importlib, json
def _import_each(names):
    imported = []
    for name in names:
        try:
            importlib.import_module(name)
            imported.append(name)
        except Exception:
            pass
    return json.dumps(imported)
_imported = _import_each(json.loads(${JSON.stringify(JSON.stringify(imports || []))}))
del _import_each
_imported
`));
    pyodide.runPython("del _imported");
    if (app) {
      self.moodcamEngine.unpackWheel(pyodide, app.wheel, app.sitePackages);
      imported.push(...JSON.parse(pyodide.runPython(`
def _import_app(names):
    import json
    from moodcam.browser.preload import import_app_modules
    return json.dumps(import_app_modules(json.loads(names)))
_imported = _import_app(${JSON.stringify(JSON.stringify(app.modules || []))})
del _import_app
_imported
`)));
      pyodide.runPython("del _imported");
    }
    const bytes = pyodide.makeMemorySnapshot();
    for (const name of await caches.keys()) {
      if (name.startsWith(prefix) && name !== cache) await caches.delete(name);
    }
    await (await caches.open(cache)).put(url, new Response(bytes, {
      headers: { "Content-Type": "application/octet-stream" } }));
    self.postMessage({ bytes: bytes.length, imported });
  } catch (error) {
    self.postMessage({ error: String(error && error.message || error) });
  }
};
