// moodcam boot: the only JavaScript with behaviour. It loads the runtimes
// (TF.js, Pyodide), installs the moodcam wheel and hands over to Python
// (moodcam.browser.app.start). Everything after that — camera, models, the
// frame loop, the page — is Python. Failures before Python runs are shown here,
// because Python cannot show them.
"use strict";

(function () {
  const root = document.documentElement;
  const $ = (id) => document.getElementById(id);

  function progress(fraction, text) {
    const bar = $("load-progress");
    bar.value = Math.round(fraction * 100);
    bar.textContent = `${bar.value}%`;
    $("load-stage").textContent = text;
  }

  function fail(code, message, fix) {
    root.dataset.appState = "error";
    const box = $("error");
    box.dataset.errorCode = code;
    $("error-message").textContent = message;
    $("error-fix").textContent = fix;
    const action = $("error-action");
    action.textContent = "Reload the page";
    action.hidden = false;
    action.onclick = () => location.reload();
    box.hidden = false;
  }

  function loadScript(url) {
    return new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = url;
      script.onload = resolve;
      script.onerror = () => reject(new Error(`could not load ${url}`));
      document.head.appendChild(script);
    });
  }

  async function registerServiceWorker() {
    // Offline use after the first visit; never required. ?sw=0 leaves it out (tests of first loads).
    const params = new URLSearchParams(location.search);
    if (!("serviceWorker" in navigator) || params.get("sw") === "0") return;
    try {
      await navigator.serviceWorker.register("sw.js", { scope: "./" });
    } catch (error) {
      console.warn("moodcam: service worker not registered:", error);
    }
  }

  async function boot() {
    progress(0.02, "Reading the site description…");
    const siteResponse = await fetch("site.json", { cache: "no-cache" });
    if (!siteResponse.ok) throw Object.assign(new Error(`site.json: HTTP ${siteResponse.status}`), { code: "site" });
    const site = await siteResponse.json();

    progress(0.08, "Loading TensorFlow.js…");
    try {
      await loadScript(site.tfjs + "tf.min.js");
      await loadScript(site.tfjs + "tf-backend-wasm.min.js");
    } catch (error) {
      throw Object.assign(error, { code: "tfjs" });
    }

    progress(0.2, "Loading Python (Pyodide)…");
    let pyodide;
    try {
      await loadScript(site.pyodide + "pyodide.js");
      pyodide = await globalThis.loadPyodide({ indexURL: new URL(site.pyodide, location.href).href });
      progress(0.5, "Loading numpy…");
      await pyodide.loadPackage(["micropip", "numpy"], { messageCallback: () => {} });
    } catch (error) {
      throw Object.assign(error, { code: "pyodide" });
    }

    progress(0.62, "Installing moodcam…");
    try {
      const micropip = pyodide.pyimport("micropip");
      await micropip.install(new URL(site.wheel, location.href).href);
      micropip.destroy();
    } catch (error) {
      throw Object.assign(error, { code: "wheel" });
    }

    // Handy for tests and for a person poking at the console.
    globalThis.moodcam = { pyodide, site };
    progress(0.68, "Starting moodcam…");
    const app = pyodide.pyimport("moodcam.browser.app");
    await app.start(JSON.stringify(site));
    app.destroy();
  }

  const FIXES = {
    site: ["The site description (site.json) could not be read.",
           "Rebuild and redeploy the site (python3 build.py site), then reload."],
    tfjs: ["TensorFlow.js could not be loaded.",
           "The vendor/tfjs files are missing: rebuild and redeploy the site, then reload."],
    pyodide: ["Python (Pyodide) failed to load.",
              "Reload the page. If it keeps failing, the vendor/pyodide files are missing or damaged: rebuild and redeploy the site. A very old browser can also cause this."],
    wheel: ["The moodcam Python package could not be installed.",
            "The wheel under wheels/ is missing or damaged: rebuild and redeploy the site, then reload."],
    python: ["moodcam stopped with an unexpected error.",
             "Reload the page. If it happens again, please report it with the text below."],
  };

  registerServiceWorker();
  boot().catch((error) => {
    console.error("moodcam boot failed:", error);
    // Python shows its own failures; only those that escaped it land here.
    if (root.dataset.appState === "error") return;
    const code = error.code || "python";
    const [message, fix] = FIXES[code] || FIXES.python;
    fail(code, message, `${fix} (${String(error.message || error).split("\n").slice(-2).join(" ").slice(0, 300)})`);
  });
})();
