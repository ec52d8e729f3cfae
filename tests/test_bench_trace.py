"""bench/trace_summary.py's arithmetic on a tiny synthetic Chromium trace: nesting, self CPU (thread time), the
window's clipping, the kinds of work, the CPU profiler's samples splitting a JS entry point, and the phase
windows. Figures only: nothing in bench/ asserts a timing."""
from __future__ import annotations

import pytest

from bench.trace_summary import (ENGINE_RUN, JS_RUN, Node, diff_table, navigation, own_kind, phase_windows, sample_kind,
                                 summarise, table)

K = 1000   # µs per unit below: the summary drops entries under 0.5 ms


def meta(pid: int, tid: int | None, kind: str, name: str) -> dict:
    return {"ph": "M", "pid": pid, "tid": tid or 0, "name": kind, "args": {"name": name}}


def x(pid: int, tid: int, ts: float, dur: float, tdur: float | None, name: str, **args) -> dict:
    e = {"ph": "X", "pid": pid, "tid": tid, "ts": ts * K, "dur": dur * K, "name": name, "cat": "test", "args": args}
    if tdur is not None:
        e["tdur"] = tdur * K
    return e


def trace() -> list[dict]:
    py = "http://x/vendor/pyodide-0.27.7/pyodide.asm.wasm"
    return [
        meta(1, None, "process_name", "Renderer"), meta(2, None, "process_name", "Browser"),
        meta(1, 10, "thread_name", "DedicatedWorker thread"), meta(1, 11, "thread_name", "ThreadPoolForegroundWorker"),
        meta(2, 20, "thread_name", "CrBrowserMain"),
        {"ph": "R", "pid": 1, "tid": 12, "ts": 1000 * K, "name": "navigationStart", "cat": "blink.user_timing",
         "args": {"data": {"documentLoaderURL": "http://x/", "isOutermostMainFrame": True}}},
        # the worker: a task (8 of 10 units on the CPU) running Python, with a lazy compile inside; a GC after the
        # window's end (B/E pair)
        x(1, 10, 1000, 10000, 8000, "ThreadControllerImpl::RunTask"),
        x(1, 10, 1000, 9000, 7000, "FunctionCall", data={"url": "http://x/vendor/pyodide-0.27.7/pyodide.asm.js"}),
        x(1, 10, 2000, 1000, 1000, "wasm.CompileLazy"),
        {"ph": "B", "pid": 1, "tid": 10, "ts": 10200 * K, "tts": 100 * K, "name": "V8.GC_SCAVENGER", "cat": "v8"},
        {"ph": "E", "pid": 1, "tid": 10, "ts": 10700 * K, "tts": 600 * K},
        # a background compile thread: tier-up
        x(1, 11, 3000, 4000, 3000, "ThreadPool_RunTask"),
        x(1, 11, 3000, 4000, 3000, "wasm.TopTierCompilation"),
        # the browser: a task half before navigation
        x(2, 20, 500, 1000, 1000, "ThreadControllerImpl::RunTask"),
        # the profiler on the worker: Python, (in the lazy compile), TF.js's JS, Python
        {"ph": "P", "pid": 1, "tid": 10, "id": "0x1", "name": "Profile", "ts": 1000 * K,
         "args": {"data": {"startTime": 1000 * K}}},
        {"ph": "P", "pid": 1, "tid": 99, "id": "0x1", "name": "ProfileChunk", "ts": 1001 * K, "args": {"data": {
            "cpuProfile": {"nodes": [{"id": 1, "callFrame": {"functionName": "(root)"}},
                                     {"id": 2, "parent": 1, "callFrame": {"functionName": "f", "codeType": "wasm",
                                                                          "url": py}},
                                     {"id": 3, "parent": 1, "callFrame": {"functionName": "g", "codeType": "JS",
                                                                          "url": "http://x/vendor/tf.es2017.min.js"}},
                                     {"id": 4, "parent": 3, "callFrame": {"functionName": "push", "codeType": "JS"}}],
                           "samples": [2, 2, 4]},
            "timeDeltas": [500 * K, 1000 * K, 1000 * K]}}},
        {"ph": "P", "pid": 1, "tid": 99, "id": "0x1", "name": "ProfileChunk", "ts": 1002 * K, "args": {"data": {
            "cpuProfile": {"samples": [2]}, "timeDeltas": [1000 * K]}}},
    ]


