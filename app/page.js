// moodcam page glue: applies Python's DOM patches ("ui" messages), turns the controls into
// small messages for the engine, and carries out the few things only the page can do
// (storage, navigation, opening the file picker). No application logic: Python decides.
// The op vocabulary and the message table: moodcam.browser.messages (docs/architecture.md).
"use strict";

(function () {
  const root = document.documentElement;
  const $ = (id) => document.getElementById(id);

  function listItems(list, texts) {
    const same = list.children.length === texts.length &&
      texts.every((t, i) => list.children[i].textContent === t);
    if (same) return;
    list.replaceChildren(...texts.map((t) => Object.assign(document.createElement("li"), { textContent: t })));
  }

  const OPS = {
    text: (id, value) => { const n = $(id); if (n && n.textContent !== value) n.textContent = value; },
    data: (key, value) => { root.dataset[key] = value; },
    eldata: (id, key, value) => { const n = $(id); if (n) n.dataset[key] = value; },
    hidden: (id, value) => { const n = $(id); if (n) n.hidden = value; },
    prop: (id, name, value) => { const n = $(id); if (n) n[name] = value; },
    attr: (id, name, value) => { const n = $(id); if (n) n.setAttribute(name, value); },
    style: (id, name, value) => { const n = $(id); if (n) n.style.setProperty(name, value); },
    cls: (id, name, on) => { const n = $(id); if (n) n.classList.toggle(name, on); },
    items: (id, texts) => { const n = $(id); if (n) listItems(n, texts); },
    options: (id, options, selected) => {
      const select = $(id);
      if (!select) return;
      select.replaceChildren(...options.map(([value, text]) => Object.assign(document.createElement("option"),
        { value, textContent: text })));
      select.value = selected;
    },
    legend: (id, entries) => {
      const list = $(id);
      if (!list) return;
      list.replaceChildren(...entries.map((e) => {
        const li = document.createElement("li");
        li.dataset.part = e.name;
        const swatch = Object.assign(document.createElement("span"), { className: "part-swatch" });
        swatch.setAttribute("aria-hidden", "true");
        swatch.style.backgroundColor = e.color;
        swatch.style.borderColor = e.color;
        li.append(swatch, document.createTextNode(e.label));
        return li;
      }));
    },
    table: (id, head, rows) => {
      // A report's table (moodcam.browser.video_view): header cells, then rows of texts, strips,
      // images or buttons (the cell kinds: moodcam.browser.messages UI_OPS).
      const table = $(id);
      if (!table) return;
      const cell = (tag, value) => {
        const node = document.createElement(tag);
        if (typeof value === "string") { node.textContent = value; return node; }
        if ("image" in value) {
          if (value.image) node.append(Object.assign(document.createElement("img"), { src: value.image, alt: value.alt }));
          else node.textContent = "–";
          return node;
        }
        if ("button" in value) {
          const button = Object.assign(document.createElement("button"), { textContent: value.button });
          button.setAttribute("type", "button");
          if ("seek" in value) button.dataset.seekTime = value.seek;
          if ("pressed" in value) button.setAttribute("aria-pressed", value.pressed ? "true" : "false");
          node.append(button);
          return node;
        }
        const strip = Object.assign(document.createElement("div"), { className: "strip" });
        strip.setAttribute("aria-hidden", "true");
        if ("from" in value) Object.assign(strip.dataset, { seekFrom: value.from, seekTo: value.to });
        for (const [from, to, colour, label] of value.spans) {
          const span = Object.assign(document.createElement("span"), { title: label });
          span.style.left = `${(100 * from).toFixed(2)}%`;
          span.style.width = `${Math.max(0.2, 100 * (to - from)).toFixed(2)}%`;
          span.style.backgroundColor = colour;
          strip.append(span);
        }
        node.append(strip, Object.assign(document.createElement("span"), { className: "sr-only", textContent: value.text }));
        return node;
      };
      const headRow = document.createElement("tr");
      headRow.append(...head.map((text) => Object.assign(cell("th", text), { scope: "col" })));
      const body = document.createElement("tbody");
      body.append(...rows.map((row) => {
        const tr = document.createElement("tr");
        const cells = Array.isArray(row) ? row : row.cells;
        if (!Array.isArray(row)) { tr.dataset.face = row.face; tr.classList.toggle("chosen", row.chosen); }
        tr.append(...cells.map((value, i) => (i === 0 ? Object.assign(cell("th", value), { scope: "row" }) : cell("td", value))));
        return tr;
      }));
      const thead = document.createElement("thead");
      thead.append(headRow);
      table.replaceChildren(thead, body);
    },
    svg: (id, markup) => {
      // An SVG drawn by Python (moodcam.video_chart; its text escaped there), parsed in an inert document
      // (no script runs): the HTML parser puts <svg> in the SVG namespace, so the markup names no
      // namespace address. Anything but one <svg> element is dropped.
      const n = $(id);
      if (!n) return;
      const svg = markup ? new DOMParser().parseFromString(markup, "text/html").body.firstElementChild : null;
      n.replaceChildren(...(svg instanceof SVGSVGElement ? [document.importNode(svg, true)] : []));
    },
    focus: (id) => { const n = $(id); if (n) n.focus(); },
    progress: (fraction, text) => {
      const bar = $("load-progress");
      bar.value = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
      bar.textContent = `${bar.value}%`;
      $("load-stage").textContent = text;
    },
  };

  // The browser's offer to install the app (Chromium's beforeinstallprompt, once the manifest,
  // icons and service worker qualify): kept and shown as the "Install app" button, which asks.
  function offerInstall() {
    const button = $("install-app");
    let offer = null;
    window.addEventListener("beforeinstallprompt", (event) => {
      event.preventDefault();           // our button rather than the browser's own banner
      offer = event;
      button.hidden = false;
    });
    button.addEventListener("click", () => {
      const chosen = offer;
      offer = null;
      button.hidden = true;
      if (chosen) chosen.prompt().catch((error) => console.warn("moodcam: install prompt failed:", error));
    });
    window.addEventListener("appinstalled", () => { offer = null; button.hidden = true; });
  }
  offerInstall();

  // The whole page's memory as the browser measures it: this page, the engine's worker and their
  // wasm memories. Only on a cross-origin-isolated page, and Chromium answers at its next garbage
  // collection (up to about 20 s later).
  const AGENT_MEMORY = typeof performance.measureUserAgentSpecificMemory === "function" && self.crossOriginIsolated;
  async function agentMemory() {
    if (!AGENT_MEMORY) {
      return { agentBytes: null, agentNote: "not measured: needs measureUserAgentSpecificMemory on a cross-origin-isolated page" };
    }
    try {
      return { agentBytes: (await performance.measureUserAgentSpecificMemory()).bytes, agentNote: "" };
    } catch (error) {
      return { agentBytes: null, agentNote: `not measured: ${String(error.message || error).slice(0, 200)}` };
    }
  }

  // The HUD's "all memory" row, read every AGENT_EVERY_MS while the figures show (the engine's
  // own rows come from Python).
  const AGENT_EVERY_MS = 30000;
  function watchAgentMemory() {
    const row = $("hud-agent-memory");
    if (!AGENT_MEMORY) return void (row.textContent = "not measured here");
    const measure = async () => {
      if (!$("hud").hidden && document.visibilityState === "visible" && root.dataset.appState === "running") {
        const { agentBytes } = await agentMemory();
        if (agentBytes !== null) row.textContent = `${(agentBytes / 1e6).toFixed(1)} MB`;
      }
      setTimeout(measure, AGENT_EVERY_MS);
    };
    setTimeout(measure, AGENT_EVERY_MS / 3);
  }

  function apply(ops) {
    for (const [op, ...args] of ops) {
      const fn = OPS[op];
      if (fn) fn(...args);
      else console.warn("moodcam: unknown ui op", op);
    }
  }

  function createPage(send, camera, video) {
    const preview = window.moodcamVideo.createVideoPreview($("video-preview"));   // the report's preview (app/video.js)
    const CONTROLS = [
      // [element id, event, what the engine is told]
      ["cadence", "input", (e) => ["detect_every", Number(e.target.value)]],
      ["threshold", "input", (e) => ["threshold", Number(e.target.value)]],
      ["backend-select", "change", (e) => ["backend", e.target.value]],
      ["range-select", "change", (e) => ["range", e.target.value]],
      ["model-select", "change", (e) => ["model", e.target.value]],
      ["show-boxes", "change", (e) => ["show_boxes", e.target.checked]],
      ["show-keypoints", "change", (e) => ["show_keypoints", e.target.checked]],
      ["show-hud", "change", (e) => ["show_hud", e.target.checked]],
      ["show-bars", "change", (e) => ["show_bars", e.target.checked]],
      ["show-parts", "change", (e) => ["show_parts", e.target.checked]],
      ["show-mesh-points", "change", (e) => ["show_mesh_points", e.target.checked]],
    ];
    for (const [id, event, read] of CONTROLS) {
      const node = $(id);
      if (!node) continue;
      node.addEventListener(event, (e) => {
        const [name, value] = read(e);
        send({ type: "control", name, value });
      });
    }
    $("start-stop").addEventListener("click", () => send({ type: "command", name: "start-stop" }));
    $("switch-camera").addEventListener("click", () => send({ type: "command", name: "switch-camera" }));
    $("save-session").addEventListener("click", () => send({ type: "command", name: "save-session" }));
    $("video-cancel").addEventListener("click", () => send({ type: "command", name: "video-cancel" }));
    $("video-export-csv").addEventListener("click", () => send({ type: "command", name: "video-export-csv" }));
    $("video-export-summary").addEventListener("click", () => send({ type: "command", name: "video-export-summary" }));
    $("video-export-json").addEventListener("click", () => send({ type: "command", name: "video-export-json" }));
    // The question asked when another video is chosen during an analysis; Escape keeps analysing.
    $("video-confirm-keep").addEventListener("click", () => send({ type: "command", name: "video-keep" }));
    $("video-confirm-switch").addEventListener("click", () => send({ type: "command", name: "video-switch" }));
    $("video-confirm").addEventListener("keydown", (e) => {
      if (e.key === "Escape") send({ type: "command", name: "video-keep" });
    });
    // The report: a moment (a seek button, or a click along a strip or the chart: its data-seek-from/-to
    // in seconds) or a face's row; Python decides what follows.
    $("video-report").addEventListener("click", (e) => {
      const at = e.target.closest("[data-seek-time]");
      if (at) return send({ type: "video", event: "seek", time: Number(at.dataset.seekTime) });
      const along = e.target.closest("[data-seek-from]");
      if (along) {
        const box = along.getBoundingClientRect();
        const fraction = Math.max(0, Math.min(1, (e.clientX - box.left) / Math.max(box.width, 1)));
        const from = Number(along.dataset.seekFrom);
        return send({ type: "video", event: "seek", time: from + fraction * (Number(along.dataset.seekTo) - from) });
      }
      const row = e.target.closest("tr[data-face]");
      if (row) send({ type: "video", event: "face", face: Number(row.dataset.face) });
      return undefined;
    });
    $("error-action").addEventListener("click", (e) =>
      send({ type: "command", name: "action", action: e.currentTarget.dataset.action || "" }));

    // Teach mode and calibrations: the page reads its own form fields; Python decides everything.
    const teach = (cmd, extra) => send(Object.assign({ type: "teach", cmd }, extra || {}));
    $("teach-start").addEventListener("click", () => teach("start", {
      moods: [...document.querySelectorAll('input[name="teach-mood"]:checked')].map((box) => box.value) }));
    $("teach-record").addEventListener("click", () => teach("record"));
    $("teach-cancel").addEventListener("click", () => teach("cancel"));
    $("teach-discard").addEventListener("click", () => teach("discard"));
    $("teach-accept").addEventListener("click", () => teach("accept", { name: $("teach-name").value }));
    const calibration = (cmd, extra) => send(Object.assign({ type: "calibration", cmd,
      id: $("calibration-select").value }, extra || {}));
    $("calibration-select").addEventListener("change", () => calibration("use"));
    $("calibration-rename").addEventListener("click", () => calibration("rename", { name: $("calibration-name").value }));
    $("calibration-delete").addEventListener("click", () => calibration("delete"));
    $("calibration-export").addEventListener("click", () => calibration("export"));
    $("calibration-file").addEventListener("change", (e) => {
      // The chosen file goes to the engine as it is (like a photo), read there: nothing is uploaded.
      const file = e.target.files && e.target.files[0];
      if (file) calibration("import", { file, name: file.name || "the file" });
      e.target.value = "";
    });

    const photo = (file) => { if (file) send({ type: "photo", file, name: file.name || "photo" }); };
    $("photo-input").addEventListener("change", (e) => {
      photo(e.target.files && e.target.files[0]);
      e.target.value = "";
    });
    // A video file goes to the engine as it is (read on this device, never uploaded); Python decides.
    const videoFile = (file) => { if (file) send({ type: "video", event: "chosen", file, name: file.name || "video" }); };
    $("video-file").addEventListener("change", (e) => {
      videoFile(e.target.files && e.target.files[0]);
      e.target.value = "";
    });
    const view = $("view");
    view.addEventListener("dragover", (e) => { e.preventDefault(); view.classList.add("dragging"); });
    view.addEventListener("dragleave", () => view.classList.remove("dragging"));
    view.addEventListener("drop", (e) => {
      e.preventDefault();
      view.classList.remove("dragging");
      const file = e.dataTransfer && e.dataTransfer.files[0];
      if (file && String(file.type).startsWith("video/")) videoFile(file);
      else photo(file);
    });
    document.addEventListener("visibilitychange", () =>
      send({ type: "visibility", hidden: document.visibilityState === "hidden" }));

    const pending = new Map();
    let nextId = 1;
    function query(what) {
      // Diagnostics and bench figures from the engine, as a JSON string.
      const id = nextId++;
      return new Promise((resolve) => {
        pending.set(id, resolve);
        send({ type: "query", id, what });
      });
    }

    // moodcam.stats(): one object, the engine's diagnostics (tensors, Python heap, wasm memories:
    // py/moodcam/browser/queries.py says what each is) and the page's agentBytes / agentNote.
    async function stats() {
      const [engine, agent] = await Promise.all([query("diagnostics").then(JSON.parse), agentMemory()]);
      return Object.assign(engine, agent);
    }
    watchAgentMemory();

    function receive(message) {
      switch (message.type) {
        case "ui": return apply(message.ops);
        case "camera":
          if (message.cmd === "open") return camera.open(message.facing, message.clock);
          if (message.cmd === "close") return camera.close();
          if (message.cmd === "frame") return camera.frame();
          return undefined;
        case "video": video.receive(message); return preview.receive(message);
        case "store":
          try { localStorage.setItem(message.key, message.value); } catch (_) { /* storage off: not kept */ }
          return undefined;
        case "go":
          if (message.cmd === "reload") return location.reload();
          if (message.cmd === "navigate") return location.assign(message.href);
          if (message.cmd === "pick-photo") return $("photo-input").click();
          return undefined;
        case "download": {
          // A file made by Python on this device, saved by the browser: nothing is uploaded.
          const url = URL.createObjectURL(new Blob([message.text], { type: message.mime }));
          const a = Object.assign(document.createElement("a"), { href: url, download: message.name });
          document.body.appendChild(a);
          a.click();
          a.remove();
          setTimeout(() => URL.revokeObjectURL(url), 10000);
          return undefined;
        }
        case "reply": {
          const resolve = pending.get(message.id);
          pending.delete(message.id);
          if (resolve) resolve(message.json);
          return undefined;
        }
        default:
          console.warn("moodcam: unknown message from the engine", message.type);
          return undefined;
      }
    }

    return { receive, query, stats };
  }

  window.moodcamPage = { createPage, apply };
})();
