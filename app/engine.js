// moodcam engine glue: loads TF.js and Pyodide where the engine runs (a dedicated worker,
// app/worker.js, or the page itself when the browser lacks what the worker needs), installs
// the moodcam wheel and hands every message from the page to Python
// (moodcam.browser.engine). No application logic: Python decides everything.
// Message protocol: moodcam.browser.protocol (and the README's table).
"use strict";

(function (scope) {
  const inWorker = typeof WorkerGlobalScope !== "undefined" && scope instanceof WorkerGlobalScope;

  function loadScript(url) {
    if (inWorker) {
      importScripts(url);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${url}`));
      document.head.appendChild(script);
    });
  }

  function mark(name) {
    // Boot phases for bench/ (?bench=1 reads them back through the "query" message).
    try { performance.mark(`moodcam:${name}`); } catch (_) { /* marks are optional */ }
  }

  function coded(error, code) {
    return Object.assign(error instanceof Error ? error : new Error(String(error)), { code });
  }

  // createEngine(toPage): toPage(message, transfer) delivers a message to the page.
  // Returns {receive(message)}: the page's messages, queued until Python is ready.
  function createEngine(toPage) {
    let handler = null;
    const queue = [];
    const progress = (fraction, text) => toPage({ type: "ui", ops: [["progress", fraction, text]] });

    async function boot(start) {
      const base = start.base;
      const site = start.site;
      mark("engine-start");
      progress(0.08, "Loading TensorFlow.js…");
      try {
        await loadScript(base + site.tfjs + "tf.min.js");
        await loadScript(base + site.tfjs + "tf-backend-wasm.min.js");
      } catch (error) {
        throw coded(error, "tfjs");
      }
      mark("tfjs-loaded");
      progress(0.2, "Loading Python (Pyodide)…");
      let pyodide;
      try {
        await loadScript(base + site.pyodide + "pyodide.js");
        pyodide = await scope.loadPyodide({ indexURL: base + site.pyodide });
        mark("pyodide-loaded");
        progress(0.5, "Loading numpy…");
        await pyodide.loadPackage(["micropip", "numpy"], { messageCallback: () => {} });
      } catch (error) {
        throw coded(error, "pyodide");
      }
      mark("numpy-loaded");
      progress(0.62, "Installing moodcam…");
      try {
        const micropip = pyodide.pyimport("micropip");
        await micropip.install(base + site.wheel);
        micropip.destroy();
      } catch (error) {
        throw coded(error, "wheel");
      }
      mark("moodcam-installed");
      // For tests and a person at the console (in the worker's or the page's scope).
      scope.moodcam = Object.assign(scope.moodcam || {}, { pyodide, site, canvases: start.canvases });
      const engine = pyodide.pyimport("moodcam.browser.engine");
      handler = engine.start(start, (message, transfer) => toPage(message, transfer || []));
      engine.destroy();
      mark("python-started");
      while (queue.length) handler(queue.shift());
    }

    function receive(message) {
      if (message.type === "start") {
        boot(message).catch((error) => {
          console.error("moodcam engine failed to boot:", error);
          toPage({ type: "fatal", code: error.code || "python",
                   detail: String(error.message || error).split("\n").slice(-2).join(" ").slice(0, 300) });
        });
      } else if (handler === null) {
        queue.push(message);
      } else {
        handler(message);
      }
    }

    return { receive };
  }

  scope.moodcamEngine = { createEngine };
})(self);
