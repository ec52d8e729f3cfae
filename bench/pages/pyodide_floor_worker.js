// Worker of bench/pages/pyodide_floor.html: app/engine.js's startPyodide, as the app's worker
// runs it (the same snapshot in Cache Storage, kept 15 s after a first start; numpy loaded and
// imported), then the engine's marks, on the absolute clock, back to the page.
"use strict";

importScripts("/app/engine.js");

function engineMarks() {
  return performance.getEntriesByType("mark").filter((m) => m.name.startsWith("moodcam:"))
    .map((m) => [m.name.slice(8), performance.timeOrigin + m.startTime]);
}

// Off the measured path, on a start without a snapshot: what the app's start loads besides
// numpy (TF.js's scripts, the moodcam wheel, moodcam's engine module), so that the snapshot this
// start keeps holds the standard-library modules the app's does (moodcam.browser.preload chooses
// them, as in the app). Without them a return visit imports them on its critical path, and the
// floor would not be one.
async function importWhatTheAppImports(base, site, pyodide) {
  importScripts(base + site.tfjs + "tf.es2017.min.js", base + site.tfjs + "tf-backend-wasm.es2017.min.js");
  const wheel = await (await fetch(base + site.wheel)).arrayBuffer();
  const dir = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
  pyodide.unpackArchive(wheel, "zip", { extractDir: dir });
  pyodide.pyimport("moodcam.browser.engine");
}

(async () => {
  try {
    const base = new URL("/", self.location.href).href;
    const site = await (await fetch(base + "site.json")).json();
    performance.mark("moodcam:engine-start");
    importScripts(base + site.pyodide + "pyodide.js");
    const started = self.moodcamEngine.startPyodide(base, site, typeof caches !== "undefined");
    const pyodide = await started.ready;
    self.postMessage({ type: "ready", marks: engineMarks() });
    if (performance.getEntriesByName("moodcam:pyodide-from-snapshot").length) return;
    await importWhatTheAppImports(base, site, pyodide);
    // The engine keeps a snapshot 15 s after a first start (app/engine.js): say when, and what
    // it holds (the engine's own report, self.moodcam.snapshot).
    const poll = setInterval(() => {
      if (performance.getEntriesByName("moodcam:snapshot-kept").length) {
        clearInterval(poll);
        self.postMessage({ type: "snapshot-kept", marks: engineMarks(),
                           snapshot: (self.moodcam && self.moodcam.snapshot) || null });
      }
    }, 250);
  } catch (error) {
    self.postMessage({ error: String((error && (error.stack || error.message)) || error) });
  }
})();
