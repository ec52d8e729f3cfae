// moodcam engine glue: loads TF.js and Pyodide where the engine runs (a dedicated worker,
// app/worker.js, or the page itself when the browser lacks what the worker needs), installs
// the moodcam wheel and hands every message from the page to Python
// (moodcam.browser.engine). No application logic: Python decides everything.
// Message protocol: moodcam.browser.messages (it names every message; docs/architecture.md has the table).
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

  // Fetched bytes with their sha256 (hex), taken by crypto.subtle as soon as they arrive, while
  // Pyodide starts; where crypto.subtle is missing (an insecure page, e.g. a LAN address over
  // http), Python's hashlib takes it once Python runs (sha256 below).
  async function fetchChecked(url, label) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${label}: HTTP ${response.status}`);
    const buffer = await response.arrayBuffer();
    let digest = null;
    try {
      if (scope.crypto && scope.crypto.subtle) {
        const bytes = new Uint8Array(await scope.crypto.subtle.digest("SHA-256", buffer));
        digest = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      }
    } catch (_) { /* hashlib, below */ }
    return { buffer, digest };
  }

  function sha256(pyodide, fetched) {
    if (fetched.digest) return fetched.digest;
    pyodide.globals.set("_moodcam_bytes", new Uint8Array(fetched.buffer));
    return pyodide.runPython(
      "import hashlib; _h = hashlib.sha256(_moodcam_bytes.to_bytes()).hexdigest(); del _moodcam_bytes; _h");
  }

  // site-packages as Pyodide's file system set-up reports it (loadPyodide's fsInit, a pre-run
  // hook of a fresh start and of a snapshot restore alike), so Python need not import sysconfig.
  let sitePackagesDir = "";

  function sitePackages() {
    if (!sitePackagesDir) {
      throw new Error("Pyodide did not report its site-packages folder (fsInit): is vendor/pyodide the version site.json names?");
    }
    return sitePackagesDir;
  }

  function pyodideOptions(indexURL, extra) {
    return Object.assign({ indexURL, fsInit: (_fs, info) => { sitePackagesDir = info.sitePackages || ""; } },
                         extra);
  }

  function installWheel(pyodide, site, fetched) {
    // Checked against site.json, then unpacked straight into site-packages.
    const actual = sha256(pyodide, fetched);
    const expected = String((site.files || {})[site.wheel]);
    if (actual !== expected) {
      throw new Error(`${site.wheel} has sha256 ${actual.slice(0, 12)}…, site.json says ${expected.slice(0, 12)}…`);
    }
    pyodide.unpackArchive(fetched.buffer, "zip", { extractDir: sitePackages() });
    pyodide.runPython("import importlib; importlib.invalidate_caches()");
  }

  // Pyodide memory snapshot (return visits). Starting the interpreter (Python's own
  // initialisation and the import of its core modules) is most of Pyodide's start-up; a
  // snapshot of a freshly started interpreter's memory, kept in Cache Storage on this device,
  // restores it in a fraction of the time. The snapshot is made once, after the first visit's
  // start, by a short-lived worker of its own (app/snapshot.js): making one needs
  // loadPyodide's `_makeSnapshot`, which wraps every JS global in a proxy that native methods
  // refuse ("Illegal invocation"), so the engine's own interpreter cannot be the one. numpy
  // loads after the restore (Pyodide 0.27's snapshot is the wasm memory alone: the instances of
  // numpy's shared libraries cannot be in it), but the standard-library modules the app imports
  // are (moodcam.browser.preload). The cache name
  // holds the runtime's sha256s, so another Pyodide build never reads it (and Pyodide itself
  // refuses a snapshot of another build); one that fails to load is deleted and remade.
  // Only the worker engine uses snapshots; `?snapshot=0` turns them off for a visit.
  const SNAPSHOT_PREFIX = "pyodide-snapshot-";
  // When: Python decides (moodcam.browser.snapshot_timing: once the first answer has settled and
  // the device keeps up, or when the page is hidden) and calls moodcam.keepSnapshot(); at the
  // latest SNAPSHOT_LATEST_MS after Python starts, so a page whose camera never opens gets one
  // too. Making it costs a second interpreter start: on a slow device the first minute's frames
  // need that CPU (issue 26).
  const SNAPSHOT_LATEST_MS = 60000;

  function snapshotPlace(base, site) {
    // The name holds the sha256s of the runtime and of the moodcam wheel: the snapshot holds
    // moodcam's numpy-free modules imported (moodcam.browser.preload), so a new wheel needs a new one.
    const files = site.files || {};
    const made = ["pyodide.asm.wasm", "pyodide.asm.js", "python_stdlib.zip"].map((name) => site.pyodide + name);
    return {
      cache: SNAPSHOT_PREFIX + made.concat([site.wheel]).map((path) => String(files[path]).slice(0, 12)).join("-"),
      url: base + site.pyodide + "interpreter.snapshot",
    };
  }

  const SNAPSHOT_MAGIC = 1886286592;   // Pyodide 0.27's snapshot header (its own check comes later)
  const WASM_PAGE = 65536;

  function looksWhole(bytes) {
    // Checked before Pyodide sees it: a snapshot sets the interpreter's initial memory, and a
    // damaged one makes wasm instantiation fail in a way loadPyodide never reports (it hangs).
    if (bytes.byteLength < 16 || bytes.byteLength % 4) return false;
    const header = new Uint32Array(bytes.buffer, bytes.byteOffset, 4);
    const heap = bytes.byteLength - header[1];
    return header[0] === SNAPSHOT_MAGIC && header[1] < bytes.byteLength && heap > 0 && heap % WASM_PAGE === 0;
  }

  function damaged(place) {
    console.warn("moodcam: the Pyodide snapshot did not load (damaged); it is remade after this start.");
    return caches.delete(place.cache).catch(() => {});
  }

  async function findSnapshot(place) {
    // The kept response, or null. Its body is read while loadPyodide fetches and compiles the
    // runtime (readSnapshotBytes is handed to it as a promise), not before.
    try {
      return (await (await caches.open(place.cache)).match(place.url)) || null;
    } catch (_) {
      await damaged(place);
      return null;
    }
  }

  async function readSnapshotBytes(place, response) {
    let bytes = null;
    try { bytes = new Uint8Array(await response.arrayBuffer()); } catch (_) { /* unreadable: damaged */ }
    if (bytes && looksWhole(bytes)) return bytes;
    await damaged(place);
    throw new Error("damaged snapshot");
  }

  // wheelBytes: a promise of the moodcam wheel's bytes (checked by installWheel), or null where
  // there is none (the bench's Pyodide floor): the maker unpacks it to import moodcam's modules.
  function makeSnapshotLater(base, site, place, pyodide, wheelBytes) {
    let asked = false;
    const make = async () => {
      if (asked) return;
      asked = true;
      // The standard-library and moodcam modules this start imported (Python decides which
      // qualify: moodcam.browser.preload); the snapshot maker imports them before taking the
      // snapshot, so a return visit restores them instead of importing them on its critical path.
      let imports = [];
      let app = [];
      try {
        const preload = pyodide.pyimport("moodcam.browser.preload");
        imports = preload.stdlib_in_use().toJs();
        app = preload.app_modules_in_use().toJs();
      } catch (error) {
        console.warn("moodcam: snapshot without preloaded modules:", error);
      }
      const wheel = wheelBytes ? await wheelBytes : null;
      wheelBytes = null;                     // not kept once handed over
      const worker = new Worker(base + "app/snapshot.js");
      worker.onmessage = (event) => {
        if (event.data.error) console.warn("moodcam: no Pyodide snapshot kept:", event.data.error);
        else {
          // For tests and a person at the console: what the kept snapshot holds.
          scope.moodcam = Object.assign(scope.moodcam || {}, { snapshot: event.data });
          mark("snapshot-kept");
        }
        worker.terminate();
      };
      worker.postMessage({ indexURL: base + site.pyodide, cache: place.cache, url: place.url,
                           prefix: SNAPSHOT_PREFIX, imports,
                           app: wheel ? { modules: app, wheel, sitePackages: sitePackages() } : null });
    };
    scope.moodcam = Object.assign(scope.moodcam || {}, { keepSnapshot: make });
    setTimeout(make, SNAPSHOT_LATEST_MS);
  }

  // A promise that settles once this thread has run the tasks queued so far: loadPyodide's
  // first steps (it asks for the runtime's wasm, standard library and lock, and reads
  // pyodide.asm.js) before the caller goes on with a long synchronous task.
  function nextTask() {
    return new Promise((resolve) => setTimeout(resolve, 0));
  }

  // startPyodide(...).downloading settles when TF.js's scripts may take this thread: on a start
  // without a snapshot (a first visit) once Pyodide's runtime downloads have begun, so they run
  // while the scripts are read; when restoring a snapshot (everything comes from this device's
  // caches) at once, and the restore follows the scripts (measured: about 0.1 s sooner than
  // the other way round). .ready is the interpreter with numpy imported.
  function startPyodide(base, site, snapshots, wheelBytes = null) {
    let begin;
    const downloading = new Promise((resolve) => { begin = resolve; });
    const ready = runPyodide(base, site, snapshots, begin, wheelBytes);
    ready.then(begin, begin);
    return { downloading, ready };
  }

  async function runPyodide(base, site, snapshots, letScriptsRun, wheelBytes) {
    const indexURL = base + site.pyodide;
    const place = snapshotPlace(base, site);
    const saved = snapshots ? await findSnapshot(place) : null;
    let pyodide = null;
    if (saved) {
      mark("snapshot-read");
      letScriptsRun();
      await nextTask();
      try {
        pyodide = await scope.loadPyodide(pyodideOptions(indexURL, { _loadSnapshot: readSnapshotBytes(place, saved) }));
        mark("pyodide-from-snapshot");
      } catch (error) {
        console.warn("moodcam: the Pyodide snapshot did not load; starting without it.", error);
        await caches.delete(place.cache).catch(() => {});
      }
    }
    if (!pyodide) {
      const starting = scope.loadPyodide(pyodideOptions(indexURL));
      nextTask().then(letScriptsRun);
      pyodide = await starting;
      if (snapshots) makeSnapshotLater(base, site, place, pyodide, wheelBytes);
    }
    mark("pyodide-runtime");
    // numpy's wheel as the site ships it: what `import numpy` loads comes as bytecode
    // (moodcam_tools.site.pyc), so the import below compiles nothing.
    await pyodide.loadPackage("numpy");
    mark("numpy-loaded");
    pyodide.runPython("import numpy");    // here rather than inside moodcam's first import: its own phase
    mark("numpy-imported");
    return pyodide;
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
      let pyodideDownloading;
      // Settles once installWheel has checked the wheel's bytes: the snapshot maker gets only those.
      let wheelInstalled;
      const installedWheel = new Promise((resolve, reject) => { wheelInstalled = { resolve, reject }; });
      installedWheel.catch(() => {});
      const wheelReady = fetchChecked(base + site.wheel, site.wheel);
      wheelReady.catch(() => {});
      try {
        await loadScript(base + site.pyodide + "pyodide.js");
        const snapshots = inWorker && typeof caches !== "undefined" && (start.params || {}).snapshot !== "0";
        const started = startPyodide(base, site, snapshots, installedWheel.then((fetched) => fetched.buffer, () => null));
        pyodideDownloading = started.downloading;
        pyodideReady = started.ready.then((py) => { mark("pyodide-loaded"); return py; });
      } catch (error) {
        throw coded(error, "pyodide");
      }
      pyodideReady.catch(() => {});          // reported below, where it is awaited
      // TF.js's scripts hold this thread for a few hundred ms (importScripts is synchronous):
      // Pyodide's downloads start first, so they run meanwhile instead of after.
      await pyodideDownloading;
      try {
        await loadScript(base + site.tfjs + "tf.es2017.min.js");
        await loadScript(base + site.tfjs + "tf-backend-wasm.es2017.min.js");
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
        const fetched = await wheelReady;
        installWheel(pyodide, site, fetched);
        wheelInstalled.resolve(fetched);
      } catch (error) {
        wheelInstalled.reject(error);
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

  // startPyodide is exported for the bench's Pyodide floor (bench/pages/pyodide_floor_worker.js),
  // which measures this very start (snapshot restore, numpy) with nothing else beside it.
  scope.moodcamEngine = { createEngine, startPyodide };
})(self);
