// moodcam boot (page side): reads site.json, starts the engine (Pyodide + TF.js + the frame
// path) in a dedicated worker, or on this page where the browser lacks what the worker needs,
// and connects it to the page glue (app/page.js) and the camera (app/camera.js). Failures
// before Python runs are shown here, because Python cannot show them.
"use strict";

(function () {
  const root = document.documentElement;
  const $ = (id) => document.getElementById(id);

  function fail(code, message, fix, action) {
    root.dataset.appState = "error";
    const box = $("error");
    box.dataset.errorCode = code;
    $("error-message").textContent = message;
    $("error-fix").textContent = fix;
    const button = $("error-action");
    button.hidden = !action;
    if (action) {
      button.textContent = action;
      button.dataset.action = "reload";
      button.onclick = () => location.reload();
    }
    box.hidden = false;
  }

  // A first visit registers the service worker once the page has its first answer, at the latest after this.
  const SW_LATEST_MS = 20000;
  // The mood states (moodcam.mood.state) that are an answer; the app states where nothing runs.
  const ANSWERED = ["mood", "cant_tell", "no_face"];
  const STOPPED = ["error"];

  // The canvases the engine draws into (transferred to the worker as OffscreenCanvases).
  const CANVASES = ["overlay", "still", "bars", "timeline"];

  const FIXES = {
    site: ["The site description (site.json) could not be read.",
           "Rebuild and redeploy the site (python3 build.py site), then reload."],
    tfjs: ["TensorFlow.js could not be loaded.",
           "The vendor/tfjs files are missing: rebuild and redeploy the site, then reload."],
    pyodide: ["Python (Pyodide) failed to load.",
              "Reload the page. If it keeps failing, the vendor/pyodide files are missing or damaged: rebuild and redeploy the site. A very old browser can also cause this."],
    wheel: ["The moodcam Python package could not be installed.",
            "The wheel under wheels/ is missing or damaged: rebuild and redeploy the site, then reload."],
    worker: ["moodcam's background worker stopped.",
             "Reload the page. If it keeps happening, add ?worker=0 to the address to run everything on the page."],
    python: ["moodcam stopped with an unexpected error.",
             "Reload the page. If it happens again, please report it with the text below."],
  };

  function fatal(code, detail) {
    const [message, fix] = FIXES[code] || FIXES.python;
    fail(code, message, detail ? `${fix} (${detail})` : fix, "Reload the page");
  }

  // What the worker needs: a Worker, and canvases it can draw into (OffscreenCanvas handed over
  // with transferControlToOffscreen; TF.js's WebGL backend uses an OffscreenCanvas there too).
  function workerSupport() {
    if (typeof Worker !== "function") return "no Web Workers";
    if (typeof OffscreenCanvas !== "function") return "no OffscreenCanvas";
    if (!("transferControlToOffscreen" in HTMLCanvasElement.prototype)) return "no transferControlToOffscreen";
    return "";
  }

  function storedSettings() {
    const out = {};
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.startsWith("moodcam.")) out[key] = localStorage.getItem(key);
      }
    } catch (_) { /* storage disabled (private mode): defaults */ }
    return out;
  }

  function storedFacing(stored) {
    try { return JSON.parse(stored["moodcam.settings.v1"] || "{}").facing || ""; } catch (_) { return ""; }
  }

  function registerServiceWorker(params) {
    // Offline use after the first visit; never required. ?sw=0 leaves it out (tests of first loads).
    if (!("serviceWorker" in navigator) || params.get("sw") === "0") return;
    const register = () => navigator.serviceWorker.register("sw.js", { scope: "./" })
      .catch((error) => console.warn("moodcam: service worker not registered:", error));
    // A first visit: the service worker's precaching (every file a start needs, fetched, checked
    // and written to Cache Storage) would compete with this start for the network and the cores,
    // the first mood's dwell included, so it begins once the page has its first answer (a mood,
    // "can't tell" or no face), once the app has stopped (an error: nothing runs), or after
    // SW_LATEST_MS, whatever the app's state.
    if (navigator.serviceWorker.controller) return void register();
    let timer = 0;
    const observer = new MutationObserver(() => {
      if (ANSWERED.includes(root.dataset.moodState) || STOPPED.includes(root.dataset.appState)) begin();
    });
    function begin() {
      observer.disconnect();
      clearTimeout(timer);
      register();
    }
    observer.observe(root, { attributes: true, attributeFilter: ["data-app-state", "data-mood-state"] });
    timer = setTimeout(begin, SW_LATEST_MS);
  }

  async function boot() {
    if (location.protocol === "file:") {
      // fetch() of the site's own files is refused from the file system: say so at once.
      return fail("served", "moodcam has to be opened through a web server, not as a file.",
                  "Run `python3 build.py serve` and open the address it prints, or put the dist/ folder on any static host.");
    }
    const params = new URLSearchParams(location.search);
    registerServiceWorker(params);
    const unsupported = workerSupport();
    const inWorker = !unsupported && params.get("worker") !== "0";
    // The worker's scripts load while site.json is read; it waits for the "start" message.
    const worker = inWorker ? new Worker("app/worker.js") : null;
    if (worker) worker.onerror = (event) => fatal("worker", String(event.message || "").slice(0, 300));
    const siteResponse = await fetch("site.json", { cache: "no-cache" }).catch(() => null);
    if (!siteResponse || !siteResponse.ok) {
      if (worker) worker.terminate();
      return fatal("site", siteResponse ? `HTTP ${siteResponse.status}` : "");
    }
    const site = await siteResponse.json();

    root.dataset.engine = inWorker ? "worker" : "page";
    root.dataset.engineReason = inWorker ? "" : (unsupported || "?worker=0");
    const start = {
      type: "start", site, base: new URL(".", location.href).href, href: location.href,
      params: Object.fromEntries(params), stored: storedSettings(), engine: root.dataset.engine,
      hidden: document.visibilityState === "hidden", bench: params.get("bench") === "1",
    };

    // The page glue and the camera first (the camera starts at once), then, as a task of its own,
    // the engine: each stays a short run of script on the main thread. Messages for the engine
    // wait in `queued` until it exists.
    let page = null;
    let toEngine = null;
    const queued = [];
    const send = (message, transfer) => (toEngine ? toEngine(message, transfer) : queued.push([message, transfer]));
    const fromEngine = (message) => {
      if (message.type === "fatal") return fatal(message.code, message.detail);
      return page.receive(message);
    };
    const camera = window.moodcamCamera.createCamera($("video"), send);
    const video = window.moodcamVideo.createVideoDecoder($("video-decoder"), send);
    page = window.moodcamPage.createPage(send, camera, video);
    // The picture shows while the engine starts (Python asks for the same camera, and gets it).
    camera.openEarly(params.get("facing") || storedFacing(start.stored) || "user");
    window.moodcam = Object.assign(window.moodcam || {}, { query: page.query, stats: page.stats });
    // For tests and the console: tensors, proxies, Python objects, timings (a Promise of JSON);
    // moodcam.stats() the same as an object, with the browser's measure of the whole page.
    window.moodcamDiagnostics = () => page.query("diagnostics");
    await new Promise((resolve) => setTimeout(resolve, 0));

    if (worker) {
      worker.onmessage = (event) => fromEngine(event.data);
      start.canvases = {};
      for (const id of CANVASES) start.canvases[id] = $(id).transferControlToOffscreen();
      window.moodcam = Object.assign(window.moodcam, { worker });
      worker.postMessage(start, Object.values(start.canvases));
      toEngine = (message, transfer) => worker.postMessage(message, transfer || []);
    } else {
      await new Promise((resolve, reject) => {
        const script = Object.assign(document.createElement("script"), { src: "app/engine.js" });
        script.onload = resolve;
        script.onerror = () => reject(Object.assign(new Error("could not load app/engine.js"), { code: "site" }));
        document.head.appendChild(script);
      });
      // Same protocol, delivered on this thread (asynchronously, as a worker's would be).
      const engine = window.moodcamEngine.createEngine((message) => queueMicrotask(() => fromEngine(message)));
      start.canvases = Object.fromEntries(CANVASES.map((id) => [id, $(id)]));
      queueMicrotask(() => engine.receive(start));
      toEngine = (message) => queueMicrotask(() => engine.receive(message));
    }
    for (const [message, transfer] of queued.splice(0)) toEngine(message, transfer);
  }

  boot().catch((error) => {
    console.error("moodcam boot failed:", error);
    if (root.dataset.appState === "error") return;
    fatal(error.code || "python", String(error.message || error).slice(0, 300));
  });
})();
