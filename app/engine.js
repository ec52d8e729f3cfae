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

  async function fetchWheel(base, site) {
    const response = await fetch(base + site.wheel);
    if (!response.ok) throw new Error(`${site.wheel}: HTTP ${response.status}`);
    return response.arrayBuffer();
  }

  function installWheel(pyodide, site, buffer) {
    // Checked with Python's hashlib (crypto.subtle is missing on insecure pages, e.g. a LAN
    // address over http), then unpacked straight into site-packages.
    pyodide.globals.set("_moodcam_wheel", new Uint8Array(buffer));
    const actual = pyodide.runPython(
      "import hashlib; _h = hashlib.sha256(_moodcam_wheel.to_bytes()).hexdigest(); del _moodcam_wheel; _h");
    const expected = String((site.files || {})[site.wheel]);
    if (actual !== expected) {
      throw new Error(`${site.wheel} has sha256 ${actual.slice(0, 12)}…, site.json says ${expected.slice(0, 12)}…`);
    }
    const sitePackages = pyodide.runPython("import sysconfig; sysconfig.get_paths()['purelib']");
    pyodide.unpackArchive(buffer, "zip", { extractDir: sitePackages });
    pyodide.runPython("import importlib; importlib.invalidate_caches()");
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
      // Everything that can overlap does: Pyodide's runtime and numpy download and compile
      // (asynchronously, off this thread) and the moodcam wheel downloads and is checked while
      // TF.js's scripts are read; the critical path is the slowest of them, not their sum.
      progress(0.1, "Loading Python and TensorFlow.js…");
      let pyodideReady;
      try {
        await loadScript(base + site.pyodide + "pyodide.js");
        pyodideReady = scope.loadPyodide({ indexURL: base + site.pyodide, packages: ["numpy"] })
          .then((py) => { mark("pyodide-loaded"); return py; });
      } catch (error) {
        throw coded(error, "pyodide");
      }
      pyodideReady.catch(() => {});          // reported below, where it is awaited
      const wheelReady = fetchWheel(base, site);
      wheelReady.catch(() => {});
      try {
        await loadScript(base + site.tfjs + "tf.min.js");
        await loadScript(base + site.tfjs + "tf-backend-wasm.min.js");
      } catch (error) {
        throw coded(error, "tfjs");
      }
      mark("tfjs-loaded");
      progress(0.4, "Loading Python (Pyodide)…");
      let pyodide;
      try {
        pyodide = await pyodideReady;
      } catch (error) {
        throw coded(error, "pyodide");
      }
      progress(0.62, "Installing moodcam…");
      try {
        // The wheel is a zip of pure Python: unpacked straight into site-packages once its
        // sha256 matches site.json (no micropip, no packaging to download).
        installWheel(pyodide, site, await wheelReady);
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
