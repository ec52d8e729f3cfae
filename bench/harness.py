"""The benchmark run: clips x backends x pipelines in headless Debian Chromium, one server.

Pipelines (same clip, same backend, same browser, one after another):
  ours-equal      the app (index.html) with the detector and the emotion net on every frame
  ours-default    the app with its default cadence (detector every 3rd frame, emotion every 2nd per face)
  floor-*         bench/pages/floor.js: the same models, frame read and TF.js preprocessing in plain JS
  human-*         @vladmandic/human 3.3.6, face detector + emotion only (equal: no skipping/caching)
  mediapipe       @mediapipe/tasks-vision FaceDetector, same .tflite (CPU delegate on wasm, GPU on webgl)
  ours-parts      the app in face-parts mode (`?parts=1`): FaceMesh tracks the faces, the detector runs
                  when the tracker asks; on PARTS_CLIPS, every backend (issue 7)

Every page is driven by the same clock as the app's `clock=raf` setting: requestAnimationFrame,
one frame in flight at a time, so fps figures share one scheduling model.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import instrument, report
from .site import REPO, BenchError, Traffic, assemble, build_dist, peer_versions, serving

CLIPS = {"one_face": "astronaut", "two_faces": "two_faces", "no_face": "coffee"}
APP_DEFAULT_CADENCE = (3, 2)   # py/moodcam/browser/settings.py: detect_every, emotion_every
PIPELINES = ["ours-equal", "floor-equal", "human-equal", "mediapipe", "ours-default", "floor-default",
             "human-default", "ours-equal-sync", "ours-parts"]
# Experiments: measured on wasm and the one-face clip only.
EXPERIMENTS = {"ours-equal-sync"}
# Face-parts mode runs on these clips on every backend (webgl included), apart from --clips/--webgl-clips.
PARTS_PIPELINES = {"ours-parts"}
PARTS_CLIPS = ["one_face", "two_faces"]
EXTRA_FLAGS = ["--enable-precise-memory-info", "--autoplay-policy=no-user-gesture-required"]

# Recorded before the page's own scripts run: when each loading text / state first appears.
MARKS_SCRIPT = r"""
(() => {
  const marks = [];
  window.__benchMarks = marks;
  const seen = {};
  function check() {
    const t = performance.now();
    const root = document.documentElement;
    const stage = document.getElementById("load-stage");
    const items = [["stage", stage ? stage.textContent : ""]];
    if (root && root.dataset) {
      items.push(["appState", root.dataset.appState || ""], ["frames", root.dataset.frames ? "n" : ""],
                 ["moodState", root.dataset.moodState || ""], ["backend", root.dataset.backend || ""]);
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
    core_frames: int = 2000
    dist: Path | None = None
    out: Path = REPO / "bench" / "results"
    keep_raw: bool = False
    page_timeout: float = 180.0


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


OURS_MEMORY = """() => { if (window.gc) window.gc();
    const out = {};
    if (performance.memory) { out.js_heap_used = performance.memory.usedJSHeapSize;
                              out.js_heap_total = performance.memory.totalJSHeapSize; }
    if (window.tf) { const m = tf.memory(); out.tf_num_tensors = m.numTensors; out.tf_num_bytes = m.numBytes;
      if (m.numBytesInGPU !== undefined) out.tf_num_bytes_gpu = m.numBytesInGPU;
      try { const b = tf.backend(); if (b && b.wasm && b.wasm.HEAPU8) out.tfjs_wasm_memory = b.wasm.HEAPU8.buffer.byteLength; } catch (e) {} }
    try { out.pyodide_wasm_memory = window.moodcam.pyodide._module.HEAPU8.buffer.byteLength; } catch (e) {}
    try { out.diagnostics = JSON.parse(window.moodcamDiagnostics()); } catch (e) {}
    return out; }"""

PAGE_MEMORY = """() => { if (window.gc) window.gc(); return window.bench.memory ? window.bench.memory() : {}; }"""


def _compact(records: list[dict]) -> list[dict]:
    return [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in records]


def run_ours(context, base: str, backend: str, cadence: tuple[int, int], warmup: int, frames: int,
             timeout: float, sync_reads: bool = False, parts: bool = False) -> dict:
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}"))
    try:
        page.goto(f"{base}?backend={backend}&clock=raf&cadence={cadence[0]}&emotion={cadence[1]}"
                  + ("&parts=1" if parts else ""))
        state = wait_for(page, """() => { const s = document.documentElement.dataset.appState;
                return (s === 'running' || s === 'error') && s; }""", timeout, "the app to run")
        if state == "error":
            raise BenchError(f"the app stopped: {_app_error(page)}")
        page.evaluate("(src) => window.moodcam.pyodide.runPython(src)", instrument.SOURCE)
        if sync_reads:
            page.evaluate("(src) => window.moodcam.pyodide.runPython(src)", instrument.SYNC_READS)
        need = warmup + frames
        # Face-parts mode: FaceMesh loads on first use, after the app runs; count only its frames.
        count = instrument.COUNT_MESH if parts else instrument.COUNT
        wait_for(page, f"() => window.moodcam.pyodide.runPython({json.dumps(count)}) >= {need}"
                       " || document.documentElement.dataset.appState === 'error'",
                 timeout, f"{need} frames of the app" + (" in face-parts mode" if parts else ""))
        if page.evaluate("() => document.documentElement.dataset.appState") == "error":
            raise BenchError(f"the app stopped: {_app_error(page)}")
        records = json.loads(page.evaluate(f"() => window.moodcam.pyodide.runPython({json.dumps(instrument.DUMP)})"))
        if parts:
            records = [r for r in records if r.get("mesh_on")]
        window = records[warmup:need]
        info = {"backend": page.evaluate("() => document.documentElement.dataset.backend"),
                "clock": page.evaluate("() => document.documentElement.dataset.clock"),
                "cadence": {"detect_every": cadence[0], "emotion_every": cadence[1]},
                "reads": "dataSync (experiment)" if sync_reads else "await tensor.data() (as shipped)",
                "parts": parts,
                "hud": page.evaluate("() => ({fps: document.getElementById('hud-fps').textContent, "
                                     "python: document.getElementById('hud-python').textContent})")}
        memory = page.evaluate(OURS_MEMORY)
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


def run_pipeline(context, base: str, pipeline: str, backend: str, warmup: int, frames: int, timeout: float) -> dict:
    mode = "equal" if "equal" in pipeline else "default"
    cadence = (1, 1) if mode == "equal" else APP_DEFAULT_CADENCE
    if pipeline == "ours-parts":
        return run_ours(context, base, backend, APP_DEFAULT_CADENCE, warmup, frames, timeout, parts=True)
    if pipeline.startswith("ours"):
        return run_ours(context, base, backend, cadence, warmup, frames, timeout, sync_reads=pipeline.endswith("-sync"))
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

def _first(marks: list, kind: str, contains: str | None = None) -> float | None:
    for t, k, v in marks:
        if k == kind and (contains is None or contains.lower() in str(v).lower()):
            return t
    return None


def cold_phases(marks: list) -> dict:
    m = {
        "tfjs": _first(marks, "stage", "Loading TensorFlow"),
        "pyodide": _first(marks, "stage", "Pyodide"),
        "numpy": _first(marks, "stage", "numpy"),
        "wheel": _first(marks, "stage", "Installing"),
        "backend": _first(marks, "stage", "Starting TensorFlow"),
        "models_fetch": _first(marks, "stage", "Loading the"),
        "models_build": _first(marks, "stage", "Preparing"),
        "camera": _first(marks, "stage", "camera"),
        "running": _first(marks, "appState", "running"),
        "first_frame": _first(marks, "frames"),
        "first_mood": _first(marks, "moodState", "mood"),
    }
    order = ["tfjs", "pyodide", "numpy", "wheel", "backend", "models_fetch", "models_build", "camera", "running"]
    phases = {}
    for a, b in zip(order, order[1:]):
        if m[a] is not None and m[b] is not None:
            phases[a] = m[b] - m[a]
    if m["running"] is not None and m["first_frame"] is not None:
        phases["first_inference"] = m["first_frame"] - m["running"]
    if m["first_frame"] is not None:
        phases["to_first_frame"] = m["first_frame"]
    if m["first_mood"] is not None:
        phases["to_first_mood"] = m["first_mood"]
    return {"marks_ms": m, "phases": phases}


def run_cold(server_url: str, traffic: Traffic, clip: Path, backend: str, timeout: float) -> dict:
    """Fresh profile (empty HTTP cache), then a second visit in the same profile (warm cache)."""
    from tests.support.browser import chromium

    out = {}
    with chromium(webgl=backend == "webgl", fake_camera=clip, extra_flags=EXTRA_FLAGS) as context:
        context.add_init_script(MARKS_SCRIPT)
        for cache in ("empty", "warm"):
            traffic.reset()
            page = context.new_page()
            try:
                page.goto(f"{server_url}?backend={backend}")
                try:
                    wait_for(page, """() => { const d = document.documentElement.dataset;
                        return d.frames || d.appState === 'error'; }""", timeout, "the first frame")
                    # The first mood needs a few votes and the mood's dwell time: on SwiftShader
                    # webgl (a few frames a second at best) it may not come in a useful time.
                    wait_for(page, """() => { const d = document.documentElement.dataset;
                        return d.moodState === 'mood' || d.appState === 'error'; }""",
                             60.0 if backend == "wasm" else 20.0, "the first mood")
                except BenchError as error:
                    out[cache] = {"error": str(error)}
                marks = page.evaluate("() => window.__benchMarks")
                entry = cold_phases(marks)
                entry["marks"] = marks
                entry["bytes"] = Traffic.summary(traffic.snapshot())
                if page.evaluate("() => document.documentElement.dataset.appState") == "error":
                    entry["error"] = _app_error(page)
                out[cache] = {**out.get(cache, {}), **entry}
            finally:
                page.close()
            time.sleep(1.0)   # let the service worker finish caching before the warm visit
    return out


def run_core(server_url: str, frames: int, timeout: float) -> dict:
    from tests.support.browser import chromium

    with chromium(webgl=False, extra_flags=EXTRA_FLAGS) as context:
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
    from tests.support.browser import chromium

    started = time.monotonic()
    date = _dt.date.today().isoformat()
    load_start = os.getloadavg()
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
                # wasm runs in a browser without WebGL: with SwiftShader as the "GPU", drawing a video
                # frame into a 2D canvas costs 45-60 ms here (1.5-3 ms without), for every pipeline.
                with chromium(webgl=backend == "webgl", fake_camera=clip, extra_flags=EXTRA_FLAGS) as context:
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
                        if pipeline in EXPERIMENTS and (backend != "wasm" or clip_name != "one_face"):
                            continue
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
        if opts.cold:
            clip = make_clips(["one_face"])["one_face"]
            for backend in opts.backends:
                t = time.monotonic()
                try:
                    cold[backend] = run_cold(base, traffic, clip, backend, min(opts.page_timeout, 90.0))
                except Exception as error:  # noqa: BLE001
                    cold[backend] = {"error": f"{type(error).__name__}: {error}"[:600]}
                ph = {c: (v.get("phases") or {}).get("to_first_mood") for c, v in cold[backend].items()
                      if isinstance(v, dict)}
                log(f"{backend:5s} cold start to first mood (ms): {ph}  ({time.monotonic() - t:.0f}s)")
        if opts.core_frames > 0:
            t = time.monotonic()
            try:
                core = run_core(base, opts.core_frames, max(opts.page_timeout, 300.0))
                log("core in Pyodide: " + ", ".join(f"{r['faces']} face(s) {r['median_ms']:.3f} ms"
                                                     for r in core["results"]) + f"  ({time.monotonic() - t:.0f}s)")
            except Exception as error:  # noqa: BLE001
                core = {"error": f"{type(error).__name__}: {error}"[:600]}
                log(f"core in Pyodide failed: {core['error']}")

    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
               "chromium": chromium_version().replace("Chromium ", ""), "loadavg_start": load_start,
               "loadavg_end": os.getloadavg(), "note": "shared machine, no GPU; timings are figures, never asserts"}
    opts.out.mkdir(parents=True, exist_ok=True)
    written = []
    for backend in opts.backends:
        r = results[backend]
        raw = {c: {p: s.pop("raw", None) for p, s in pipes.items()} for c, pipes in r["clips"].items()}
        result = {
            "format": "moodcam-bench/1", "date": date, "backend": backend, "backend_label": labels[backend],
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
            "memory": r["memory"],
            "cold_start": cold.get(backend),
            "core_pyodide": core,
        }
        ours = r["clips"].get("one_face", {}).get("ours-equal")
        if ours and ours.get("stages"):
            st = ours["stages"]
            result["python_share"] = {k: st[k]["median"] for k in (
                "logic_ms", "decode_ms", "transfer_ms", "read_wait_ms", "app_python_ms", "app_logic_ms",
                "app_transfer_ms", "app_other_ms", "draw_ms", "grab_ms") if k in st}
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
