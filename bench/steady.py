"""Steady-state frame-rate runs: each pipeline on a clip for a window of frames, in one browser.

Pipelines (same clip, same backend, same browser, one after another):
  ours-equal      the app (index.html) as shipped: the engine in its worker, detector + emotion net every frame
  ours-equal-page the same with `?worker=0`: the very same engine code on the page's main thread (the fallback)
  ours-default    the app (worker) with its default cadence (detector every 3rd frame, emotion every 2nd per face)
  ours-near       ours-default with `?range=near`: BlazeFace short range only, the setting for the slowest
                  devices; the default (auto range) adds the full-range sweep (issue 27). The report's
                  "auto/near" ratios compare the two
  ours-far        ours-equal with `?range=far`, which the app now reads as its default, auto (issue 27);
                  before issue 27 the full range alone (issue 12)
  floor-*         bench/pages/floor.js: the same models, frame read and TF.js preprocessing in plain JS
  human-*         @vladmandic/human 3.3.6, face detector + emotion only (equal: no skipping/caching)
  mediapipe       @mediapipe/tasks-vision FaceDetector, same .tflite (CPU delegate on wasm, GPU on webgl)
  ours-parts      the app in face-parts mode (`?parts=1`): FaceMesh tracks the faces, the detector runs
                  when the tracker asks; on PARTS_CLIPS, every backend (issue 7)

The app is measured only through the hooks it offers (nothing is patched): with `?bench=1` its
PerfMeter keeps every frame's FrameTimes, read with `await window.moodcam.query("bench")`.

Every page is driven by the same clock as the app's `clock=raf` setting: requestAnimationFrame,
one frame in flight at a time, so fps figures share one scheduling model.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from . import report
from .browser import app_error, app_url, bench_query, engine_scope, launch, log, wait_for
from .options import APP_DEFAULT_CADENCE, ENGINES, PARTS_PIPELINES, Options
from .site import BenchError


def renderer_label(page) -> str:
    """The WebGL2 renderer's name (SwiftShader on a machine without a GPU), for the report's label."""
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


def _compact(records: list[dict]) -> list[dict]:
    return [{k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()} for r in records]


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
             timeout: float, engine: str = "worker", parts: bool = False, view_range: str | None = None) -> dict:
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}"))
    page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
    try:
        # sw=0: no service worker precaching the site in the background while frames are measured.
        page.goto(app_url(base, backend, engine, cadence=cadence, parts=parts, sw=False, view_range=view_range))
        state = wait_for(page, """() => { const s = document.documentElement.dataset.appState;
                return (s === 'running' || s === 'error') && s; }""", timeout, "the app to run")
        if state == "error":
            raise BenchError(f"the app stopped: {app_error(page)}; console: {console[-5:]}")
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
            raise BenchError(f"the app stopped: {app_error(page)}")
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
                "range": dataset.get("range"), "perf_at_end": dataset.get("perf"), "mood_at_end": dataset.get("mood"), "mood_state_at_end": dataset.get("moodState"),
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
            w: dict[str, Any] = {
                "fps": (s.get("fps") or {}).get("fps"), "frame_ms": report._m(s, "total_ms"),
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
                        view_range={"ours-far": "far", "ours-near": "near"}.get(pipeline))
    if pipeline.startswith("floor"):
        q = f"backend={backend}&cadence={cadence[0]}&emotion={cadence[1]}&mode={mode}"
        return run_page(context, base, "floor", q, warmup, frames, timeout)
    if pipeline.startswith("human"):
        return run_page(context, base, "human", f"backend={backend}&mode={mode}", warmup, frames, timeout)
    if pipeline == "mediapipe":
        delegate = "GPU" if backend == "webgl" else "CPU"
        return run_page(context, base, "mediapipe", f"delegate={delegate}", warmup, frames, timeout)
    raise BenchError(f"unknown pipeline {pipeline}")



def run_steady(opts: Options, base: str, clips: dict[str, Path],
               parts_clips: list[str]) -> tuple[dict[str, dict], dict[str, str]]:
    """Every pipeline asked for on every clip and backend, one browser per (clip, backend):
    ({backend: {"clips", "memory", "worker_vs_page"}}, {backend: its label for the report})."""
    results: dict[str, dict] = {b: {"clips": {}, "memory": {}} for b in opts.backends}
    labels = {b: b for b in opts.backends}
    for clip_name, clip in clips.items():
        for backend in opts.backends:
            wanted = opts.clips if backend == "wasm" else [c for c in opts.webgl_clips if c in clips]
            todo = [p for p in opts.pipelines
                    if (clip_name in parts_clips if p in PARTS_PIPELINES else clip_name in wanted)]
            if not todo:
                continue
            # wasm runs in a browser without WebGL for pages: with SwiftShader as the "GPU", drawing a
            # video frame into a 2D canvas costs 45-60 ms here (1.5-3 ms without), for every pipeline.
            # The GPU process stays (browser.launch: CANVAS_WEBGL_OFF, not the tests' NO_WEBGL_FLAGS): MediaPipe's
            # CPU delegate converts images with a GL context of its own.
            with launch(webgl=backend == "webgl", camera=clip) as context:
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
    return results, labels
