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

  // A wheel is a zip, and the site packs its wheels stored (moodcam_tools.site: no compression
  // inside; the transfer is compressed), so each member is a byte range of the fetched buffer.
  // unpackWheel writes them into Pyodide's file system from here, each file a view of that buffer
  // (MEMFS keeps the view it is given with canOwn: no copy). Pyodide's own unpacking
  // (unpackArchive, loadPackage) runs Python's zipfile in wasm: the archive copied into a
  // temporary file, each member read in 64 KB pieces, its CRC computed and written into a file
  // grown piece by piece (issue 26's traces: about 0.1 CPU-s for numpy's 11 MB).
  const ZIP_END = 0x06054b50;
  const ZIP_ENTRY = 0x02014b50;
  const ZIP_LOCAL = 0x04034b50;

  // The members of a zip whose every member is stored ([{name, start, size}]), or null for any
  // other zip (compressed, zip64, a name that leaves the folder): unpackWheel then leaves it to
  // Pyodide. Nothing is written before the whole directory has been read.
  function storedMembers(bytes) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let end = bytes.byteLength - 22;                  // the end record, after any archive comment
    while (end >= 0 && view.getUint32(end, true) !== ZIP_END) end--;
    if (end < 0) return null;
    const count = view.getUint16(end + 10, true);
    let at = view.getUint32(end + 16, true);
    const names = new TextDecoder();
    const members = [];
    for (let i = 0; i < count; i++) {
      if (at + 46 > bytes.byteLength || view.getUint32(at, true) !== ZIP_ENTRY) return null;
      const method = view.getUint16(at + 10, true);
      const packed = view.getUint32(at + 20, true);
      const size = view.getUint32(at + 24, true);
      const nameLength = view.getUint16(at + 28, true);
      const local = view.getUint32(at + 42, true);
      const name = names.decode(bytes.subarray(at + 46, at + 46 + nameLength));
      at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
      if (method !== 0 || packed !== size || !name || name.startsWith("/") || name.split("/").includes("..")) return null;
      if (local + 30 > bytes.byteLength || view.getUint32(local, true) !== ZIP_LOCAL) return null;
      const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
      if (start + size > bytes.byteLength) return null;
      members.push({ name, start, size });
    }
    return members;
  }

  // Python's import system lists a folder once and keeps the list, so the finders of the folder
  // written to must forget theirs. Not importlib.invalidate_caches(): that also makes every
  // zipimporter of python_stdlib.zip read the archive's directory again, in Python (70-90 ms of
  // a start each time, and loadPackage calls it too). The function runs and goes: nothing is
  // left in the interpreter's globals.
  function refreshFinders(pyodide, folder) {
    pyodide.runPython(`
def _moodcam_refresh_finders(folder):
    import sys
    for path, finder in list(sys.path_importer_cache.items()):
        if finder is not None and (path == folder or path.startswith(folder + "/")):
            finder.invalidate_caches()
    metadata = sys.modules.get("importlib.metadata")
    if metadata is not None:
        metadata.MetadataPathFinder.invalidate_caches()
_moodcam_refresh_finders(${JSON.stringify(folder)})
del _moodcam_refresh_finders
`);
  }

  function unpackWheel(pyodide, buffer, folder) {
    const bytes = new Uint8Array(buffer);
    const members = storedMembers(bytes);
    if (members === null) {
      pyodide.unpackArchive(buffer, "zip", { extractDir: folder });
    } else {
      const made = new Set();
      for (const { name, start, size } of members) {
        const path = `${folder}/${name}`;
        const parent = name.endsWith("/") ? path.slice(0, -1) : path.slice(0, path.lastIndexOf("/"));
        if (!made.has(parent)) {
          pyodide.FS.mkdirTree(parent);
          made.add(parent);
        }
        if (!name.endsWith("/")) pyodide.FS.writeFile(path, bytes.subarray(start, start + size), { canOwn: true });
      }
    }
    refreshFinders(pyodide, folder);
  }

  function checkAgainstSite(pyodide, site, path, fetched) {
    const actual = sha256(pyodide, fetched);
    const expected = String((site.files || {})[path]);
    if (actual !== expected) {
      throw new Error(`${path} has sha256 ${actual.slice(0, 12)}…, site.json says ${expected.slice(0, 12)}…`);
    }
  }

  function installWheel(pyodide, site, fetched) {
    // Checked against site.json, then unpacked straight into site-packages.
    checkAgainstSite(pyodide, site, site.wheel, fetched);
    unpackWheel(pyodide, fetched.buffer, sitePackages());
  }

  // numpy's wheel as the site ships it (site.json's "numpy_wheel": the wheel Pyodide's lock names,
  // with its start-up bytecode; moodcam_tools.site), fetched and hashed while the interpreter starts.
  function fetchNumpy(base, site) {
    const fetching = site.numpy_wheel
      ? fetchChecked(base + site.numpy_wheel, site.numpy_wheel)
      : Promise.reject(new Error("site.json names no numpy_wheel: build the site again (python3 build.py site)"));
    fetching.catch(() => {});                 // reported where it is awaited
    return fetching;
  }

  // Installed like moodcam's wheel instead of by loadPackage: no Python unpacking, and numpy's 19
  // shared libraries are not all linked up front: Python's import opens each one it imports
  // (`import numpy` 3 of them), compiled and linked then. Pyodide's package manager is told numpy
  // is in, so a later loadPackage of a package that needs it does not unpack it a second time.
  async function installNumpy(pyodide, site, fetching) {
    const fetched = await fetching;
    checkAgainstSite(pyodide, site, site.numpy_wheel, fetched);
    unpackWheel(pyodide, fetched.buffer, sitePackages());
    pyodide.loadedPackages.numpy = "default channel";   // the lock's own wheel, as loadPackage records it
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
    let numpyFetching = null;
    if (saved) {
      mark("snapshot-read");
      letScriptsRun();
      numpyFetching = fetchNumpy(base, site);
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
      // After the runtime's own requests: on a first visit they come first on the network.
      await nextTask();
      letScriptsRun();
      if (numpyFetching === null) numpyFetching = fetchNumpy(base, site);
      pyodide = await starting;
      if (snapshots) makeSnapshotLater(base, site, place, pyodide, wheelBytes);
    }
    mark("pyodide-runtime");
    // numpy's wheel as the site ships it: what `import numpy` loads comes as bytecode
    // (moodcam_tools.site.pyc), so the import below compiles nothing.
    await installNumpy(pyodide, site, numpyFetching);
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
  // which measures this very start (snapshot restore, numpy) with nothing else beside it;
  // unpackWheel for the snapshot maker (app/snapshot.js), storedMembers for tests.
  scope.moodcamEngine = { createEngine, startPyodide, unpackWheel, storedMembers };
})(self);
