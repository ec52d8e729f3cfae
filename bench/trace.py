"""Where a cold visit's CPU-seconds go: ONE cold visit traced on every process and thread.

    .venv/bin/python -m bench.trace [--engine worker] [--visit return] [--phone] [--dist build/bench/dist]
    .venv/bin/python -m bench.trace --diff bench/results/A.json bench/results/B.json   # ours - floor, per kind

A CDP Tracing session on the browser target (Playwright's `new_browser_cdp_session`) records the
visit from before its navigation to its first answer (ours: the first mood; human: its first face
with an emotion; the Pyodide floor: numpy imported), with the categories below: the page, the
engine's dedicated worker, V8's background compile threads, the GPU, network and other processes,
and (`--samples`) V8's CPU profiler's samples on the JS threads. A return visit follows an untraced first visit in
the same profile (which waits for the service worker and the snapshot, as bench/cold.py's do). The
browser runs in the bench's cgroup (bench/cpu.py; `--phone`: under the CPU quota), so the visit's
cgroup CPU-seconds stand beside the traced ones (tracing costs CPU of its own).

The raw trace goes to build/bench/traces/ (gzip; not committed: tens of MB); a compact summary
(bench/trace_summary.py: per thread, per kind of work, per phase window) to
bench/results/<date>-trace-<engine>-<visit>[-phone][-samples].json, and its markdown table to stdout.
"""
from __future__ import annotations

import argparse
import base64
import datetime as _dt
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import trace_summary
from bench.browser import app_url, log, make_clips
from bench.cold import measured_browser, visit
from bench.cpu import unavailable
from bench.options import COLD_ENGINES
from bench.site import REPO, BenchError, bench_site, exit_status, serving

# The default set: its tracing cost is within the visits' spread (a worker return visit: 3.19 CPU-s traced,
# 3.32-3.90 untraced). --samples adds V8's sampling profiler (about 5000 samples/s on the JS threads; +1.4
# CPU-s on that visit) to split JS entry points into Python, TF.js and glue; --detailed adds V8's
# per-function compile events and wasm's per-unit ones (over 100 000 more events).
CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel", "blink", "blink.user_timing",
              "loading", "v8", "v8.execute", "v8.wasm", "disabled-by-default-v8.gc", "__metadata"]
DETAILED = ["disabled-by-default-v8.compile", "disabled-by-default-v8.wasm.detailed"]
SAMPLES = "disabled-by-default-v8.cpu_profiler"
ANSWER_MARK = {"worker": "first-mood", "page": "first-mood", "human": "first-result",
               "pyodide-floor": "numpy-imported"}


class Tracer:
    """Tracing on the browser target: start(), then stop(path) once the answer is there."""

    def __init__(self, context, categories: list[str]) -> None:
        if context.browser is None:
            raise BenchError("no browser object to trace (Playwright gave a context without one)")
        self.cdp = context.browser.new_browser_cdp_session()
        self.categories = categories
        self.done: dict = {}
        self.cdp.on("Tracing.tracingComplete", lambda event: self.done.update(event))
        self.saved: dict = {}
        self.data = b""

    def start(self) -> None:
        self.cdp.send("Tracing.start", {"transferMode": "ReturnAsStream",
                                        "traceConfig": {"includedCategories": self.categories,
                                                        "recordMode": "recordAsMuchAsPossible"}})

    def stop(self, page, path: Path) -> None:
        t = time.monotonic()
        self.cdp.send("Tracing.end")
        while not self.done and time.monotonic() - t < 120:
            page.wait_for_timeout(100)   # lets Playwright deliver the tracingComplete event
        if not self.done:
            raise BenchError("the trace never completed")
        handle, chunks = self.done["stream"], []
        while True:
            got = self.cdp.send("IO.read", {"handle": handle, "size": 1 << 22})
            chunks.append(base64.b64decode(got["data"]) if got.get("base64Encoded") else got["data"].encode())
            if got.get("eof"):
                break
        self.cdp.send("IO.close", {"handle": handle})
        data = b"".join(chunks)
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wb", compresslevel=3) as f:
            f.write(data)
        self.saved = {"path": str(path), "bytes": len(data), "data_loss": self.done.get("dataLossOccurred"),
                      "read_s": round(time.monotonic() - t, 1)}
        self.data = data


