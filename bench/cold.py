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
from .cpu import browser_group, settle, unavailable, visit_cpu
from .options import Options
from .phone import CPU_THROTTLE, cold_profiles
from .site import BenchError, Traffic

__all__ = ["CPU_THROTTLE", "run_all_cold", "run_cold", "one_visit", "peer_visit", "floor_visit"]


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
              throttle: float | None = None, group=None, on_answer=None) -> dict:
    """One visit of the app to its first mood. `group`: the browser's cgroup (bench/cpu.py), for the
    visit's CPU-seconds; `on_answer(page)`: called once the first mood is there (bench/trace.py stops
    its trace there), before the visit waits for the service worker and the snapshot."""
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
        if on_answer is not None:
            on_answer(page)
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
            entry["cpu_throttle"] = {"rate": throttle, "applies_to": "the page's main thread only (not a phone)"}
        entry["cpu"] = visit_cpu(page, group, marks.get("first-mood"), "first mood")
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


def _bench_page_answer(page, url: str, answered: str, timeout: float, what: str, entry: dict, on_answer) -> None:
    """Opens one of bench/pages/ and waits until `answered` (JS) holds. A timeout, or the page's own
    error (window.bench.error), is kept in entry["error"] and the visit goes on to read what there is;
    `on_answer(page)` sees the page once the wait is over, either way."""
    page.goto(url)
    try:
        wait_for(page, answered, timeout, what)
    except BenchError as error:
        entry["error"] = str(error)
    if on_answer is not None:
        on_answer(page)
    if page.evaluate("() => window.bench.state") == "error":
        entry["error"] = page.evaluate("() => window.bench.error")[:300]


def peer_visit(context, url: str, traffic: Traffic, timeout: float, throttle: float | None = None,
               group=None, on_answer=None) -> dict:
    """One visit of a peer's bench page: ms from navigation to its first face with an emotion."""
    entry: dict = {}
    if throttle:
        entry["cpu_throttle"] = {"rate": throttle, "applies_to": "the page's main thread (all of human; not a phone)"}
    with fresh_page(context, traffic, throttle) as page:
        _bench_page_answer(page, url, f"() => window.bench.state === 'error' || ({PEER_FIRST_RESULT})() !== null",
                           timeout, "the peer's first face with an emotion", entry, on_answer)
        first = page.evaluate(PEER_FIRST_RESULT)
        marks = page.evaluate("() => window.bench.marks")
        entry["marks_ms"] = {**marks, "first-result": first}
        entry["phases"] = {"models": marks.get("models"), "to_first_mood": first}
        entry["main_thread_long_tasks"] = _long_tasks(page, first)
        entry["bytes"] = Traffic.summary(traffic.snapshot())
        entry["cpu"] = visit_cpu(page, group, first, "first face with an emotion")
    return entry


def floor_visit(context, url: str, traffic: Traffic, timeout: float, throttle: float | None = None,
                group=None, on_answer=None) -> dict:
    """One visit of the Pyodide floor (bench/pages/pyodide_floor.html): the engine's marks up to numpy
    imported (ms since navigation). On a first visit it waits for the app's service worker (the page
    registers it) and for the snapshot the engine keeps, so the next visit is a return visit as the
    app's are: runtime and numpy from the service worker's cache, the interpreter from the snapshot."""
    entry: dict = {}
    with fresh_page(context, traffic, throttle) as page:
        _bench_page_answer(page, url, "() => window.bench.state !== 'loading'", timeout,
                           "numpy imported (the Pyodide floor)", entry, on_answer)
        entry["bytes"] = Traffic.summary(traffic.snapshot())
        marks = {"navigation": 0.0, **page.evaluate("() => window.bench.marks")}
        entry["marks_ms"] = marks
        entry["phases"] = cold_phases(marks)
        entry["pyodide_from_snapshot"] = marks.get("pyodide-from-snapshot") is not None
        if throttle:
            entry["cpu_throttle"] = {"rate": throttle,
                                     "applies_to": "the page's main thread only (not its worker; not a phone)"}
        entry["cpu"] = visit_cpu(page, group, marks.get("numpy-imported"), "numpy imported")
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


