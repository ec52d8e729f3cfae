"""What every bench page visit shares: the browser it runs in, the page observer, waiting on a
page, and the app's own hooks (its URL knobs, its engine's scope, its bench query and marks).

bench/steady.py (frame-rate runs) and bench/cold.py (first and return visits) both build on it.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from .options import CLIPS
from .site import REPO, BenchError

EXTRA_FLAGS = ["--enable-precise-memory-info", "--autoplay-policy=no-user-gesture-required"]

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


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def launch(*, webgl: bool, camera: Path | None = None):
    """A fresh Chromium profile for the bench: no deadline (its runs are long), the bench's flags,
    and without WebGL for pages unless `webgl` (the GPU process stays: see steady.run_steady)."""
    from tests.support.browser import CANVAS_WEBGL_OFF, chromium

    return chromium(webgl=webgl, fake_camera=camera, extra_flags=EXTRA_FLAGS, no_webgl=CANVAS_WEBGL_OFF,
                    deadline_s=None)


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


def app_error(page) -> str:
    """What the app's error panel says, or '' while it runs."""
    return page.evaluate("""() => { const r = document.documentElement.dataset;
        const e = document.getElementById('error');
        return r.appState === 'error' || (e && !e.hidden) ?
            (document.getElementById('error-message') || {}).textContent + ' ' +
            (document.getElementById('error-fix') || {}).textContent : ''; }""")


# The engine's own performance.marks ("moodcam:*"), as [name, ms on the engine scope's clock].
ENGINE_MARKS = "() => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('moodcam:'))" \
               ".map((m) => [m.name.slice(8), m.startTime])"


def app_url(base: str, backend: str | None, engine: str, *, cadence: tuple[int, int] | None = None,
            parts: bool = False, sw: bool = True, view_range: str | None = None) -> str:
    """The app with ?bench=1 (its ring buffer of FrameTimes) and the knobs asked for. view_range:
    the app's own ?range= setting (None: its default, auto)."""
    q = ["bench=1"]
    if view_range:
        q.append(f"range={view_range}")
    if backend:
        q.append(f"backend={backend}")
    if cadence is not None:
        q += ["clock=raf", f"cadence={cadence[0]}", f"emotion={cadence[1]}"]
        if cadence == (1, 1):
            q.append("adapt=0")     # equal work stays equal: the cadence never follows the device here
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