def test_the_summary_of_a_tiny_trace():
    events = trace()
    nav = navigation(events, "http://x/")
    assert nav == (1000 * K, 1)
    s = summarise(events, nav[0], 9000.0, {"numpy-imported": 5000.0}, page_pid=nav[1])
    kinds = s["kinds"]
    # FunctionCall: 7 CPU - 1 (lazy compile) = 6, split by its three samples: Python 2, TF.js (the leaf-most
    # frame with a URL) 1
    assert kinds["Python runtime (wasm: pyodide.asm.wasm)"] == pytest.approx(4.0)
    assert kinds["TF.js (JS)"] == pytest.approx(2.0)
    assert kinds["wasm lazy compile (Liftoff, on the calling thread)"] == pytest.approx(1.0)
    assert kinds["wasm tier-up (TurboFan, background)"] == pytest.approx(3.0)
    # the task's own 0.5 unit (8 - 7 - the GC's 0.5, which lies outside the window), 9 of its 10 units in it
    assert kinds["other work in tasks (not instrumented)"] == pytest.approx(0.45)
    assert kinds["browser process"] == pytest.approx(0.5)   # half of it after navigation
    assert "GC (V8 and Blink)" not in kinds
    assert s["threads"]["page renderer: DedicatedWorker thread"] == pytest.approx(7.45)
    assert s["threads"]["page renderer: ThreadPoolForegroundWorker"] == pytest.approx(3.0)
    assert s["trace_cpu_s"] == pytest.approx(10.95)
    assert s["profiler_samples_in_window"] == 4
    first, second = s["phases"]
    assert (first["phase"], first["to_ms"]) == ("navigation → numpy-imported", 5000.0)
    assert first["cpu_s"] + second["cpu_s"] == pytest.approx(10.95, abs=0.01)
    assert "| page renderer: DedicatedWorker thread | 7.450 | 68% |" in table(s)
    assert "| wasm tier-up (TurboFan, background) | 3.000 | 3.000 | +0.000 |" not in diff_table(s, s)
    assert "| **traced total** | 10.950 | 10.950 | +0.000 |" in diff_table(s, s)


def test_kinds_of_work():
    def kind(name: str, inherited: str = "", **args) -> str:
        return own_kind(Node(0, 1, None, name, "", args), inherited)

    assert kind("EvaluateScript", data={"url": "http://x/vendor/tf.es2017.min.js"}).startswith("script: tf.es2017.min.js")
    assert kind("V8.ParseFunction", "script: a.js (compile + top-level run)").startswith("script: a.js")
    assert kind("wasm.SyncCompile").startswith("wasm compile: module not named")
    assert kind("V8.GC_MARK_COMPACTOR") == "GC (V8 and Blink)"
    assert kind("Receive mojo message") == "IPC (mojo) and task dispatch"
    assert kind("ThreadControllerImpl::RunTask") == ""
    assert kind("FunctionCall", data={"url": "http://x/pyodide.asm.js"}).startswith("Python runtime, entered")


def test_sample_kinds_take_the_leaf_most_frame_with_a_url():
    assert sample_kind([{"functionName": "(idle)"}]) is None
    assert sample_kind([{"functionName": "(garbage collector)"}]) == "GC (V8 and Blink)"
    assert sample_kind([{"functionName": "x", "codeType": "wasm", "url": "wasm://wasm/009f55fa"}]).startswith(
        "wasm compiled from bytes")
    assert sample_kind([{"functionName": "get"}, {"functionName": "h", "url": "http://x/app/engine.js"}]) == \
        "moodcam JS (app/)"


def test_phase_windows_skip_marks_outside_the_visit():
    assert phase_windows({"a": 100.0, "late": 5000.0, "none": None}, 1000.0) == [  # type: ignore[dict-item]
        ("navigation → a", 0.0, 100.0), ("a → answer", 100.0, 1000.0)]


def test_js_runs_on_a_worker_of_the_page_are_the_engines():
    events = [meta(1, None, "process_name", "Renderer"), meta(1, 10, "thread_name", "DedicatedWorker thread"),
              meta(1, 12, "thread_name", "CrRendererMain"),
              x(1, 10, 0, 1000, 800, "RunMicrotasks"), x(1, 12, 0, 1000, 600, "RunMicrotasks")]
    kinds = summarise(events, 0.0, 1000.0, page_pid=1)["kinds"]
    assert kinds[ENGINE_RUN] == pytest.approx(0.8) and kinds[JS_RUN] == pytest.approx(0.6)