def traced_visit(base: str, engine: str, kind: str, quota: float | None, raw: Path,
                 categories: list[str]) -> tuple[dict, dict, bytes]:
    """(the traced visit's entry as bench/cold.py records it, the tracer's notes, the raw trace)."""
    clip = make_clips(["one_face"])["one_face"]
    from bench.site import Traffic

    traffic = Traffic()   # the bytes are not this tool's subject; a counter of its own
    timeout = 180.0
    with measured_browser(clip, "wasm", quota) as (context, group, browser):
        if kind == "return":
            first = visit(context, base, engine, "wasm", traffic, timeout, group=group)
            if first.get("error"):
                raise BenchError(f"the first visit failed: {first['error']}")
            log("first visit done (untraced); tracing the return visit")
        tracer = Tracer(context, categories)
        tracer.start()
        entry = visit(context, base, engine, "wasm", traffic, timeout, group=group,
                      on_answer=lambda page: tracer.stop(page, raw))
        entry["browser"] = browser
    return entry, tracer.saved, tracer.data


def summarise_visit(entry: dict, data: bytes, engine: str, base: str) -> dict:
    events = json.loads(data)
    events = events["traceEvents"] if isinstance(events, dict) else events
    url = app_url(base, "wasm", engine) if engine in ("worker", "page") else (
        f"{base}bench/human.html?backend=wasm&mode=default" if engine == "human" else f"{base}bench/pyodide_floor.html")
    nav = trace_summary.navigation(events, url)
    if nav is None:
        raise BenchError(f"no navigationStart to {url} in the trace")
    marks = {k: v for k, v in (entry.get("marks_ms") or {}).items() if isinstance(v, (int, float))}
    answer = marks.get(ANSWER_MARK[engine])
    if answer is None:
        raise BenchError(f"the visit has no {ANSWER_MARK[engine]} mark: {entry.get('error', '?')}")
    summary = trace_summary.summarise(events, nav[0], answer, marks, page_pid=nav[1])
    threads = {(e.get("pid"), e.get("tid")) for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"
               and e["args"]["name"] == "DedicatedWorker thread"}
    cache = [e for e in events if str(e.get("name", "")).startswith("v8.wasm.") and "ache" in e["name"]]
    summary["checks"] = {"worker_threads": len(threads),
                         "worker_events": sum(1 for e in events if (e.get("pid"), e.get("tid")) in threads),
                         "wasm_compile_events": sum(1 for e in events if str(e.get("name", "")).startswith("wasm.")
                                                    and "Compil" in e["name"]),
                         # V8's wasm code cache: made (cachedModule, with its size) and read (moduleCacheHit)
                         "wasm_code_cache": [[e["name"][8:], (e.get("args") or {}).get("producedCacheSize")
                                              or (e.get("args") or {}).get("url")] for e in cache]}
    summary["cgroup_cpu_s"] = (entry.get("cpu") or {}).get("cpu_s")
    return summary


def resummarise(path: Path) -> None:
    """Sums a summary's raw trace again (after a change to bench/trace_summary.py), in place."""
    result = json.loads(path.read_text())
    data = gzip.open(REPO / result["raw_trace"]["path"]).read()
    entry = {"marks_ms": result["visit_marks_ms"], "cpu": result["visit_cpu"]}
    summary = summarise_visit(entry, data, result["engine"], "http://host/")
    result.update(summary)
    result["table_md"] = trace_summary.table(summary, result["table_md"].split("\n", 1)[0])
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    log(f"summed {result['raw_trace']['path']} again into {path}")