def visit(context, base: str, engine: str, backend: str, traffic: Traffic, timeout: float,
          rate: float | None = None, group=None, on_answer=None) -> dict:
    """One cold visit of `engine` (worker, page, human or pyodide-floor) in `context`."""
    if engine == "human":
        return peer_visit(context, f"{base}bench/human.html?backend={backend}&mode=default", traffic, timeout, rate,
                          group, on_answer)
    if engine == "pyodide-floor":
        return floor_visit(context, f"{base}bench/pyodide_floor.html", traffic, timeout, rate, group, on_answer)
    return one_visit(context, app_url(base, backend, engine), engine, backend, traffic, timeout, rate, group,
                     on_answer)


@contextlib.contextmanager
def measured_browser(clip: Path, backend: str, quota: float | None, cpu: bool = True):
    """A fresh browser profile in a cgroup of its own (bench/cpu.py; under `quota` of a core if given),
    settled (idle after its own start-up) before any visit: (context, group or None, what the launch
    did). Without cgroups (or `cpu` False), a plain launch and group None."""
    with browser_group(quota, enabled=cpu) as group, launch(webgl=backend == "webgl", camera=clip) as context:
        browser: dict = {}
        if group is not None:
            browser = {"adopted_processes": group.adopt(), "quota_cores": quota, **settle(group)}
        context.add_init_script(PAGE_OBSERVER)
        yield context, group, browser


def run_cold(server_url: str, traffic: Traffic, clip: Path, backend: str, engine: str, timeout: float,
             throttle: bool = True, repeats: int = 1, phone_quota: float | None = None, cpu: bool = True) -> dict:
    """Visits in fresh profiles (phone.cold_profiles): a first visit (empty HTTP cache, no service
    worker), return visits once the service worker controls the page (its cache); with `phone_quota`,
    rounds of first + return visits at full speed and with the whole browser under the quota; with
    `throttle`, a return visit and (in a fresh profile) a first visit with the page's main thread
    throttled CPU_THROTTLE x (page main thread only: not a phone). Each visit records the whole
    browser's CPU-seconds to its first answer (`cpu`) where cgroups can be used."""
    out: dict = {}
    for quota, visits in cold_profiles(repeats, throttle, phone_quota):
        with measured_browser(clip, backend, quota, cpu) as (context, group, browser):
            for i, (name, rate) in enumerate(visits):
                out[name] = visit(context, server_url, engine, backend, traffic, timeout, rate, group)
                if browser and i == 0:
                    out[name]["browser"] = browser
    return out


def _short(v: dict) -> str:
    ph = v.get("phases") or {}
    t = ph.get("to_numpy") if "to_first_mood" not in ph else ph.get("to_first_mood")
    cpu = (v.get("cpu") or {}).get("cpu_s")
    return (f"{t / 1000:.2f}s" if t else "?") + (f"/{cpu:.2f}cpu" if cpu is not None else "")


def run_all_cold(opts: Options, base: str, traffic: Traffic) -> dict[str, dict]:
    """run_cold for every backend and the engines asked for on it, on the one_face clip:
    {backend: {engine: {visit: entry}}}."""
    cold: dict[str, dict] = {}
    clip = make_clips(["one_face"])["one_face"]
    why = unavailable()
    if why:
        log(f"no CPU-seconds and no phone profile: {why}")
    phone_quota = opts.phone_quota if opts.phone and not why else None
    for backend in opts.backends:
        engines = opts.cold_engines if backend == "wasm" else opts.webgl_cold_engines
        for engine in engines:
            t = time.monotonic()
            try:
                got = run_cold(base, traffic, clip, backend, engine, min(opts.page_timeout, 120.0),
                               throttle=opts.cold_throttle, repeats=opts.cold_repeats,
                               phone_quota=phone_quota if backend == "wasm" else None, cpu=not why)
            except Exception as error:  # noqa: BLE001
                got = {"error": f"{type(error).__name__}: {error}"[:600]}
            cold.setdefault(backend, {})[engine] = got
            until = "numpy imported" if engine == "pyodide-floor" else "first mood"
            log(f"{backend:5s} {engine:6s} cold start to {until} (s, CPU-s): "
                + (json.dumps({k: _short(v) for k, v in got.items() if isinstance(v, dict)}) if "error" not in got
                   else got["error"]) + f"  ({time.monotonic() - t:.0f}s)")
    return cold
