"""The whole bench run: build and serve the bench site, run the frame-rate pipelines
(bench/steady.py), the cold starts (bench/cold.py) and the core in Pyodide, then write one
bench/results/<date>-<backend>.json per backend (read by bench/report.py) and print its tables.
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
from pathlib import Path

from . import phone, report
from .browser import launch, log, make_clips, wait_for
from .cold import run_all_cold
from .cpu import unavailable
from .options import APP_DEFAULT_CADENCE, CLIPS, PARTS_PIPELINES, Options
from .site import REPO, BenchError, bench_site, peer_versions, serving
from .steady import run_steady


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


def chromium_version() -> str:
    """The Chromium the bench drives, as `chromium --version` names it ("?" if it cannot say)."""
    from tests.support.browser import CHROMIUM

    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "?"


def run_core(server_url: str, frames: int, timeout: float) -> dict:
    """bench/pages/core.html: bench_core.run() and bench_calibration.run() inside the Pyodide dist/ ships."""
    with launch(webgl=False) as context:
        page = context.new_page()
        page.goto(f"{server_url}bench/core.html?frames={frames}")
        wait_for(page, "() => window.bench && (window.bench.state === 'done' || window.bench.state === 'error')",
                 timeout, "the core benchmark in Pyodide", poll=1.0)
        b = page.evaluate("() => ({state: window.bench.state, error: window.bench.error, result: window.bench.result, "
                          "marks: window.bench.marks})")
        if b["state"] == "error":
            raise BenchError(f"core benchmark: {b['error'][:400]}")
        return {**b["result"], "load_marks_ms": b["marks"]}


def logged_core(base: str, opts: Options) -> dict:
    """run_core, logged; a failure becomes {"error": ...} so the other figures are still written."""
    t = time.monotonic()
    try:
        core = run_core(base, opts.core_frames, max(opts.page_timeout, 300.0))
        log("core in Pyodide: " + ", ".join(f"{r['faces']} face(s) {r['median_ms']:.3f} ms"
                                             for r in core["results"]) + f"  ({time.monotonic() - t:.0f}s)")
    except Exception as error:  # noqa: BLE001
        core = {"error": f"{type(error).__name__}: {error}"[:600]}
        log(f"core in Pyodide failed: {core['error']}")
    return core


def backend_result(opts: Options, backend: str, label: str, steady: dict, cold: dict | None, core: dict | None,
                   machine: dict, date: str, parts_clips: list[str]) -> dict:
    """One backend's results file ("moodcam-bench/2", read by bench/report.py), tables included;
    the per-frame records are taken out of `steady`'s summaries and kept only with --raw."""
    r = steady
    raw = {c: {p: s.pop("raw", None) for p, s in pipes.items()} for c, pipes in r["clips"].items()}
    result = {
        "format": "moodcam-bench/2", "date": date, "backend": backend, "backend_label": label,
        "machine": machine, "versions": peer_versions(),
        "config": {"frames": opts.webgl_frames if backend == "webgl" else opts.frames,
                   "warmup": opts.webgl_warmup if backend == "webgl" else opts.warmup,
                   "clock": "requestAnimationFrame, one frame in flight (the app's clock=raf)",
                   "equal_cadence": {"detect_every": 1, "emotion_every": 1},
                   "default_cadence": {"detect_every": APP_DEFAULT_CADENCE[0],
                                       "emotion_every": APP_DEFAULT_CADENCE[1]},
                   "clips": {c: CLIPS[c] for c in r["clips"]}, "pipelines": opts.pipelines,
                   "parts_clips": parts_clips,
                   "phone_quota_cores": opts.phone_quota if opts.phone else None,
                   "cpu_seconds": unavailable() or "cgroup v1 cpuacct over the whole browser (bench/cpu.py)"},
        "clips": r["clips"],
        "ratios": {c: report.ratios(p) for c, p in r["clips"].items()},
        "worker_vs_page": r.get("worker_vs_page"),
        "memory": r["memory"],
        "cold_start": cold,
        "cold_start_summary": report.cold_summary(cold or {}),
        "core_pyodide": core,
    }
    ours = r["clips"].get("one_face", {}).get("ours-equal")
    if ours and ours.get("stages"):
        st = ours["stages"]
        result["python_share"] = {k: st[k]["median"] for k in (
            "logic_ms", "transfer_ms", "other_ms", "draw_ms", "grab_ms", "total_ms") if k in st}
    result["cold_start_cpu"] = phone.cpu_summary(cold or {}, opts.phone_quota if opts.phone else None)
    result["table_md"] = report.table(result)
    cpu_md = phone.cpu_table(result["cold_start_cpu"])
    if cpu_md:
        result["table_md"] += "\n\n" + cpu_md
    if opts.keep_raw:
        result["raw"] = raw
    return result


# -- the run ------------------------------------------------------------------------------------

def run(opts: Options) -> list[Path]:
    """The whole run (see the module docstring): the paths of the results files written."""
    started = time.monotonic()
    date = _dt.date.today().isoformat()
    load_start = os.getloadavg()
    sampler = LoadSampler()
    work = Path(tempfile.mkdtemp(prefix="moodcam-bench-"))
    site_root = bench_site(opts.dist, work, log)
    parts_clips = opts.parts_clips if PARTS_PIPELINES & set(opts.pipelines) else []
    clip_names = sorted(set(opts.clips) | (set(opts.webgl_clips) if "webgl" in opts.backends else set())
                        | set(parts_clips), key=list(CLIPS).index)
    clips = make_clips(clip_names)
    cold: dict[str, dict] = {}
    core = None
    with serving(site_root) as (server, traffic):
        base = server.url
        results, labels = run_steady(opts, base, clips, parts_clips)
        if opts.cold:
            cold = run_all_cold(opts, base, traffic)
        if opts.core_frames > 0:
            core = logged_core(base, opts)

    sampler.stop()
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
               "chromium": chromium_version().replace("Chromium ", ""), "loadavg_start": load_start,
               "loadavg_end": os.getloadavg(), "loadavg_1min_samples": sampler.samples,
               "note": opts.note or "shared machine, no GPU; timings are figures, never asserts"}
    opts.out.mkdir(parents=True, exist_ok=True)
    written = []
    for backend in opts.backends:
        result = backend_result(opts, backend, labels[backend], results[backend], cold.get(backend), core,
                                machine, date, parts_clips)
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