def run(args) -> Path:
    date = _dt.date.today().isoformat()
    why = unavailable()
    quota = (args.phone_quota or 0.5) if (args.phone or args.phone_quota) else None
    if why:
        log(f"no cgroup CPU-seconds{' and no phone quota' if quota else ''}: {why}")
        quota = None
    name = (f"{date}-trace-{args.engine}-{args.visit}" + ("-phone" if quota else "") + ("-samples" if args.samples else "")
            + (f"-{args.label}" if args.label else ""))
    categories = CATEGORIES + ([SAMPLES] if args.samples else []) + (DETAILED if args.detailed else [])
    raw = REPO / "build" / "bench" / "traces" / f"{name}.json.gz"
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="moodcam-trace-"))
    with serving(bench_site(args.dist.resolve() if args.dist else None, work, log)) as (server, _traffic):
        entry, saved, data = traced_visit(server.url, args.engine, args.visit, quota, raw, categories)
        summary = summarise_visit(entry, data, args.engine, server.url)
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    saved["path"] = str(Path(saved["path"]).relative_to(REPO))
    result = {"format": "moodcam-trace/1", "date": date, "engine": args.engine, "visit": args.visit,
              "phone_quota_cores": quota, "categories": categories, "raw_trace": saved,
              "machine": {"cpus": os.cpu_count(), "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
                          "note": args.note or "shared machine"},
              "visit_cpu": entry.get("cpu"), "visit_phases_ms": entry.get("phases"), "browser": entry.get("browser"),
              "visit_marks_ms": entry.get("marks_ms"),
              **summary}
    result["table_md"] = trace_summary.table(summary, f"### {args.engine}, {args.visit} visit"
                                             + (f", whole browser at {quota} of a core" if quota else ", full speed")
                                             + f" ({date})")
    out = args.out / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(result["table_md"])
    log(f"wrote {out.relative_to(REPO) if out.is_relative_to(REPO) else out}; raw trace {saved['path']} "
        f"({saved['bytes'] / 1e6:.0f} MB uncompressed)")
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.trace", description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=COLD_ENGINES, default="worker")
    p.add_argument("--visit", choices=["first", "return"], default="return")
    p.add_argument("--phone", action="store_true", help="the whole browser under the CPU quota (bench/cpu.py)")
    p.add_argument("--phone-quota", type=float, default=None, metavar="Q", help="the quota in cores (default 0.5)")
    p.add_argument("--detailed", action="store_true",
                   help="add V8's per-function compile and wasm's per-unit events (many more events, more overhead)")
    p.add_argument("--samples", action="store_true", help="add V8's sampling profiler: JS entry points split into "
                   "Python, TF.js, Pyodide's glue, moodcam's JS (costs about 1.4 CPU-s more on a return visit)")
    p.add_argument("--dist", type=Path, default=None, help="a built site (default: build into build/bench/dist)")
    p.add_argument("--out", type=Path, default=REPO / "bench" / "results", help="folder for the summary JSON")
    p.add_argument("--label", default="", help="added to the file names")
    p.add_argument("--note", default="", help="stored with the summary (what else ran on the machine)")
    p.add_argument("--resummarise", nargs="+", type=Path, metavar="SUMMARY",
                   help="sum these summaries' raw traces (build/bench/traces) again, in place, and exit")
    p.add_argument("--diff", nargs=2, type=Path, metavar=("OURS", "FLOOR"),
                   help="print the per-kind difference of two summaries and exit")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.diff:
        a, b = (json.loads(p.read_text()) for p in args.diff)
        print(trace_summary.diff_table(a, b, (f"{a['engine']} {a['visit']}", f"{b['engine']} {b['visit']}")))
        return 0
    if args.resummarise:
        for path in args.resummarise:
            resummarise(path)
        return 0
    return exit_status("bench.trace", lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
