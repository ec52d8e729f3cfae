"""The benchmark run: clips x backends x pipelines in headless Debian Chromium, one server.

Pipelines (same clip, same backend, same browser, one after another):
  ours-equal      the app (index.html) as shipped: the engine in its worker, detector + emotion net every frame
  ours-equal-page the same with `?worker=0`: the very same engine code on the page's main thread (the fallback)
  ours-default    the app (worker) with its default cadence (detector every 3rd frame, emotion every 2nd per face)
  ours-far        ours-equal with `?range=far`: BlazeFace full range (192 px) instead of short range (issue 12)
  floor-*         bench/pages/floor.js: the same models, frame read and TF.js preprocessing in plain JS
  human-*         @vladmandic/human 3.3.6, face detector + emotion only (equal: no skipping/caching)
  mediapipe       @mediapipe/tasks-vision FaceDetector, same .tflite (CPU delegate on wasm, GPU on webgl)
  ours-parts      the app in face-parts mode (`?parts=1`): FaceMesh tracks the faces, the detector runs
                  when the tracker asks; on PARTS_CLIPS, every backend (issue 7)

The app is measured only through the hooks it offers (nothing is patched): with `?bench=1` its
PerfMeter keeps every frame's FrameTimes, read with `await window.moodcam.query("bench")`; boot
phases are `performance.mark`s in the engine's scope (the worker's timeline, or the page's with
`?worker=0`) plus PerfMeter's own marks; first frame / first mood are the page's `data-*` attributes.

Every page is driven by the same clock as the app's `clock=raf` setting: requestAnimationFrame,
one frame in flight at a time, so fps figures share one scheduling model.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import report
from .site import REPO, BenchError, Traffic, assemble, build_dist, peer_versions, serving

CLIPS = {"one_face": "astronaut", "two_faces": "two_faces", "no_face": "coffee"}
APP_DEFAULT_CADENCE = (3, 2)   # py/moodcam/browser/settings.py: detect_every, emotion_every
PIPELINES = ["ours-equal", "ours-equal-page", "ours-far", "floor-equal", "human-equal", "mediapipe", "ours-default",
             "floor-default", "human-default", "ours-parts"]
# Face-parts mode runs on these clips on every backend (webgl included), apart from --clips/--webgl-clips.
PARTS_PIPELINES = {"ours-parts"}
PARTS_CLIPS = ["one_face", "two_faces"]
ENGINES = ("worker", "page")
# Cold start also measures, in the same run, a peer: human's own page (bench/pages/human.html, its
# default skipping, as a user meets it), to its first face with an emotion; and our floor:
# Pyodide and numpy started by the engine's own code with nothing beside them
# (bench/pages/pyodide_floor.html), to numpy imported.
COLD_ENGINES = ("worker", "page", "human", "pyodide-floor")
EXTRA_FLAGS = ["--enable-precise-memory-info", "--autoplay-policy=no-user-gesture-required"]
CPU_THROTTLE = 4

# Installed before the page's own scripts: when each app state / data attribute first appears on
# the page (page clock, ms since navigation), and the page's main-thread long tasks (> 50 ms).
# It reads the page; it changes nothing of it.
PAGE_OBSERVER = r"""
(() => {
  if (window.top !== window) return;
  const marks = [];
  const longTasks = [];
  window.__benchMarks = marks;
  window.__benchLongTasks = longTasks;
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) longTasks.push([e.startTime, e.duration]);
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { /* no long task API */ }
  const seen = {};
  function check() {
    const t = performance.now();
    const root = document.documentElement;
    const stage = document.getElementById("load-stage");
    const items = [["stage", stage ? stage.textContent : ""]];
    if (root && root.dataset) {
      items.push(["appState", root.dataset.appState || ""], ["frames", root.dataset.frames ? "n" : ""],
                 ["moodState", root.dataset.moodState || ""], ["backend", root.dataset.backend || ""],
                 ["engine", root.dataset.engine || ""]);
    }
    for (const [k, v] of items) {
      if (v && seen[k] !== v) { seen[k] = v; marks.push([t, k, v]); }
    }
  }
  new MutationObserver(check).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();
"""


@dataclass
class Options:
    backends: list[str]
    clips: list[str]
    frames: int = 100
    warmup: int = 15
    webgl_frames: int = 12
    webgl_warmup: int = 3
    webgl_clips: list[str] = field(default_factory=lambda: ["one_face"])
    parts_clips: list[str] = field(default_factory=lambda: list(PARTS_CLIPS))
    pipelines: list[str] = field(default_factory=lambda: list(PIPELINES))
    cold: bool = True
    cold_engines: list[str] = field(default_factory=lambda: list(COLD_ENGINES))
    webgl_cold_engines: list[str] = field(default_factory=lambda: ["worker"])
    cold_throttle: bool = True
    cold_repeats: int = 3
    ab_rounds: int = 3
    note: str = ""
    core_frames: int = 2000
    dist: Path | None = None
    out: Path = REPO / "bench" / "results"
    keep_raw: bool = False
    page_timeout: float = 180.0


class LoadSampler:
    """The 1-minute load average every 30 s while the bench runs (the machine is shared)."""

    def __init__(self, every: float = 30.0) -> None:
        import threading

        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _run(self, every: float) -> None:
        while not self._stop.is_set():
            self.samples.append(round(os.getloadavg()[0], 2))
            self._stop.wait(every)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def chromium_version() -> str:
    from tests.support.browser import CHROMIUM

    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def make_clips(names: list[str]) -> dict[str, Path]:
    from tests.fixtures.cameras import camera_file

    folder = REPO / "build" / "bench" / "cameras"
    folder.mkdir(parents=True, exist_ok=True)
    return {name: camera_file(CLIPS[name], folder)[0] for name in names}


# -- waiting on pages -------------------------------------------------------------------------

def wait_for(page, js: str, timeout: float, what: str, poll: float = 0.5):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = page.evaluate(js)
        if value:
            return value
        time.sleep(poll)
    raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")


def _app_error(page) -> str:
    return page.evaluate("""() => { const r = document.documentElement.dataset;
        const e = document.getElementById('error');
        return r.appState === 'error' || (e && !e.hidden) ?
            (document.getElementById('error-message') || {}).textContent + ' ' +
            (document.getElementById('error-fix') || {}).textContent : ''; }""")


def renderer_label(page) -> str:
    return page.evaluate("""() => { const c = document.createElement('canvas'); const gl = c.getContext('webgl2');
        if (!gl) return 'no WebGL2'; const d = gl.getExtension('WEBGL_debug_renderer_info');
        const r = d ? gl.getParameter(d.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
        const l = gl.getExtension('WEBGL_lose_context'); if (l) l.loseContext(); return String(r); }""")


# In the engine's scope (the worker, or the page with ?worker=0): TF.js and Pyodide live there.
ENGINE_MEMORY = """() => { const out = {};
    if (self.gc) self.gc();
    if (self.tf) { const m = tf.memory(); out.tf_num_tensors = m.numTensors; out.tf_num_bytes = m.numBytes;
      if (m.numBytesInGPU !== undefined) out.tf_num_bytes_gpu = m.numBytesInGPU;
      try { const b = tf.backend(); if (b && b.wasm && b.wasm.HEAPU8) out.tfjs_wasm_memory = b.wasm.HEAPU8.buffer.byteLength; } catch (e) {} }
    try { out.pyodide_wasm_memory = self.moodcam.pyodide._module.HEAPU8.buffer.byteLength; } catch (e) {}
    if (self.performance && performance.memory) out.engine_js_heap_used = performance.memory.usedJSHeapSize;
    return out; }"""

# Context for the figures: what TF.js found in the engine's scope (threads need cross-origin isolation).
ENGINE_ENV = """() => { const out = {crossOriginIsolated: self.crossOriginIsolated,
    hardwareConcurrency: navigator.hardwareConcurrency};
    if (self.tf) { out.tf_backend = tf.getBackend();
      for (const f of ['WASM_HAS_SIMD_SUPPORT', 'WASM_HAS_MULTITHREAD_SUPPORT']) {
        try { out[f] = tf.env().getBool(f); } catch (e) {} }
      try { const b = tf.backend(); if (b && b.wasm && b.wasm.PThread) out.wasm_pthreads = true; } catch (e) {} }
    return out; }"""

PAGE_JS_HEAP = """() => { if (window.gc) window.gc(); return performance.memory ?
    {js_heap_used: performance.memory.usedJSHeapSize, js_heap_total: performance.memory.totalJSHeapSize} : {}; }"""

PAGE_MEMORY = """() => { if (window.gc) window.gc(); return window.bench.memory ? window.bench.memory() : {}; }"""

ENGINE_MARKS = "() => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('moodcam:'))" \
               ".map((m) => [m.name.slice(8), m.startTime])"


def _compact(records: list[dict]) -> list[dict]:
    return [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in records]


def app_url(base: str, backend: str | None, engine: str, *, cadence: tuple[int, int] | None = None,
            parts: bool = False, sw: bool = True, far: bool = False) -> str:
    """The app with ?bench=1 (its ring buffer of FrameTimes) and the knobs asked for."""
    q = ["bench=1"]
    if far:
        q.append("range=far")
    if backend:
        q.append(f"backend={backend}")
    if cadence is not None:
        q += ["clock=raf", f"cadence={cadence[0]}", f"emotion={cadence[1]}"]
    if parts:
        q.append("parts=1")
    if engine == "page":
        q.append("worker=0")
    if not sw:
        q.append("sw=0")
    return f"{base}?{'&'.join(q)}"


def engine_scope(page, engine: str, timeout: float = 30.0):
    """Where TF.js and Pyodide run: the dedicated worker (app/worker.js), or the page itself."""
    if engine == "page":
        return page
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for worker in page.workers:
            if worker.url.endswith("app/worker.js"):
                return worker
        time.sleep(0.1)
    raise BenchError("the app's worker (app/worker.js) never started")


def bench_query(page) -> dict:
    """The app's own figures: {time_origin_ms, marks, frames} (py/moodcam/browser/perf.py)."""
    return json.loads(page.evaluate("() => window.moodcam.query('bench')"))


def _frames(page) -> int:
    return int(page.evaluate("() => Number(document.documentElement.dataset.frames || 0)"))


def ours_records(frames: list[dict]) -> list[dict]:
    """The app's FrameTimes records as the report reads them: t0/t_end on the engine clock."""
    out = []
    for f in frames:
        r = dict(f)
        r["t0"] = r.pop("t")
        r["t_end"] = r["t0"] + r.get("total_ms", 0.0)
        out.append(r)
    return out


def run_ours(context, base: str, backend: str, cadence: tuple[int, int], warmup: int, frames: int,
             timeout: float, engine: str = "worker", parts: bool = False, far: bool = False) -> dict:
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        # sw=0: no service worker precaching the site in the background while frames are measured.
        page.goto(app_url(base, backend, engine, cadence=cadence, parts=parts, sw=False, far=far))
        state = wait_for(page, """() => { const s = document.documentElement.dataset.appState;
                return (s === 'running' || s === 'error') && s; }""", timeout, "the app to run")
        if state == "error":
            raise BenchError(f"the app stopped: {_app_error(page)}; console: {console[-5:]}")
        need = warmup + frames
        start = 0
        if parts:
            # FaceMesh loads on first use, after the app runs: count only the frames after it is on.
            wait_for(page, "() => document.documentElement.dataset.mesh === 'on'"
                           " || document.documentElement.dataset.appState === 'error'",
                     timeout, "face-parts mode to start")
            start = _frames(page)
        wait_for(page, f"() => Number(document.documentElement.dataset.frames || 0) >= {start + need + 1}"
                       " || document.documentElement.dataset.appState === 'error'",
                 timeout, f"{need} frames of the app" + (" in face-parts mode" if parts else ""), poll=0.25)
        if page.evaluate("() => document.documentElement.dataset.appState") == "error":
            raise BenchError(f"the app stopped: {_app_error(page)}")
        got = bench_query(page)
        records = ours_records(got["frames"])
        if parts:
            first = next((i for i, r in enumerate(records) if r.get("mesh_ms")), None)
            records = records[first:] if first is not None else []
            for r in records:
                r["mesh_on"] = 1
                r["ran_detector"] = 1 if r.get("detector_ms") else 0
                r["app_detector_fraction"] = r.pop("detector_fraction", None)
        else:
            for r in records:
                r.pop("detector_fraction", None)
        window = records[warmup:need]
        if len(window) < frames:
            raise BenchError(f"only {len(window)} of {frames} frames in the app's bench buffer")
        dataset = page.evaluate("() => Object.assign({}, document.documentElement.dataset)")
        info = {"engine": dataset.get("engine"), "engine_reason": dataset.get("engineReason"),
                "backend": dataset.get("backend"), "clock": dataset.get("clock"),
                "cadence": {"detect_every": cadence[0], "emotion_every": cadence[1]}, "parts": parts,
                "mood_at_end": dataset.get("mood"), "mood_state_at_end": dataset.get("moodState"),
                "frames_in_app": len(got["frames"]),
                "hud": page.evaluate("() => ({fps: (document.getElementById('hud-fps') || {}).textContent, "
                                     "python: (document.getElementById('hud-python') || {}).textContent})")}
        if info["engine"] != engine:
            raise BenchError(f"asked for the {engine} engine, the page runs {info['engine']} "
                             f"({info['engine_reason']})")
        try:
            info["engine_env"] = engine_scope(page, engine, 5.0).evaluate(ENGINE_ENV)
        except Exception as error:  # noqa: BLE001 - context only
            info["engine_env"] = {"error": str(error)[:200]}
        memory = page.evaluate(PAGE_JS_HEAP)
        try:
            memory.update(engine_scope(page, engine, 5.0).evaluate(ENGINE_MEMORY))
        except Exception as error:  # noqa: BLE001 - memory figures are optional
            memory["error"] = str(error)[:200]
        try:
            memory["diagnostics"] = json.loads(page.evaluate("() => window.moodcamDiagnostics()"))
        except Exception:  # noqa: BLE001
            pass
        out = report.summarise(window)
        out.update(info=info, memory=memory, raw=_compact(window))
        return out
    finally:
        page.close()


def run_page(context, base: str, name: str, query: str, warmup: int, frames: int, timeout: float) -> dict:
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        page.goto(f"{base}bench/{name}.html?{query}")
        need = warmup + frames
        try:
            wait_for(page, f"() => window.bench && (window.bench.state === 'error' || window.bench.records.length >= {need})",
                     timeout, f"{need} frames of {name}")
        except BenchError as error:
            raise BenchError(f"{error}; console: {console[-5:]}") from None
        b = page.evaluate("() => ({state: window.bench.state, error: window.bench.error, info: window.bench.info, "
                          "dropped: window.bench.dropped, ticks: window.bench.ticks})")
        if b["state"] == "error":
            raise BenchError(f"{name}: {b['error'][:400]}; console: {console[-5:]}")
        records = page.evaluate(f"() => window.bench.records.slice({warmup}, {need})")
        memory = page.evaluate(PAGE_MEMORY)
        out = report.summarise(records)
        out.update(info=b["info"], memory=memory, raw=_compact(records))
        return out
    finally:
        page.close()


def worker_vs_page(context, base: str, backend: str, warmup: int, frames: int, timeout: float,
                   rounds: int) -> dict:
    """Issue 11's check, sturdier than one window each: `rounds` more windows per engine at equal
    cadence, alternating the order (worker, page, page, worker, ...) so that a drift in the machine's
    load favours neither; medians over the windows."""
    windows: dict[str, list[dict]] = {"worker": [], "page": []}
    for i in range(2 * rounds):
        engine = ENGINES[(i + i // 2) % 2]   # worker, page, page, worker, worker, page, ...
        t = time.monotonic()
        try:
            s = run_ours(context, base, backend, (1, 1), warmup, frames, timeout, engine=engine)
            w = {"fps": (s.get("fps") or {}).get("fps"), "frame_ms": report._m(s, "total_ms"),
                 **{k: report._m(s, k) for k in ("grab_ms", "detector_ms", "emotion_ms", "transfer_ms",
                                                  "logic_ms", "draw_ms", "other_ms")},
                 "loadavg_1min": round(os.getloadavg()[0], 2)}
        except Exception as error:  # noqa: BLE001
            w = {"error": f"{type(error).__name__}: {error}"[:300]}
        w["order"] = i
        windows[engine].append(w)
        log(f"{backend:5s} one_face  worker-vs-page round {i // 2 + 1} {engine:6s} "
            + (f"{w['fps']:6.1f} fps, frame {w['frame_ms']:.1f} ms" if w.get("fps") else w.get("error", "?")[:120])
            + f"  ({time.monotonic() - t:.0f}s)")
    out: dict = {"rounds": rounds, "frames_per_window": frames, "windows": windows}
    for engine, ws in windows.items():
        good = [w for w in ws if w.get("fps")]
        out[engine] = {k: report.spread([w[k] for w in good if w.get(k) is not None])
                       for k in ("fps", "frame_ms", "grab_ms", "detector_ms", "emotion_ms", "transfer_ms",
                                 "logic_ms", "draw_ms", "other_ms")} if good else None
    med = lambda e, k: ((out.get(e) or {}).get(k) or {}).get("median")  # noqa: E731
    out["fps worker/page"] = report.ratio(med("worker", "fps"), med("page", "fps"))
    out["frame ms worker/page"] = report.ratio(med("worker", "frame_ms"), med("page", "frame_ms"))
    return out


def run_pipeline(context, base: str, pipeline: str, backend: str, warmup: int, frames: int, timeout: float) -> dict:
    mode = "equal" if "equal" in pipeline or pipeline == "ours-far" else "default"
    cadence = (1, 1) if mode == "equal" else APP_DEFAULT_CADENCE
    if pipeline == "ours-parts":
        return run_ours(context, base, backend, APP_DEFAULT_CADENCE, warmup, frames, timeout, parts=True)
    if pipeline.startswith("ours"):
        engine = "page" if pipeline.endswith("-page") else "worker"
        return run_ours(context, base, backend, cadence, warmup, frames, timeout, engine=engine,
                        far=pipeline == "ours-far")
    if pipeline.startswith("floor"):
        q = f"backend={backend}&cadence={cadence[0]}&emotion={cadence[1]}&mode={mode}"
        return run_page(context, base, "floor", q, warmup, frames, timeout)
    if pipeline.startswith("human"):
        return run_page(context, base, "human", f"backend={backend}&mode={mode}", warmup, frames, timeout)
    if pipeline == "mediapipe":
        delegate = "GPU" if backend == "webgl" else "CPU"
        return run_page(context, base, "mediapipe", f"delegate={delegate}", warmup, frames, timeout)
    raise BenchError(f"unknown pipeline {pipeline}")


# -- cold start ------------------------------------------------------------------------------

# Boot phases, in order: (phase, from mark, to mark). Marks: app/engine.js's performance.marks in
# the engine's scope ("engine-start" ... "python-started"), PerfMeter's ("python-start",
# "models-ready": Python's boot, backend + models fetched, verified, built and warmed up), the
# app's first frame in its bench buffer ("first-frame"), and the page's own data attributes
# ("page-first-frame", "first-mood"). All converted to ms since the page's navigation start.
# TF.js's scripts and Pyodide + numpy load at the same time (app/engine.js): both phases start at
# "engine-start"; "wheel" is from the later of the two to the moodcam wheel unpacked.
COLD_ORDER = [("to_engine", "navigation", "engine-start"),     # page + site.json + starting the worker
              ("tfjs", "engine-start", "tfjs-loaded"),
              ("pyodide_numpy", "engine-start", "pyodide-loaded"),
              ("pyodide_interpreter", "engine-start", "pyodide-runtime"),   # restored from a snapshot or started
              ("numpy_load", "pyodide-runtime", "numpy-loaded"),          # loadPackage: unpack + shared libraries
              ("numpy_import", "numpy-loaded", "numpy-imported"),        # import numpy (from its shipped pycs)
              ("wheel", "runtimes-loaded", "moodcam-installed"),  # the checked wheel unpacked into site-packages
              ("python_start", "moodcam-installed", "python-start"),
              ("models", "python-start", "models-ready"),       # backend + models (camera opens meanwhile)
              ("backend", "python-start", "backend-ready"),     # ...split: the TF.js backend started
              ("models_load", "backend-ready", "models-ready"),  # ...and the models built and warmed up
              ("first_frame", "models-ready", "first-frame")]


def cold_phases(marks: dict) -> dict:
    phases = {}
    loaded = [marks.get(k) for k in ("tfjs-loaded", "pyodide-loaded")]
    if all(v is not None for v in loaded):
        marks = {**marks, "runtimes-loaded": max(loaded)}
    for name, a, b in COLD_ORDER:
        if marks.get(a) is not None and marks.get(b) is not None:
            phases[name] = marks[b] - marks[a]
    for name, key in (("to_numpy", "numpy-imported"), ("to_first_frame", "page-first-frame"),
                      ("to_first_mood", "first-mood")):
        if marks.get(key) is not None:
            phases[name] = marks[key]
    return phases


def _visit_marks(page, engine: str, got: dict | None) -> dict:
    """Every boot mark on the page's clock (ms since navigation start)."""
    page_origin = page.evaluate("() => performance.timeOrigin")
    marks: dict[str, float | None] = {"navigation": 0.0}
    try:
        scope = engine_scope(page, engine, 5.0)
        scope_origin = scope.evaluate("() => performance.timeOrigin")
        for name, t in scope.evaluate(ENGINE_MARKS):
            marks.setdefault(name, scope_origin + t - page_origin)
    except Exception as error:  # noqa: BLE001
        marks["error"] = str(error)[:200]   # type: ignore[assignment]
    if got:
        origin = got["time_origin_ms"]
        for name, t in got.get("marks", {}).items():
            marks.setdefault(name, origin + t - page_origin)
        if got.get("frames"):
            marks["first-frame"] = origin + got["frames"][0]["t"] - page_origin
    page_marks = page.evaluate("() => window.__benchMarks || []")
    for key, name, value in (("frames", "page-first-frame", None), ("moodState", "first-mood", "mood"),
                             ("appState", "running", "running")):
        t = next((t for t, k, v in page_marks if k == key and (value is None or v == value)), None)
        marks[name] = t
    return marks


def _long_tasks(page, until: float | None) -> dict:
    tasks = page.evaluate("() => window.__benchLongTasks || []")
    before = [d for t, d in tasks if until is None or t <= until]
    return {"count": len(before), "max_ms": max(before, default=0.0), "total_ms": sum(before),
            "until_ms": until, "count_whole_visit": len(tasks)}


@contextlib.contextmanager
def fresh_page(context, traffic: Traffic, throttle: float | None):
    """A new tab for one visit (the traffic counter reset), its main thread throttled if asked.

    Chrome DevTools Protocol throttling applies to the page's main thread only: Chromium refuses it
    for dedicated workers ("only supported for pages, not workers")."""
    traffic.reset()
    page = context.new_page()
    cdp = None
    try:
        if throttle:
            cdp = context.new_cdp_session(page)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
        yield page
    finally:
        if cdp is not None:
            cdp.detach()
        page.close()


def one_visit(context, url: str, engine: str, backend: str, traffic: Traffic, timeout: float,
              throttle: float | None = None) -> dict:
    entry: dict = {}
    with fresh_page(context, traffic, throttle) as page:
        page.goto(url)
        entry["controlled_by_service_worker"] = page.evaluate("() => !!(navigator.serviceWorker && "
                                                              "navigator.serviceWorker.controller)")
        try:
            wait_for(page, """() => { const d = document.documentElement.dataset;
                return d.frames || d.appState === 'error'; }""", timeout, "the first frame")
            # The first mood needs a few votes and the mood's dwell time: on SwiftShader webgl (a few
            # frames a second at best) it may not come in a useful time.
            wait_for(page, """() => { const d = document.documentElement.dataset;
                return d.moodState === 'mood' || d.appState === 'error'; }""",
                     60.0 if backend == "wasm" else 20.0, "the first mood")
        except BenchError as error:
            entry["error"] = str(error)
        entry["bytes"] = Traffic.summary(traffic.snapshot())
        got = None
        if page.evaluate("() => document.documentElement.dataset.appState") == "error":
            entry["error"] = _app_error(page)
        else:
            try:
                got = bench_query(page)
            except Exception as error:  # noqa: BLE001
                entry["error"] = f"bench query: {error}"[:300]
        marks = _visit_marks(page, engine, got)
        entry["marks_ms"] = marks
        entry["phases"] = cold_phases(marks)
        entry["engine"] = page.evaluate("() => document.documentElement.dataset.engine")
        entry["main_thread_long_tasks"] = _long_tasks(page, marks.get("first-mood") or marks.get("page-first-frame"))
        if throttle:
            entry["cpu_throttle"] = {"rate": throttle, "applies_to": "the page's main thread only"}
        entry["controlled_at_first_mood"] = page.evaluate("() => !!(navigator.serviceWorker && "
                                                          "navigator.serviceWorker.controller)")
        if not entry["controlled_at_first_mood"] and "sw=0" not in url:
            # The service worker precaches what a start needs before it takes control: wait for it, so
            # the next visit is a true return visit (served from its cache).
            entry.update(wait_for_service_worker(page))
        entry["pyodide_from_snapshot"] = marks.get("pyodide-from-snapshot") is not None
        if engine == "worker" and not entry["pyodide_from_snapshot"] and "snapshot=0" not in url:
            # The engine keeps a Pyodide snapshot 15 s after Python starts (app/engine.js):
            # wait for it, so the next visit is a true return visit.
            t = time.monotonic()
            try:
                scope = engine_scope(page, engine, 5.0)
                wait_for(scope, "() => performance.getEntriesByName('moodcam:snapshot-kept').length > 0",
                         90.0, "the Pyodide snapshot to be kept", poll=0.25)
                entry["snapshot_kept_after_s"] = round(time.monotonic() - t, 2)
                # What it holds (app/snapshot.js's reply): its size and the standard-library
                # modules imported into it, which the next visits do not import again.
                kept = scope.evaluate("() => (self.moodcam && self.moodcam.snapshot) || null")
                if kept:
                    entry["snapshot_kept"] = kept_summary(kept)
            except BenchError as error:
                entry["snapshot"] = str(error)
        entry["bytes_with_precache"] = Traffic.summary(traffic.snapshot())
    return entry


def wait_for_service_worker(page) -> dict:
    """Waits until the service worker controls the page: {"service_worker_controls_after_s": s}, or
    {"service_worker": why not}."""
    t = time.monotonic()
    try:
        wait_for(page, "() => !!navigator.serviceWorker.controller", 120.0,
                 "the service worker to take control", poll=0.25)
    except BenchError as error:
        return {"service_worker": str(error)}
    return {"service_worker_controls_after_s": round(time.monotonic() - t, 2)}


def kept_summary(kept: dict) -> dict:
    """A kept snapshot's size and its preloaded standard-library modules (count and a digest of
    their names), from app/snapshot.js's reply."""
    names = sorted(kept.get("imported") or [])
    return {"bytes": kept.get("bytes"), "modules": len(names),
            "modules_sha1": hashlib.sha1("\n".join(names).encode()).hexdigest()[:12]}


PEER_FIRST_RESULT = "() => { const r = window.bench.records.find((r) => r.labelled > 0); return r ? r.t_end : null; }"


def peer_visit(context, url: str, traffic: Traffic, timeout: float, throttle: float | None = None) -> dict:
    """One visit of a peer's bench page: ms from navigation to its first face with an emotion."""
    entry: dict = {}
    if throttle:
        entry["cpu_throttle"] = {"rate": throttle, "applies_to": "the page's main thread (all of human)"}
    with fresh_page(context, traffic, throttle) as page:
        page.goto(url)
        try:
            wait_for(page, f"() => window.bench.state === 'error' || ({PEER_FIRST_RESULT})() !== null", timeout,
                     "the peer's first face with an emotion")
        except BenchError as error:
            entry["error"] = str(error)
        if page.evaluate("() => window.bench.state") == "error":
            entry["error"] = page.evaluate("() => window.bench.error")[:300]
        first = page.evaluate(PEER_FIRST_RESULT)
        marks = page.evaluate("() => window.bench.marks")
        entry["marks_ms"] = {**marks, "first-result": first}
        entry["phases"] = {"models": marks.get("models"), "to_first_mood": first}
        entry["main_thread_long_tasks"] = _long_tasks(page, first)
        entry["bytes"] = Traffic.summary(traffic.snapshot())
    return entry


def floor_visit(context, url: str, traffic: Traffic, timeout: float, throttle: float | None = None) -> dict:
    """One visit of the Pyodide floor (bench/pages/pyodide_floor.html): the engine's marks up to numpy
    imported (ms since navigation). On a first visit it waits for the app's service worker (the page
    registers it) and for the snapshot the engine keeps, so the next visit is a return visit as the
    app's are: runtime and numpy from the service worker's cache, the interpreter from the snapshot."""
    entry: dict = {}
    with fresh_page(context, traffic, throttle) as page:
        page.goto(url)
        try:
            wait_for(page, "() => window.bench.state !== 'loading'", timeout, "numpy imported (the Pyodide floor)")
        except BenchError as error:
            entry["error"] = str(error)
        if page.evaluate("() => window.bench.state") == "error":
            entry["error"] = page.evaluate("() => window.bench.error")[:300]
        entry["bytes"] = Traffic.summary(traffic.snapshot())
        marks = {"navigation": 0.0, **page.evaluate("() => window.bench.marks")}
        entry["marks_ms"] = marks
        entry["phases"] = cold_phases(marks)
        entry["pyodide_from_snapshot"] = marks.get("pyodide-from-snapshot") is not None
        if throttle:
            entry["cpu_throttle"] = {"rate": throttle, "applies_to": "the page's main thread only (not its worker)"}
        entry["controlled_by_service_worker"] = page.evaluate("() => !!navigator.serviceWorker.controller")
        if "error" not in entry and not entry["controlled_by_service_worker"]:
            # The page registers the app's service worker once numpy is imported: wait for it, so the
            # next visit reads its cache, as the app's return visits do.
            entry.update(wait_for_service_worker(page))
        if "error" not in entry and not entry["pyodide_from_snapshot"]:
            t = time.monotonic()
            try:
                wait_for(page, "() => !!window.bench.snapshot || window.bench.state === 'error'", 90.0,
                         "the Pyodide snapshot to be kept", poll=0.25)
                if page.evaluate("() => window.bench.state") == "error":
                    entry["snapshot"] = page.evaluate("() => window.bench.error")[:300]
                else:
                    entry["snapshot_kept_after_s"] = round(time.monotonic() - t, 2)
                    entry["snapshot_kept"] = kept_summary(page.evaluate("() => window.bench.snapshot"))
            except BenchError as error:
                entry["snapshot"] = str(error)
    return entry


def run_cold(server_url: str, traffic: Traffic, clip: Path, backend: str, engine: str, timeout: float,
             throttle: bool = True, repeats: int = 1) -> dict:
    """Fresh profile: a first visit (empty HTTP cache, no service worker), then `repeats` return
    visits in the same profile once the service worker controls the page (its cache), then a return
    visit with the page's main thread throttled CPU_THROTTLE x; and, in a second fresh profile, a
    first visit with the main thread throttled CPU_THROTTLE x."""
    from tests.support.browser import CANVAS_WEBGL_OFF, chromium

    out = {}
    url = app_url(server_url, backend, engine)
    profiles = [[("first", None), ("return", None)] + [(f"return_{i}", None) for i in range(2, repeats + 1)]
                + ([("return_throttled", CPU_THROTTLE)] if throttle else [])]
    if throttle:
        profiles.append([("first_throttled", CPU_THROTTLE)])
    for visits in profiles:
        with chromium(webgl=backend == "webgl", fake_camera=clip, extra_flags=EXTRA_FLAGS,
                      no_webgl=CANVAS_WEBGL_OFF, deadline_s=None) as context:
            context.add_init_script(PAGE_OBSERVER)
            for name, rate in visits:
                if engine == "human":
                    out[name] = peer_visit(context, f"{server_url}bench/human.html?backend={backend}&mode=default",
                                           traffic, timeout, rate)
                elif engine == "pyodide-floor":
                    out[name] = floor_visit(context, f"{server_url}bench/pyodide_floor.html", traffic, timeout, rate)
                else:
                    out[name] = one_visit(context, url, engine, backend, traffic, timeout, rate)
    return out


def run_core(server_url: str, frames: int, timeout: float) -> dict:
    from tests.support.browser import CANVAS_WEBGL_OFF, chromium

    with chromium(webgl=False, extra_flags=EXTRA_FLAGS, no_webgl=CANVAS_WEBGL_OFF, deadline_s=None) as context:
        page = context.new_page()
        page.goto(f"{server_url}bench/core.html?frames={frames}")
        wait_for(page, "() => window.bench && (window.bench.state === 'done' || window.bench.state === 'error')",
                 timeout, "the core benchmark in Pyodide", poll=1.0)
        b = page.evaluate("() => ({state: window.bench.state, error: window.bench.error, result: window.bench.result, "
                          "marks: window.bench.marks})")
        if b["state"] == "error":
            raise BenchError(f"core benchmark: {b['error'][:400]}")
        return {**b["result"], "load_marks_ms": b["marks"]}


# -- the run ------------------------------------------------------------------------------------

def run(opts: Options) -> list[Path]:
    from tests.support.browser import CANVAS_WEBGL_OFF, chromium

    started = time.monotonic()
    date = _dt.date.today().isoformat()
    load_start = os.getloadavg()
    sampler = LoadSampler()
    work = Path(tempfile.mkdtemp(prefix="moodcam-bench-"))
    if opts.dist is None:
        log("building the site (as `build.py site` does) into build/bench/dist")
        dist = build_dist(REPO / "build" / "bench" / "dist")
    else:
        dist = opts.dist
    site_root = assemble(dist, work / "site")
    log(f"bench site assembled in {site_root} (dist + bench pages + peers; dist/ itself untouched)")
    parts_clips = opts.parts_clips if PARTS_PIPELINES & set(opts.pipelines) else []
    clip_names = sorted(set(opts.clips) | (set(opts.webgl_clips) if "webgl" in opts.backends else set())
                        | set(parts_clips), key=list(CLIPS).index)
    clips = make_clips(clip_names)
    results = {b: {"clips": {}, "memory": {}} for b in opts.backends}
    labels = {b: b for b in opts.backends}
    cold = {}
    core = None
    with serving(site_root) as (server, traffic):
        base = server.url
        for clip_name, clip in clips.items():
            for backend in opts.backends:
                wanted = opts.clips if backend == "wasm" else [c for c in opts.webgl_clips if c in clips]
                todo = [p for p in opts.pipelines
                        if (clip_name in parts_clips if p in PARTS_PIPELINES else clip_name in wanted)]
                if not todo:
                    continue
                # wasm runs in a browser without WebGL for pages: with SwiftShader as the "GPU", drawing a
                # video frame into a 2D canvas costs 45-60 ms here (1.5-3 ms without), for every pipeline.
                # The GPU process stays (CANVAS_WEBGL_OFF, not the tests' NO_WEBGL_FLAGS): MediaPipe's
                # CPU delegate converts images with a GL context of its own.
                with chromium(webgl=backend == "webgl", fake_camera=clip, extra_flags=EXTRA_FLAGS,
                              no_webgl=CANVAS_WEBGL_OFF, deadline_s=None) as context:
                    if backend == "webgl" and labels[backend] == "webgl":
                        probe = context.new_page()
                        probe.goto(f"{base}bench/blank.html")
                        renderer = renderer_label(probe)
                        probe.close()
                        soft = "swiftshader" in renderer.lower()
                        labels[backend] = f"webgl ({'software renderer: ' if soft else ''}{renderer})"
                    warmup, frames = ((opts.webgl_warmup, opts.webgl_frames) if backend == "webgl"
                                      else (opts.warmup, opts.frames))
                    pipes = results[backend]["clips"].setdefault(clip_name, {})
                    for pipeline in todo:
                        t = time.monotonic()
                        try:
                            summary = run_pipeline(context, base, pipeline, backend, warmup, frames, opts.page_timeout)
                        except Exception as error:  # noqa: BLE001 - one failing peer must not end the run
                            summary = {"error": f"{type(error).__name__}: {error}"[:600]}
                        fps = (summary.get("fps") or {}).get("fps")
                        log(f"{backend:5s} {clip_name:9s} {pipeline:13s} "
                            + (f"{fps:6.1f} fps" if fps else summary.get("error", "no figure")[:150])
                            + f"  ({time.monotonic() - t:.0f}s)")
                        mem = summary.pop("memory", None)
                        if mem and clip_name == "one_face":
                            results[backend]["memory"][pipeline] = mem
                        pipes[pipeline] = summary
                    if (backend == "wasm" and clip_name == "one_face" and opts.ab_rounds > 0
                            and {"ours-equal", "ours-equal-page"} <= set(opts.pipelines)):
                        results[backend]["worker_vs_page"] = worker_vs_page(
                            context, base, backend, warmup, frames, opts.page_timeout, opts.ab_rounds)
        if opts.cold:
            clip = make_clips(["one_face"])["one_face"]
            for backend in opts.backends:
                engines = opts.cold_engines if backend == "wasm" else opts.webgl_cold_engines
                for engine in engines:
                    t = time.monotonic()
                    try:
                        got = run_cold(base, traffic, clip, backend, engine, min(opts.page_timeout, 120.0),
                                       throttle=opts.cold_throttle, repeats=opts.cold_repeats)
                    except Exception as error:  # noqa: BLE001
                        got = {"error": f"{type(error).__name__}: {error}"[:600]}
                    cold.setdefault(backend, {})[engine] = got
                    until = "to_numpy" if engine == "pyodide-floor" else "to_first_mood"
                    ph = {c: (v.get("phases") or {}).get(until) for c, v in got.items() if isinstance(v, dict)}
                    log(f"{backend:5s} {engine:6s} cold start to {until[3:].replace('_', ' ')} (ms): "
                        + (json.dumps({k: round(v) if v else v for k, v in ph.items()}) if ph else got.get("error", "?"))
                        + f"  ({time.monotonic() - t:.0f}s)")
        if opts.core_frames > 0:
            t = time.monotonic()
            try:
                core = run_core(base, opts.core_frames, max(opts.page_timeout, 300.0))
                log("core in Pyodide: " + ", ".join(f"{r['faces']} face(s) {r['median_ms']:.3f} ms"
                                                     for r in core["results"]) + f"  ({time.monotonic() - t:.0f}s)")
            except Exception as error:  # noqa: BLE001
                core = {"error": f"{type(error).__name__}: {error}"[:600]}
                log(f"core in Pyodide failed: {core['error']}")

    sampler.stop()
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
               "chromium": chromium_version().replace("Chromium ", ""), "loadavg_start": load_start,
               "loadavg_end": os.getloadavg(), "loadavg_1min_samples": sampler.samples,
               "note": opts.note or "shared machine, no GPU; timings are figures, never asserts"}
    opts.out.mkdir(parents=True, exist_ok=True)
    written = []
    for backend in opts.backends:
        r = results[backend]
        raw = {c: {p: s.pop("raw", None) for p, s in pipes.items()} for c, pipes in r["clips"].items()}
        result = {
            "format": "moodcam-bench/2", "date": date, "backend": backend, "backend_label": labels[backend],
            "machine": machine, "versions": peer_versions(),
            "config": {"frames": opts.webgl_frames if backend == "webgl" else opts.frames,
                       "warmup": opts.webgl_warmup if backend == "webgl" else opts.warmup,
                       "clock": "requestAnimationFrame, one frame in flight (the app's clock=raf)",
                       "equal_cadence": {"detect_every": 1, "emotion_every": 1},
                       "default_cadence": {"detect_every": APP_DEFAULT_CADENCE[0],
                                           "emotion_every": APP_DEFAULT_CADENCE[1]},
                       "clips": {c: CLIPS[c] for c in r["clips"]}, "pipelines": opts.pipelines,
                       "parts_clips": parts_clips},
            "clips": r["clips"],
            "ratios": {c: report.ratios(p) for c, p in r["clips"].items()},
            "worker_vs_page": r.get("worker_vs_page"),
            "memory": r["memory"],
            "cold_start": cold.get(backend),
            "cold_start_summary": report.cold_summary(cold.get(backend) or {}),
            "core_pyodide": core,
        }
        ours = r["clips"].get("one_face", {}).get("ours-equal")
        if ours and ours.get("stages"):
            st = ours["stages"]
            result["python_share"] = {k: st[k]["median"] for k in (
                "logic_ms", "transfer_ms", "other_ms", "draw_ms", "grab_ms", "total_ms") if k in st}
        result["table_md"] = report.table(result)
        if opts.keep_raw:
            result["raw"] = raw
        path = opts.out / f"{date}-{backend}.json"
        path.write_text(json.dumps(result, indent=1, sort_keys=False) + "\n")
        written.append(path)
        print()
        print(result["table_md"])
        print()
    log(f"done in {time.monotonic() - started:.0f}s; wrote " + ", ".join(str(p.relative_to(REPO)) if p.is_relative_to(REPO)
                                                                    else str(p) for p in written))
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return written
