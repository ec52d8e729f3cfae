"""A memory soak: the app at equal work for N minutes, its memory read through `moodcam.stats()`.

`python -m bench.soak --minutes 30 --dist DIR` (from the repository root) serves a built site with
moodcam's own server, opens the app in headless Chromium with the astronaut fake camera at equal work
(wasm, the detector and the emotion net on every frame, the cadence pinned: `adapt=0`), and every
`--every` seconds reads `await moodcam.stats()` (app/page.js): the engine's diagnostics (tensors,
the Python heap, both wasm memories, frames) and the page's `agentBytes`
(performance.measureUserAgentSpecificMemory, which Chromium answers at its next GC: a call can take
~20 s). Samples are taken on a fixed schedule from the first sample, whatever a call took.

Issue 30's done-when: tensors flat, the Python heap flat, the whole agent's memory growth under
5 MB after the first minute. `summarise` computes those figures; it is pure (tests/test_bench_soak.py).

The app is opened without `?bench=1` unless `--bench-buffer`: that knob keeps the last 4096
frames' records in a Python ring buffer, which grows the Python heap until it is full (about
7 minutes at 10 fps) and would read as a leak that the app as shipped does not have.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.browser import app_error, launch, log, make_clips, wait_for
from bench.site import REPO, BenchError, serving

FIELDS = ("numTensors", "numBytes", "tensorsBetweenFrames", "pythonHeap", "pythonHeapUsed", "wasmHeap",
          "tfjsWasmHeap", "agentBytes", "frames", "proxies", "gc_objects", "dropped")
AGENT_LIMIT_BYTES = 5_000_000       # issue 30: total agent memory growth under 5 MB after the first minute
Sample = dict[str, Any]


def app_query(*, bench_buffer: bool) -> str:
    """Equal work on wasm, the cadence pinned, the app's rAF clock, no service worker precaching."""
    q = ["backend=wasm", "clock=raf", "cadence=1", "emotion=1", "adapt=0", "sw=0"]
    return "?" + "&".join((["bench=1"] if bench_buffer else []) + q)


def _values(samples: list[Sample], key: str) -> list[float]:
    return [s[key] for s in samples if isinstance(s.get(key), (int, float))]


