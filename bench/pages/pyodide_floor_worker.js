// Worker of bench/pages/pyodide_floor.html: app/engine.js's startPyodide, as the app's worker
// runs it (the same snapshot in Cache Storage, kept 15 s after a first start; numpy loaded and
// imported), then the engine's marks, on the absolute clock, back to the page.
"use strict";

importScripts("/app/engine.js");

function engineMarks() {
  return performance.getEntriesByType("mark").filter((m) => m.name.startsWith("moodcam:"))
    .map((m) => [m.name.slice(8), performance.timeOrigin + m.startTime]);
}

(async () => {
  try {
    const base = new URL("/", self.location.href).href;
    const site = await (await fetch(base + "site.json")).json();
    performance.mark("moodcam:engine-start");
    importScripts(base + site.pyodide + "pyodide.js");
    const started = self.moodcamEngine.startPyodide(base, site, typeof caches !== "undefined");
    await started.ready;
    self.postMessage({ type: "ready", marks: engineMarks() });
    // A first start keeps a snapshot for the next visit (app/engine.js, 15 s later): say when.
    const poll = setInterval(() => {
      if (performance.getEntriesByName("moodcam:snapshot-kept").length) {
        clearInterval(poll);
        self.postMessage({ type: "snapshot-kept", marks: engineMarks() });
      }
    }, 250);
  } catch (error) {
    self.postMessage({ error: String((error && (error.stack || error.message)) || error) });
  }
})();
