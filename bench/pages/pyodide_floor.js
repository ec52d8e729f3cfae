// The floor under any first mood of ours: Pyodide and numpy started exactly as the app's engine
// starts them (app/engine.js's startPyodide, in a dedicated worker; from the kept snapshot on a
// return visit) and nothing else: no TF.js, no moodcam wheel, no camera, no frames. Its marks
// (window.bench.marks, ms since this page's navigation) use the engine's own names. Once numpy is
// imported it registers the app's own service worker, as the app does once it runs, so a return
// visit reads the same cache as the app's return visits do.
"use strict";

(function () {
  const b = window.bench;
  const worker = new Worker("pyodide_floor_worker.js");
  worker.onmessage = (event) => {
    const message = event.data;
    if (message.error) {
      benchFail(message.error);
      return;
    }
    // The worker's marks are on its own clock: moved onto the page's (since navigation).
    for (const [name, at] of message.marks) b.marks[name] = at - performance.timeOrigin;
    if (message.type === "ready") {
      b.state = "done";
      navigator.serviceWorker.register("/sw.js", { scope: "/" })
        .catch((error) => console.warn("bench: service worker not registered:", error));
    }
    if (message.type === "snapshot-kept") b.snapshot = message.snapshot || { bytes: 0, imported: [] };
  };
  worker.onerror = (event) => benchFail(event.message || "the floor's worker failed");
})();