def slope_per_min(points: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of (t_s, value) points, per minute (None under two distinct times)."""
    if len(points) < 2:
        return None
    mt = sum(t for t, _ in points) / len(points)
    mv = sum(v for _, v in points) / len(points)
    var = sum((t - mt) ** 2 for t, _ in points)
    return None if var == 0 else 60.0 * sum((t - mt) * (v - mv) for t, v in points) / var


def _growth(samples: list[Sample], key: str, baseline: Sample | None) -> dict[str, Any]:
    """`key` at the baseline sample, its last value, last - baseline, max - baseline and the trend
    (least-squares slope per minute) from the baseline on (None if unread)."""
    after = [s for s in samples if baseline is not None and s["t_s"] >= baseline["t_s"]]
    values = _values(after, key)
    base = baseline.get(key) if baseline is not None else None
    if not values or not isinstance(base, (int, float)):
        return {"baseline": base, "last": values[-1] if values else None, "growth": None, "max_growth": None}
    trend = slope_per_min([(s["t_s"], s[key]) for s in after if isinstance(s.get(key), (int, float))])
    return {"baseline": base, "last": values[-1], "growth": values[-1] - base, "max_growth": max(values) - base,
            "min": min(values), "max": max(values), "trend_per_min": None if trend is None else round(trend, 1)}


def summarise(samples: list[Sample], baseline_s: float = 60.0, agent_limit: int = AGENT_LIMIT_BYTES) -> dict:
    """The soak's figures from its samples ({t_s, <FIELDS>...}, in time order).

    The baseline is the first sample at or after `baseline_s` (the end of the first minute): growths
    are the last sample's value minus the baseline's, and the largest value minus it.
    """
    if not samples:
        return {"samples": 0}
    baseline = next((s for s in samples if s["t_s"] >= baseline_s), None)
    tensors = _values(samples, "numTensors")
    after = [s for s in samples if baseline is not None and s["t_s"] >= baseline["t_s"]]
    tensors_after = _values(after, "numTensors")
    first, last = samples[0], samples[-1]
    span_s = last["t_s"] - first["t_s"]
    frames = (last.get("frames") or 0) - (first.get("frames") or 0)
    fps = [round((b["frames"] - a["frames"]) / (b["t_s"] - a["t_s"]), 2)
           for a, b in zip(samples, samples[1:]) if b["t_s"] > a["t_s"] and "frames" in a and "frames" in b]
    out: dict[str, Any] = {
        "samples": len(samples), "span_s": round(span_s, 1),
        "baseline_t_s": baseline["t_s"] if baseline is not None else None,
        "tensors": {"first": tensors[0] if tensors else None, "last": tensors[-1] if tensors else None,
                    "max": max(tensors) if tensors else None, "min": min(tensors) if tensors else None},
        "tensors_between_frames": sorted(set(_values(samples, "tensorsBetweenFrames"))),
        "python_heap_used": _growth(samples, "pythonHeapUsed", baseline),
        "python_heap": _growth(samples, "pythonHeap", baseline),
        "wasm_heap": _growth(samples, "wasmHeap", baseline),
        "tfjs_wasm_heap": _growth(samples, "tfjsWasmHeap", baseline),
        "agent_bytes": _growth(samples, "agentBytes", baseline),
        "frames": {"first": first.get("frames"), "last": last.get("frames"), "during": frames},
        "fps": {"overall": round(frames / span_s, 2) if span_s > 0 else None,
                "per_interval_min": min(fps) if fps else None, "per_interval_max": max(fps) if fps else None},
    }
    agent = out["agent_bytes"]["growth"]
    out["verdict"] = {
        "tensors_flat": bool(tensors_after) and min(tensors_after) == max(tensors_after),
        "python_heap_used_growth_bytes": out["python_heap_used"]["growth"],
        "agent_growth_under_limit": None if agent is None else agent < agent_limit,
        "agent_limit_bytes": agent_limit,
    }
    return out


def _mb(value: Any) -> str:
    return f"{value / 1e6:.2f}" if isinstance(value, (int, float)) else "–"


def table(samples: list[Sample]) -> str:
    """A markdown table, one row per sample (memory in MB)."""
    head = ("| min | tensors | between frames | Python heap used | Python heap | Pyodide wasm | TF.js wasm "
            "| agent | frames | stats() s | load |")
    rows = [head, "|" + " --- |" * (head.count("|") - 1)]
    for s in samples:
        rows.append(f"| {s['t_s'] / 60:.1f} | {s.get('numTensors', '–')} | {s.get('tensorsBetweenFrames', '–')} "
                    f"| {_mb(s.get('pythonHeapUsed'))} | {_mb(s.get('pythonHeap'))} | {_mb(s.get('wasmHeap'))} "
                    f"| {_mb(s.get('tfjsWasmHeap'))} | {_mb(s.get('agentBytes'))} | {s.get('frames', '–')} "
                    f"| {s.get('stats_s', '–')} | {s.get('load1', '–')} |")
    return "\n".join(rows)


def _read(page) -> Sample:
    t = time.monotonic()
    stats = page.evaluate("() => window.moodcam.stats()")
    sample: Sample = {k: stats.get(k) for k in FIELDS}
    sample["agentNote"] = stats.get("agentNote") or ""
    sample["perf_fps"] = (stats.get("perf") or {}).get("fps")
    sample["stats_s"] = round(time.monotonic() - t, 1)
    sample["load1"] = round(os.getloadavg()[0], 2)
    return sample


def soak(dist: Path, minutes: float, every_s: float, *, bench_buffer: bool, timeout: float = 180.0) -> dict:
    """Run the soak: {"url_query", "samples", "console"} (samples' t_s from the first sample)."""
    if not (dist / "index.html").is_file():
        raise BenchError(f"{dist} has no index.html: build a site first (build.py site --dest DIR)")
    camera = make_clips(["one_face"])["one_face"]
    samples: list[Sample] = []
    console: list[str] = []
    query = app_query(bench_buffer=bench_buffer)
    with serving(dist) as (server, _traffic), launch(webgl=False, camera=camera) as context:
        page = context.new_page()
        page.on("console", lambda m: console.append(f"{m.type}: {m.text[:200]}"))
        page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
        page.goto(server.url + query)
        state = wait_for(page, """() => { const s = document.documentElement.dataset.appState;
                return (s === 'running' || s === 'error') && s; }""", timeout, "the app to run")
        if state == "error":
            raise BenchError(f"the app stopped: {app_error(page)}; console: {console[-5:]}")
        wait_for(page, "() => Number(document.documentElement.dataset.frames || 0) >= 5", timeout, "frames")
        start = time.monotonic()
        n = int(minutes * 60 // every_s)
        for k in range(n + 1):
            time.sleep(max(0.0, start + k * every_s - time.monotonic()))
            if page.evaluate("() => document.documentElement.dataset.appState") == "error":
                raise BenchError(f"the app stopped after {k} samples: {app_error(page)}")
            sample = {"t_s": round(time.monotonic() - start, 1), **_read(page)}
            samples.append(sample)
            log(f"{sample['t_s'] / 60:5.1f} min: tensors {sample['numTensors']}, Python heap used "
                f"{_mb(sample['pythonHeapUsed'])} MB, agent {_mb(sample['agentBytes'])} MB, frames "
                f"{sample['frames']} (stats() {sample['stats_s']} s, load {sample['load1']})")
        page.close()
    return {"url_query": query, "samples": samples, "console": console[-20:]}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.soak", description=(
        "A memory soak of the app at equal work on wasm (astronaut fake camera), read through moodcam.stats() "
        "every --every seconds; writes <out>/<date>-soak-<minutes>min-wasm.json and prints a table."))
    p.add_argument("--minutes", type=float, default=30.0, help="how long to run (default 30)")
    p.add_argument("--every", type=float, default=60.0, help="seconds between samples (default 60)")
    p.add_argument("--dist", type=Path, required=True, help="a built site (build.py site --dest DIR); never dist/")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for the JSON")
    p.add_argument("--bench-buffer", action="store_true",
                   help="open the app with ?bench=1 (its 4096-frame ring buffer grows the Python heap at first)")
    p.add_argument("--note", default="", help="a note stored with the results (what else ran on the machine)")
    args = p.parse_args(argv)
    date = _dt.date.today().isoformat()
    load_start = os.getloadavg()
    try:
        run = soak(args.dist.resolve(), args.minutes, args.every, bench_buffer=args.bench_buffer)
    except BenchError as error:
        print(f"soak: {error}", file=sys.stderr)
        return 1
    from bench.runner import chromium_version

    summary = summarise(run["samples"])
    result = {"format": "moodcam-soak/1", "date": date, "backend": "wasm", "minutes": args.minutes,
              "every_s": args.every, "url_query": run["url_query"],
              "machine": {"cpus": os.cpu_count(), "chromium": chromium_version(), "loadavg_start": load_start,
                          "loadavg_end": os.getloadavg(), "note": args.note},
              "summary": summary, "samples": run["samples"], "console_tail": run["console"]}
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{date}-soak-{args.minutes:g}min-wasm.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print()
    print(table(run["samples"]))
    print()
    print(json.dumps({k: summary[k] for k in ("tensors", "python_heap_used", "agent_bytes", "fps", "verdict")},
                     indent=1))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
