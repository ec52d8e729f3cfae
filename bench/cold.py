"""Cold starts: first and return visits in fresh browser profiles, to the first mood (the app),
the first face with an emotion (the peer human) or numpy imported (the Pyodide floor).

A visit records the engine's boot marks on the page's clock, its phases, the bytes the server sent
and the page's main-thread long tasks; a first visit waits for the service worker to take control
and for the Pyodide snapshot to be kept, so that the next visit is a true return visit. Boot
phases are `performance.mark`s in the engine's scope (the worker's timeline, or the page's with
`?worker=0`) plus PerfMeter's own marks; first frame / first mood are the page's `data-*` attributes.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path

from .browser import (ENGINE_MARKS, PAGE_OBSERVER, app_error, app_url, bench_query, engine_scope, launch, log,
                      make_clips, wait_for)
from .options import Options
from .site import BenchError, Traffic

CPU_THROTTLE = 4


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
    loaded = [marks[k] for k in ("tfjs-loaded", "pyodide-loaded") if marks.get(k) is not None]
    if len(loaded) == 2:
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
            entry["error"] = app_error(page)
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
    out = {}
    url = app_url(server_url, backend, engine)
    profiles = [[("first", None), ("return", None)] + [(f"return_{i}", None) for i in range(2, repeats + 1)]
                + ([("return_throttled", CPU_THROTTLE)] if throttle else [])]
    if throttle:
        profiles.append([("first_throttled", CPU_THROTTLE)])
    for visits in profiles:
        with launch(webgl=backend == "webgl", camera=clip) as context:
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


def run_all_cold(opts: Options, base: str, traffic: Traffic) -> dict[str, dict]:
    """run_cold for every backend and the engines asked for on it, on the one_face clip:
    {backend: {engine: {visit: entry}}}."""
    cold: dict[str, dict] = {}
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
    return cold
